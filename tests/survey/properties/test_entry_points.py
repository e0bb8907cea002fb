"""Every operation that the command line, the API and the office's pages share gives the same
result and leaves the same audit entry, whichever way it was asked for.

One parametrised test per operation: each entry point runs the operation on a fresh database,
and the test checks what a user would see (the state, the rows, the bytes written, the refusal's
message and status) and the audit trail's ``(action, detail)``. Only the audit entry's user
differs: the command line acts as nobody in particular, the web as the signed-in admin.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    AccessCode,
    ApiToken,
    AuditEntry,
    Branch,
    CodeBatch,
    Role,
    Survey,
    SurveyState,
    User,
)
from tests.conftest import TEST_PASSWORD, add_responses, isolated_client
from tests.helpers.web import hidden, token

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "report"
BRANCHES_CSV = "code,name,parent\nb01,辦公室黨支部,\nb02,工業處黨支部,b01\n"


def audit_trail() -> list[tuple[str, str]]:
    """(action, detail) of every audit entry but sign-ins, oldest first."""
    db.session.expire_all()
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.detail)
        .where(AuditEntry.action.not_like("auth.%"))
        .order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]


def cli(runner, *args: str, stdin: str | None = None):
    """Run a command; returns click's result."""
    return runner.invoke(args=list(args), input=stdin)


def post_form(client, path: str, data: dict, token_from: str, **kwargs):
    """POST a form as the browser would, with the CSRF token of the page it comes from."""
    return client.post(path, data={"csrf_token": token(client, token_from), **data}, **kwargs)


def survey_named(slug: str) -> Survey:
    db.session.expire_all()
    return db.session.scalar(select(Survey).where(Survey.slug == slug))


# --------------------------------------------------------------------------- lifecycle


def _change_state(entry: str, runner, admin, survey: Survey, action: str):
    if entry == "cli":
        command = "close-survey" if action == "close" else "open-survey"
        result = cli(runner, command, survey.slug)
        assert result.exit_code == 0, result.output
        return
    data = {"action": action, "confirmed": "yes"}
    path = f"/manage/surveys/{survey.id}"
    response = post_form(admin, f"{path}/state", data, path)
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_opening_closing_and_reopening(entry, runner, admin, make_survey):
    survey = make_survey("stage", state=SurveyState.DRAFT)
    for action in ("open", "close", "reopen"):
        _change_state(entry, runner, admin, survey, action)
    assert survey_named("stage").state is SurveyState.OPEN
    assert audit_trail() == [
        ("survey.open", "survey=stage state=draft->open"),
        ("survey.close", "survey=stage state=open->closed counted=0 held_back=0"),
        ("survey.reopen", "survey=stage state=closed->open"),
    ]
    flagged = db.session.scalars(select(AuditEntry.action).where(AuditEntry.is_flagged)).all()
    assert flagged == ["survey.reopen"]


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_an_impossible_move_is_refused_alike(entry, runner, admin, make_survey):
    survey = make_survey("stage", state=SurveyState.DRAFT)
    message = 'The survey is draft, so "Close the survey" is not possible now.'
    if entry == "cli":
        result = cli(runner, "close-survey", "stage")
        assert result.exit_code == 1 and message in result.stderr
    else:
        path = f"/manage/surveys/{survey.id}"
        response = post_form(admin, f"{path}/state", {"action": "close", "confirmed": "yes"}, path)
        assert response.status_code == 409
        assert message in response.get_data(as_text=True).replace("&#34;", '"')
    assert survey_named("stage").state is SurveyState.DRAFT and audit_trail() == []


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_minting_codes(entry, runner, admin, make_survey, make_branch, tmp_path):
    survey = make_survey("stage", state=SurveyState.DRAFT)
    branch = make_branch("b01")
    if entry == "cli":
        out = tmp_path / "codes.csv"
        args = ["--branch", "b01", "--category", "member", "--count", "3", "-o", str(out)]
        result = cli(runner, "mint-codes", "stage", *args)
        assert result.exit_code == 0, result.output
        codes = [row["code"] for row in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))]
    else:
        path = f"/manage/surveys/{survey.id}/codes"
        data = {"branch": branch.id, "category": survey.category("member").id, "count": 3}
        page = post_form(admin, path, data, path, follow_redirects=True).get_data(as_text=True)
        codes = re.findall(r"[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}", hidden(page, "codes"))
    assert len(set(codes)) == 3
    stored = db.session.scalar(select(func.count(AccessCode.id)))
    batch = db.session.scalar(select(CodeBatch))
    assert stored == 3 and (batch.branch_id, batch.size) == (branch.id, 3)
    assert audit_trail() == [
        ("codes.mint", f"survey=stage batch={batch.id} branch=b01 category=member count=3")
    ]


