"""The JSON API: authentication by session or bearer token, branch limits, sealing, errors."""

from __future__ import annotations

import json
from datetime import date

import pytest

from survey.db import db
from survey.identity.tokens import token_hash
from survey.models import ApiToken, Role, Source, SurveyState
from tests.helpers.results import record_response, report_dict
from tests.helpers.web import sign_in_as

TOKEN = "test-token-5f0c2d9a7b1e4c3d8a6f"
REPORT = "/api/v1/surveys/{}/report"


def submit(survey, branch, n, option="good", category="member", source=Source.WEB):
    """Store ``n`` responses answering every item with ``option``."""
    with db.transaction():
        for index in range(n):
            chosen = survey.options[index % 4].id if option == "mixed" else survey.option(option).id
            answers = {item.id: chosen for item in survey.items}
            record_response(survey, branch.id, survey.category(category).id, answers, None, source)


@pytest.fixture
def data(make_survey, make_branch, make_user):
    """A closed survey over branches a (12), b (3, suppressed), c (6, complementary), e (35);
    an open sealed one; an admin, a supervisor and the viewer of branch a."""
    closed = make_survey("stage4", state=SurveyState.CLOSED)
    earlier = make_survey("stage2", state=SurveyState.CLOSED)
    sealed = make_survey("running", state=SurveyState.OPEN)
    branches = {code: make_branch(code) for code in "abce"}
    for code, n in {"a": 12, "b": 3, "c": 6, "e": 35}.items():
        submit(closed, branches[code], n, option="mixed")
        submit(earlier, branches[code], n, option="average")
    submit(sealed, branches["a"], 7)
    return {
        "closed": closed,
        "earlier": earlier,
        "sealed": sealed,
        "branches": branches,
        "admin": make_user("admin", Role.ADMIN),
        "supervisor": make_user("supervisor", Role.SUPERVISOR),
        "viewer": make_user("viewer", Role.BRANCH_VIEWER, branch=branches["a"]),
    }


def with_token(user, revoked: bool = False) -> dict[str, str]:
    """An API token for ``user``; returns the request headers that carry it."""
    db.session.add(
        ApiToken(
            user_id=user.id,
            name="tool",
            token_hash=token_hash(TOKEN),
            revoked_on=date.today() if revoked else None,
        )
    )
    db.session.commit()
    return {"Authorization": f"Bearer {TOKEN}"}


def body(response):
    """The JSON body; also checks that it parses without NaN or Infinity."""
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the body"))


@pytest.mark.parametrize("path", ["stage4/report", "stage4/turnout", "nope/report"])
def test_anonymous_requests_get_401(web, data, path):
    response = web.get(f"/api/v1/surveys/{path}")
    assert response.status_code == 401
    assert body(response)["status"] == 401


def test_a_session_reads_the_report(web, data):
    sign_in_as(web, data["supervisor"])
    response = web.get(REPORT.format("stage4"))
    assert response.status_code == 200
    report = body(response)
    assert report == json.loads(json.dumps(report_dict(data["closed"])))
    assert [b["code"] for b in report["branches"]] == ["a", "b", "c", "e"]
    suppressed = [b for b in report["branches"] if b["suppressed"]]
    assert [b["code"] for b in suppressed] == ["b", "c"]
    assert all(
        set(b) == {"code", "name", "respondents", "suppressed", "status"} for b in suppressed
    )
    assert response.headers["Cache-Control"] == "no-store"


def test_a_stale_session_is_refused(web, data):
    user = data["admin"]
    with web.session_transaction() as session:
        session["user_id"] = user.id
        session["auth"] = "not-the-current-marker"
    assert web.get(REPORT.format("stage4")).status_code == 401


def test_a_bearer_token_reads_the_report(web, data):
    headers = with_token(data["admin"])
    response = web.get(REPORT.format("stage4"), headers=headers)
    assert response.status_code == 200
    assert body(response)["respondents"] == 56


def test_a_revoked_or_unknown_token_is_refused(web, data):
    headers = with_token(data["admin"], revoked=True)
    assert web.get(REPORT.format("stage4"), headers=headers).status_code == 401
    wrong = {"Authorization": "Bearer something-else"}
    assert web.get(REPORT.format("stage4"), headers=wrong).status_code == 401


def test_a_branch_viewer_sees_only_its_branch(web, data):
    response = web.get(REPORT.format("stage4"), headers=with_token(data["viewer"]))
    assert response.status_code == 200
    report = body(response)
    assert [b["code"] for b in report["branches"]] == ["a"]
    compared = body(
        web.get(REPORT.format("stage4") + "?compare=stage2", headers=with_token_header())
    )
    assert set(compared["comparison"]["branches"]) <= {"a"}
    turnout = body(web.get("/api/v1/surveys/stage4/turnout", headers=with_token_header()))
    assert [row["code"] for row in turnout["branches"]] == ["a"]
    assert turnout["total"]["web_responses"] == 56


def with_token_header() -> dict[str, str]:
    """The header of the token already stored by :func:`with_token`."""
    return {"Authorization": f"Bearer {TOKEN}"}


def test_sealed_results_give_409_with_turnout_only(web, data):
    """Sealed results are a conflict with the survey's state (it is still open), answered as on
    the results pages: 409, with the turnout, which is never sealed."""
    sign_in_as(web, data["admin"])
    response = web.get(REPORT.format("running"))
    assert response.status_code == 409
    payload = body(response)
    assert set(payload) == {"error", "status", "sealed", "survey", "turnout"}
    assert payload["sealed"] is True and payload["survey"] == "running"
    assert "after the survey closes" in payload["error"]
    rows = {row["code"]: row for row in payload["turnout"]["branches"]}
    assert rows["a"]["web_responses"] == 7
    text = response.get_data(as_text=True)
    for figure in ("favourable_rate", "score_mean", "counts", "items", "overall"):
        assert figure not in text
    # Comparing with a sealed survey is sealed too.
    response = web.get(REPORT.format("stage4") + "?compare=running")
    assert response.status_code == 409 and body(response)["survey"] == "running"


def test_turnout_is_never_sealed(web, data):
    sign_in_as(web, data["admin"])
    response = web.get("/api/v1/surveys/running/turnout")
    assert response.status_code == 200
    payload = body(response)
    assert payload["survey"] == "running"
    assert payload["total"]["web_responses"] == 7
    assert payload["total"]["turnout_rate"] is None


def test_compare_adds_a_comparison(web, data):
    sign_in_as(web, data["supervisor"])
    response = web.get(REPORT.format("stage4") + "?compare=stage2")
    assert response.status_code == 200
    comparison = body(response)["comparison"]
    assert comparison["against"] == "stage2"
    assert set(comparison["overall"]) == {"q1", "q2", "q3"}
    assert set(comparison["branches"]) == {"a", "e"}
    assert set(comparison["overall"]["q1"]) >= {"diff", "diff_ci", "p", "mann_whitney_p"}


@pytest.mark.parametrize("path", ["nope/report", "stage4/report?compare=nope", "nope/turnout"])
def test_unknown_surveys_give_404_json(web, data, path):
    sign_in_as(web, data["admin"])
    response = web.get(f"/api/v1/surveys/{path}")
    assert response.status_code == 404
    payload = body(response)
    assert payload["status"] == 404 and "nope" in payload["error"]


def test_the_report_only_answers_get(web, data):
    response = web.post(REPORT.format("stage4"), headers=with_token(data["admin"]))
    assert response.status_code == 405
    assert body(response)["status"] == 405
