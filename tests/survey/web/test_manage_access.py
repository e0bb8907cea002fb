"""Only administrators reach the administration pages; every page renders for them."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from survey.db import db
from survey.models import Access, AuditEntry, Branch, CodeBatch, Role, SurveyState
from survey.services.ballot_drafts import GRID, create_draft
from tests.helpers.dbstate import snapshot
from tests.helpers.web import sign_in_as, token


@pytest.fixture
def world(app, make_survey, make_branch, make_user, mint):
    """A survey with codes, a ballot draft, a branch and a second account: one of everything."""
    branch = make_branch("b01", "第一支部")
    survey = make_survey("pingyi", state=SurveyState.OPEN)
    mint(survey, branch, 2)
    other = make_user("viewer", Role.SUPERVISOR)
    admin = make_user("office")
    clerk = make_user("clerk", Role.DATA_ENTRY)
    row = {"branch": "b01", "category": "member", "q1": "good", "q2": "", "q3": ""}
    # Keyed by a clerk, so the office may key it a second time.
    draft = create_draft(clerk, survey, [row], GRID, "keyed")
    batch = db.session.scalar(select(CodeBatch))
    link = make_survey("link", state=SurveyState.OPEN, access=Access.LINK)
    return {
        "link_survey_id": link.id,
        "survey_id": survey.id,
        "item_id": survey.items[0].id,
        "branch_id": branch.id,
        "batch_id": batch.id,
        "draft_id": draft.id,
        "user_id": other.id,
        "campaign_id": survey.campaign_id,
        "admin": admin,
        "clerk": clerk,
    }


def _urls(app, world) -> list[tuple[str, str]]:
    """(method, url) of every view of the blueprint, with ids of existing rows."""
    params = {
        "survey_id": world["survey_id"],
        "item_id": world["item_id"],
        "branch_id": world["branch_id"],
        "batch_id": world["batch_id"],
        "draft_id": world["draft_id"],
        "user_id": world["user_id"],
        "campaign_id": world["campaign_id"],
        "direction": "up",
        "fmt": "csv",
    }
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("manage."):
                continue
            values = {name: params[name] for name in rule.arguments}
            if rule.endpoint == "manage.show_poster":  # posters are for open-link surveys
                values["survey_id"] = world["link_survey_id"]
            url = url_for(rule.endpoint, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, url))
    return found


def test_every_view_is_refused_to_other_roles(app, web, world, make_user):
    """Supervisors and branch viewers get 403 everywhere, and nothing changes."""
    viewer = make_user(
        "secretary",
        Role.BRANCH_VIEWER,
        branch=db.session.get(Branch, world["branch_id"]),
    )
    supervisor = db.session.get(type(viewer), world["user_id"])
    urls = _urls(app, world)
    assert len(urls) >= 40
    for account in (supervisor, viewer):
        sign_in_as(web, account)
        csrf = token(web, "/")
        before = snapshot()
        for method, url in urls:
            data = {"csrf_token": csrf} if method == "POST" else None
            response = web.open(url, method=method, data=data)
            assert response.status_code == 403, (account.username, method, url)
        assert snapshot() == before


def test_anonymous_visitors_are_sent_to_sign_in(app, web, world):
    for method, url in _urls(app, world):
        if method != "GET":
            continue
        response = web.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_every_page_renders_for_an_admin(app, web, world):
    """Each GET view answers 200 (or redirects onwards) without a server error."""
    sign_in_as(web, world["admin"])
    for method, url in _urls(app, world):
        if method != "GET":
            continue
        response = web.get(url)
        assert response.status_code in {200, 302}, (url, response.status_code)
    assert web.get("/").status_code == 200


def test_navigation_links_to_the_dashboard(web, world):
    sign_in_as(web, world["admin"])
    page = web.get("/manage/").get_data(as_text=True)
    assert 'href="/manage/"' in page
    assert "測評 pingyi" in page


def test_audit_entries_name_the_admin(web, world):
    sign_in_as(web, world["admin"])
    csrf = token(web)
    web.post(f"/manage/branches/{world['branch_id']}/deactivate", data={"csrf_token": csrf})
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "branch.deactivate"))
    assert (entry.username, entry.detail) == ("office", "branch=b01")