# --------------------------------------------------------------------------- imports


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_importing_branches(entry, runner, admin, tmp_path):
    if entry == "cli":
        path = tmp_path / "branches.csv"
        path.write_text(BRANCHES_CSV, encoding="utf-8")
        result = cli(runner, "import-branches", str(path))
        assert result.exit_code == 0, result.output
    else:
        upload = (io.BytesIO(BRANCHES_CSV.encode()), "branches.csv")
        preview = post_form(
            admin, "/manage/branches/import", {"file": upload}, "/manage/branches/import"
        ).get_data(as_text=True)
        confirm = {"payload": hidden(preview, "payload")}
        response = post_form(admin, "/manage/branches/import/confirm", confirm, "/manage/branches")
        assert response.status_code == 302
    rows = db.session.execute(select(Branch.code, Branch.name, Branch.parent_id)).all()
    assert sorted((code, name) for code, name, _p in rows) == [
        ("b01", "辦公室黨支部"),
        ("b02", "工業處黨支部"),
    ]
    assert audit_trail() == [("branches.import", "added=2 updated=0")]


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_importing_paper_ballots(entry, runner, admin, make_survey, make_branch, tmp_path):
    survey = make_survey("stage", items=3, state=SurveyState.CLOSED)
    make_branch("b01")
    rows = "branch,category,q1,q2,q3\n" + "b01,member,good,average,poor\n" * 6
    if entry == "cli":
        path = tmp_path / "ballots.csv"
        path.write_text(rows, encoding="utf-8")
        result = cli(runner, "import-responses", "stage", str(path))
        assert result.exit_code == 0, result.output
    else:
        base = f"/manage/surveys/{survey.id}/ballots"
        upload = {"file": (io.BytesIO(rows.encode()), "ballots.csv")}
        shown = post_form(admin, f"{base}/upload", upload, f"{base}/upload")
        assert shown.status_code == 302
        draft = shown.headers["Location"].rsplit("/", 1)[1]
        committed = post_form(admin, f"{base}/{draft}/commit", {}, f"{base}/{draft}")
        assert committed.status_code == 302
    from tests.helpers.results import report_dict

    assert report_dict(survey_named("stage"))["respondents"] == 6
    (_draft, first), (_commit, second) = audit_trail()
    assert re.fullmatch(r"survey=stage batch=\d+ origin=upload ballots=6", first)
    assert re.fullmatch(r"survey=stage batch=\d+ origin=upload ballots=6", second)
    assert [action for action, _detail in audit_trail()] == ["ballots.draft", "ballots.commit"]


# --------------------------------------------------------------------------- reports


@pytest.fixture
def two_stages(make_survey, make_branch):
    """Two closed stages of one campaign, a closed survey of another, and an open one."""
    stages = {
        "before": make_survey("before", state=SurveyState.CLOSED),
        "after": make_survey("after", state=SurveyState.CLOSED),
        "elsewhere": make_survey("elsewhere", state=SurveyState.CLOSED, campaign="other"),
        "running": make_survey("running", state=SurveyState.OPEN),
    }
    branches = [make_branch("b01"), make_branch("b02")]
    for index, slug in enumerate(("before", "after")):
        for branch in branches:
            add_responses(stages[slug], branch, {"good": 6 + index, "average": 3, "poor": 1})
    return stages


def _api(admin, path: str):
    return admin.get(f"/api/v1{path}")


@pytest.mark.parametrize("entry", ["cli", "api"])
def test_the_json_report(entry, runner, admin, two_stages):
    if entry == "cli":
        result = cli(runner, "report", "after", "--compare", "before")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
    else:
        response = _api(admin, "/surveys/after/report?compare=before")
        assert response.status_code == 200
        report = response.get_json()
    assert report["survey"] == "after" and report["respondents"] == 22
    assert report["comparison"]["against"] == "before"
    assert audit_trail() == [("report.export", "survey=after format=json compare=before")]


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_the_csv_export(entry, runner, admin, two_stages, tmp_path):
    if entry == "cli":
        path = tmp_path / "after.csv"
        result = cli(runner, "report", "after", "--format", "csv", "-o", str(path))
        assert result.exit_code == 0, result.output
        data = path.read_bytes()
    else:
        response = admin.get("/results/surveys/after/export.csv")
        assert response.status_code == 200
        data = response.get_data()
        response.close()
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Branch code,Branch,Respondents,Item key,Question")
    # The header, the survey's 3 items, then each of two branches: its headline and 3 items.
    assert len(lines) == 1 + 3 + 2 * (1 + 3)
    assert audit_trail() == [("report.export", "survey=after format=csv")]


