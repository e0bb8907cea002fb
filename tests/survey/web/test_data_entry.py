"""The data-entry role keys paper ballots and nothing else; two keyings need two accounts."""

from __future__ import annotations

import html
import re

import pytest
from flask import url_for
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from survey.auth.access import KEYING_ENDPOINTS
from survey.db import db
from survey.models import AuditEntry, BallotDraft, Role, SurveyState, User
from survey.refusals import Forbidden
from survey.services import own_account
from survey.services.ballot_drafts import GRID, create_draft
from tests.helpers.dbstate import snapshot
from tests.helpers.web import token

REFUSAL = "A data-entry account can only key in paper ballots; this page is not open to it."
REFUSAL_HANT = "錄入員帳號只能錄入紙質測評票，不能打開這個頁面。"
ROW = {"branch": "b01", "category": "member", "q1": "good", "q2": "", "q3": ""}
#: Pages every signed-in account keeps: signing out and its own password.
OWN_ACCOUNT = {"auth.login", "auth.logout", "auth.edit_account"}


@pytest.fixture
def world(make_survey, make_branch, make_user):
    """An open survey with a batch keyed by the office, and a second survey and campaign."""
    make_branch("b01", "第一支部")
    survey = make_survey("pingyi", items=3, comments=True)
    keyer = make_user("keyer")
    draft = create_draft(keyer, survey, [ROW], GRID, "keyed")
    return {"survey": survey, "draft": draft}


@pytest.fixture
def clerk(signed_in):
    return signed_in(Role.DATA_ENTRY, username="clerk")


def _grid_token(client, survey) -> str:
    return token(client, f"/manage/surveys/{survey.id}/ballots/key")


