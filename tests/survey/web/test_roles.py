"""Each role sees what it may: admins and supervisors everything, a branch viewer only its own
branch, and an anonymous visitor nothing but the sign-in page."""

from __future__ import annotations

import html

import pytest

from survey.models import Role, SurveyState
from tests.conftest import add_responses, isolated_client, sign_in

RESULT_PAGES = (
    "/results/",
    "/results/campaigns/xjx",
    "/results/campaigns/xjx/compare?a=pingyi&b=manyi",
    "/results/surveys/pingyi",
    "/results/surveys/pingyi/branches/b01",
    "/results/surveys/pingyi/branches/b02",
    "/results/surveys/pingyi/export.xlsx",
    "/results/surveys/pingyi/export.csv",
)


@pytest.fixture
def world(app, make_branch, make_survey, make_user):
    """Two closed stages with two shown branches, and one account per role."""
    before = make_survey("pingyi", items=2, state=SurveyState.CLOSED)
    after = make_survey("manyi", items=2, state=SurveyState.CLOSED)
    b01, b02 = make_branch("b01", "第一支部"), make_branch("b02", "第二支部")
    for survey in (before, after):
        add_responses(survey, b01, {"good": 8, "poor": 2}, comments=["第一支部的意見"])
        add_responses(survey, b02, {"good": 3, "average": 5}, comments=["第二支部的意見"])
    make_user("admin", Role.ADMIN)
    make_user("supervisor", Role.SUPERVISOR)
    make_user("viewer", Role.BRANCH_VIEWER, branch=b01)
    return app


def client_for(app, username: str | None):
    """An English-speaking browser, signed in as ``username`` (or anonymous)."""
    client = isolated_client(app)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if username is not None:
        assert sign_in(client, username).status_code == 302
    return client


def fetch(client, address: str) -> tuple[int, str]:
    """Status and text of a page (downloads are closed after reading)."""
    response = client.get(address)
    body = response.get_data()
    response.close()
    text = body.decode("utf-8", "replace")
    return response.status_code, html.unescape(text)


def test_anonymous_visitors_are_sent_to_sign_in(world):
    client = client_for(world, None)
    for address in RESULT_PAGES + ("/audit", "/account"):
        response = client.get(address)
        assert response.status_code == 302, address
        assert response.headers["Location"].startswith("/login?next="), address


@pytest.mark.parametrize("username", ["admin", "supervisor"])
def test_admins_and_supervisors_read_every_branch_and_export(world, username):
    client = client_for(world, username)
    for address in RESULT_PAGES:
        status, _text = fetch(client, address)
        assert status == 200, address
    _status, survey_page = fetch(client, "/results/surveys/pingyi")
    assert "第一支部" in survey_page and "第二支部" in survey_page
    _status, other = fetch(client, "/results/surveys/pingyi/branches/b02")
    assert "第二支部的意見" in other


def test_only_admins_read_the_audit_log(world):
    assert fetch(client_for(world, "admin"), "/audit")[0] == 200
    assert fetch(client_for(world, "supervisor"), "/audit")[0] == 403
    assert fetch(client_for(world, "viewer"), "/audit")[0] == 403
    _status, page = fetch(client_for(world, "supervisor"), "/results/")
    assert 'href="/audit"' not in page
    _status, page = fetch(client_for(world, "admin"), "/results/")
    assert 'href="/audit"' in page


def test_branch_viewer_sees_only_their_branch(world):
    client = client_for(world, "viewer")
    status, own = fetch(client, "/results/surveys/pingyi/branches/b01")
    assert status == 200
    assert "第一支部的意見" in own
    assert "第二支部" not in own
    assert fetch(client, "/results/surveys/pingyi/branches/b02")[0] == 404
    assert fetch(client, "/results/surveys/pingyi/branches/nope")[0] == 404
    # The survey page leads a branch viewer to their own branch.
    response = client.get("/results/surveys/pingyi")
    assert response.status_code == 302
    assert response.headers["Location"] == "/results/surveys/pingyi/branches/b01"


def test_branch_viewer_cannot_export(world):
    client = client_for(world, "viewer")
    assert fetch(client, "/results/surveys/pingyi/export.xlsx")[0] == 403
    assert fetch(client, "/results/surveys/pingyi/export.csv")[0] == 403
    assert fetch(client, "/results/surveys/pingyi/export.csv?compare=manyi")[0] == 403
    _status, page = fetch(client, "/results/surveys/pingyi/branches/b01")
    assert "export." not in page


def test_branch_viewer_comparison_and_overview_hold_only_their_branch(world):
    client = client_for(world, "viewer")
    status, page = fetch(client, "/results/campaigns/xjx/compare?a=pingyi&b=manyi")
    assert status == 200
    assert "第一支部" in page
    assert "第二支部" not in page
    status, page = fetch(client, "/results/campaigns/xjx")
    assert status == 200
    assert "第二支部" not in page
    status, page = fetch(client, "/results/")
    assert status == 200
    assert "You can read the results of 第一支部." in page