REFUSALS = {
    "another campaign": (
        ["report", "after", "--compare", "elsewhere"],
        "/api/v1/surveys/after/report?compare=elsewhere",
        "/results/surveys/after/export.csv?compare=elsewhere",
        400,
        "Compare with another survey of the same campaign.",
    ),
    "itself": (
        ["report", "after", "--compare", "after"],
        "/api/v1/surveys/after/report?compare=after",
        "/results/surveys/after/export.csv?compare=after",
        400,
        "Compare with another survey of the same campaign.",
    ),
    "sealed": (
        ["report", "running"],
        "/api/v1/surveys/running/report",
        "/results/surveys/running/export.csv",
        409,
        "appear after the survey closes",
    ),
    "unknown": (
        ["report", "nope"],
        "/api/v1/surveys/nope/report",
        "/results/surveys/nope/export.csv",
        404,
        'There is no survey called "nope".',
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
@pytest.mark.parametrize("entry", ["cli", "api", "web"])
def test_a_refused_report_is_refused_alike(entry, case, runner, admin, two_stages):
    args, api_path, web_path, status, message = REFUSALS[case]
    if entry == "cli":
        result = cli(runner, *args)
        assert result.exit_code == 1 and message in result.stderr
        assert result.stdout == ""
    elif entry == "api":
        response = admin.get(api_path)
        assert response.status_code == status and message in response.get_json()["error"]
    else:
        response = admin.get(web_path)
        assert response.status_code == status
        assert message in response.get_data(as_text=True).replace("&#34;", '"')
    assert audit_trail() == []


@pytest.mark.parametrize("entry", ["api", "web"])
def test_turnout(entry, admin, two_stages, mint):
    survey = two_stages["after"]
    mint(survey, db.session.scalar(select(Branch).where(Branch.code == "b01")), 4)
    if entry == "api":
        counts = _api(admin, "/surveys/after/turnout").get_json()
        counts.pop("survey")
    else:
        counts = admin.get(f"/manage/surveys/{survey.id}/turnout.json").get_json()["counts"]
    total = counts["total"]
    assert (total["codes_issued"], total["codes_used"], total["responses"]) == (4, 0, 22)
    assert [row["code"] for row in counts["branches"]] == ["b01", "b02"]


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_exporting_a_definition(entry, runner, admin, make_survey):
    survey = make_survey("stage")
    if entry == "cli":
        result = cli(runner, "export-survey", "stage")
        assert result.exit_code == 0
        text = result.stdout
    else:
        text = admin.get(f"/manage/surveys/{survey.id}/export.yaml").get_data(as_text=True)
    assert text.startswith(
        "campaign: {slug: xjx, title: 保持共產黨員先進性教育活動}\nslug: stage\n"
    )
    assert "- {key: q1, text: 第1題}\n" in text


# --------------------------------------------------------------------------- accounts


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_creating_an_account(entry, runner, admin, make_branch):
    branch = make_branch("b01")
    if entry == "cli":
        args = ["create-user", "viewer", "--role", "branch_viewer", "--branch", "b01"]
        result = cli(runner, *args, "--password-stdin", stdin=TEST_PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    else:
        data = {
            "username": "viewer",
            "role": "branch_viewer",
            "branch": branch.id,
            "password": TEST_PASSWORD,
            "confirm": TEST_PASSWORD,
        }
        response = post_form(admin, "/manage/users/new", data, "/manage/users/new")
        assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "viewer"))
    assert (user.role, user.branch_id, user.is_active) == (Role.BRANCH_VIEWER, branch.id, True)
    assert audit_trail() == [("user.create", "user=viewer role=branch_viewer branch=b01")]


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_a_refused_account_is_refused_alike(entry, runner, admin):
    message = "A branch viewer needs a branch."
    if entry == "cli":
        args = ["create-user", "viewer", "--role", "branch_viewer", "--password-stdin"]
        result = cli(runner, *args, stdin=TEST_PASSWORD + "\n")
        assert result.exit_code == 1 and message in result.stderr
    else:
        data = {
            "username": "viewer",
            "role": "branch_viewer",
            "branch": 0,
            "password": TEST_PASSWORD,
            "confirm": TEST_PASSWORD,
        }
        response = post_form(admin, "/manage/users/new", data, "/manage/users/new")
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(User.id).where(User.username == "viewer")) is None


@pytest.mark.parametrize("entry", ["cli", "web"])
def test_creating_an_api_token(entry, app, runner, admin):
    if entry == "cli":
        result = cli(runner, "create-token", "office", "--name", "reports")
        assert result.exit_code == 0, result.output
        plain = result.stdout.strip()
    else:
        response = post_form(admin, "/account/tokens", {"token-name": "reports"}, "/account")
        assert response.status_code == 201
        page = response.get_data(as_text=True)
        plain = re.search(r'<code class="token-value">([^<]+)</code>', page).group(1)
    stored = db.session.scalar(select(ApiToken))
    assert stored.name == "reports" and stored.user.username == "office"
    # The token printed (or shown once) reads the API, from a client with no session.
    reader = isolated_client(app)
    answer = reader.get(
        "/api/v1/surveys/nope/turnout", headers={"Authorization": f"Bearer {plain}"}
    )
    assert answer.status_code == 404
    assert audit_trail() == [("token.create", f"token={stored.id} name=reports owner=office")]