def _every_url(app, world) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every page and API view an office account could use."""
    survey, draft = world["survey"], world["draft"]
    params = {
        "survey_id": survey.id,
        "draft_id": draft.id,
        "slug": survey.slug,
        "code": "b01",
        "fmt": "xlsx",
        "direction": "up",
    }
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            area = rule.endpoint.split(".")[0]
            if area not in {"manage", "results", "api", "auth"} or rule.endpoint in OWN_ACCOUNT:
                continue
            values = {name: params.get(name, 1) for name in rule.arguments}
            try:
                url = url_for(rule.endpoint, **values)
            except BuildError:  # a new kind of address: name its parameter above
                pytest.fail(f"no test value for an argument of {rule.endpoint}: {rule.rule}")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return found


def test_data_entry_is_refused_everything_but_keying(app, clerk, world):
    """Every office page, export and API view answers 403 with the reason; keying pages open."""
    urls = _every_url(app, world)
    assert len(urls) >= 50
    csrf = _grid_token(clerk, world["survey"])
    before = snapshot()
    opened = set()
    for endpoint, method, url in urls:
        if endpoint in KEYING_ENDPOINTS:
            continue
        data = {"csrf_token": csrf} if method == "POST" else None
        response = clerk.open(url, method=method, data=data)
        assert response.status_code == 403, (endpoint, method, url, response.status_code)
        if url.startswith("/api/"):
            assert response.get_json()["error"] == REFUSAL
        else:
            assert REFUSAL in html.unescape(response.get_data(as_text=True)), url
    assert snapshot() == before
    for endpoint, method, url in urls:
        if endpoint in KEYING_ENDPOINTS and method == "GET":
            response = clerk.get(url)
            # Settling a batch not yet keyed twice leads on to the batch.
            assert response.status_code in {200, 302}, (endpoint, url, response.status_code)
            opened.add(endpoint)
    assert opened == KEYING_ENDPOINTS - {"manage.discard_ballots"}


def test_the_refusal_speaks_the_readers_language(clerk, world):
    clerk.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-Hant"
    response = clerk.get(f"/results/surveys/{world['survey'].slug}")
    assert response.status_code == 403
    assert REFUSAL_HANT in response.get_data(as_text=True)


def test_an_api_token_of_a_data_entry_account_opens_nothing(clerk, world, make_user):
    user = db.session.scalar(select(User).where(User.username == "clerk"))
    with pytest.raises(Forbidden):
        own_account.create_token(user, "script", from_cli=True)
    # A token made while the account had another role opens nothing either.
    user.role = Role.SUPERVISOR
    db.session.commit()
    created = own_account.create_token(user, "script", from_cli=True)
    user.role = Role.DATA_ENTRY
    db.session.commit()
    for path in ("turnout", "report"):
        response = clerk.application.test_client().get(
            f"/api/v1/surveys/pingyi/{path}",
            headers={"Authorization": f"Bearer {created.plain}"},
        )
        assert response.status_code == 403
        assert response.get_json()["error"] == REFUSAL
    # The account page offers no token to a data-entry account, but its password form.
    page = clerk.get("/account").get_data(as_text=True)
    assert "Change password" in page and "API tokens" not in page


def test_data_entry_signs_in_to_the_keying_list(app, make_user, world):
    from tests.conftest import sign_in

    make_user("clerk", Role.DATA_ENTRY)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = sign_in(client, "clerk")
    assert response.headers["Location"].endswith("/manage/keying")
    page = client.get("/manage/keying").get_data(as_text=True)
    assert world["survey"].title in page
    # Only keying is linked: no results, turnout, codes or administration.
    links = set(re.findall(r'href="(/[^"]*)"', page))
    assert all(
        link == "/"
        or link.startswith(("/manage/keying", "/manage/surveys/", "/account", "/lang/", "/static/"))
        for link in links
    ), links
    assert not any("/turnout" in link or "/codes" in link for link in links)
    ballots = client.get(f"/manage/surveys/{world['survey'].id}/ballots").get_data(as_text=True)
    survey_links = set(re.findall(r'href="(/manage/surveys/[^"]*)"', ballots))
    assert survey_links and all("/ballots" in link for link in survey_links), survey_links


def test_a_draft_survey_is_not_offered_for_keying(clerk, make_survey, world):
    make_survey("later", state=SurveyState.DRAFT)
    page = clerk.get("/manage/keying").get_data(as_text=True)
    assert f"/manage/surveys/{world['survey'].id}/ballots" in page
    assert page.count('href="/manage/surveys/') == 1


def test_the_second_keying_needs_another_account(admin, clerk, world):
    """The first keyer is refused the blind second keying and settling, whatever the role."""
    survey = world["survey"]
    response = admin.post(
        f"/manage/surveys/{survey.id}/ballots/key",
        data={
            "csrf_token": _grid_token(admin, survey),
            "submit": "1",
            "ballots-0-branch": "b01",
            "ballots-0-category": "member",
            "ballots-0-item0": "good",
        },
    )
    assert response.status_code == 302
    own = db.session.scalar(select(BallotDraft).order_by(BallotDraft.number.desc()))
    verify = f"/manage/surveys/{survey.id}/ballots/{own.id}/verify"
    refused = admin.get(verify)
    assert refused.status_code == 403
    message = f"You keyed batch {own.number} yourself."
    assert message in html.unescape(refused.get_data(as_text=True))
    before = snapshot()
    grid = {
        "csrf_token": _grid_token(admin, survey),
        "submit": "1",
        "ballots-0-branch": "b01",
        "ballots-0-category": "member",
        "ballots-0-item0": "good",
    }
    assert admin.post(verify, data=grid).status_code == 403
    assert snapshot() == before
    # The clerk may key it; disagreeing sends it to settling, which the office keyed and so
    # may not settle either.
    grid["csrf_token"] = _grid_token(clerk, survey)
    grid["ballots-0-item0"] = "poor"
    response = clerk.post(verify, data=grid)
    assert response.headers["Location"].endswith(f"/ballots/{own.id}/resolve")
    assert admin.get(f"/manage/surveys/{survey.id}/ballots/{own.id}/resolve").status_code == 403
    listing = admin.get(f"/manage/surveys/{survey.id}/ballots").get_data(as_text=True)
    assert "Waiting for another person" in listing


def test_a_clerk_discards_only_own_batches_and_uploads_nothing(clerk, world):
    survey = world["survey"]
    csrf = _grid_token(clerk, survey)
    base = f"/manage/surveys/{survey.id}/ballots"
    before = snapshot()
    response = clerk.post(f"{base}/{world['draft'].id}/discard", data={"csrf_token": csrf})
    assert response.status_code == 403
    assert "Only the office or the person who keyed a batch can discard it." in html.unescape(
        response.get_data(as_text=True)
    )
    assert clerk.get(f"{base}/upload").status_code == 403
    assert clerk.post(f"{base}/{world['draft'].id}/commit", data={"csrf_token": csrf}).status_code
    assert snapshot() == before
    grid = {
        "csrf_token": csrf,
        "submit": "1",
        "ballots-0-branch": "b01",
        "ballots-0-category": "member",
        "ballots-0-item1": "average",
    }
    assert clerk.post(f"{base}/key", data=grid).status_code == 302
    mine = db.session.scalar(select(BallotDraft).where(BallotDraft.id != world["draft"].id))
    number = mine.number
    assert clerk.post(f"{base}/{mine.id}/discard", data={"csrf_token": csrf}).status_code == 302
    assert db.session.scalar(select(func.count(BallotDraft.id))) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ballots.discard"))
    assert entry.username == "clerk" and entry.detail == f"survey=pingyi batch={number}"


def test_the_office_creates_a_data_entry_account(admin, world):
    page = admin.get("/manage/users/new").get_data(as_text=True)
    assert "Data entry (keys paper ballots, sees nothing else)" in page
    response = admin.post(
        "/manage/users/new",
        data={
            "csrf_token": token(admin, "/manage/users/new"),
            "username": "clerk2",
            "role": "data_entry",
            "branch": "0",
            "password": "a first password",
            "confirm": "a first password",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "clerk2"))
    assert user.role is Role.DATA_ENTRY and user.branch_id is None


def test_the_command_line_creates_a_data_entry_account_without_a_token(runner, app):
    password = "a long enough password"
    result = runner.invoke(
        args=["create-user", "clerk", "--role", "data_entry", "--password-stdin"],
        input=f"{password}\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.username == "clerk")) is Role.DATA_ENTRY
    result = runner.invoke(args=["create-token", "clerk", "--name", "script"])
    assert result.exit_code == 1
    assert "holds no API token" in result.stderr
