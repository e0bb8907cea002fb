"""mint-codes, open-survey, close-survey and load-demo, through the command line."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import case, func, select

from survey.db import db
from survey.models import (
    AccessCode,
    Action,
    Answer,
    AnswerTally,
    AuditEntry,
    Branch,
    CodeBatch,
    Response,
    Role,
    ScaleOption,
    Source,
    Survey,
    SurveyState,
    User,
)
from survey.services.responses import (
    CodeAlreadyUsed,
    SurveyNotOpen,
    check_code,
    submit_with_code,
)
from tests.helpers.dbstate import snapshot


@pytest.fixture
def coded_survey(make_survey, make_branch):
    """An open survey (categories member, public) and branches b01, b02 and inactive b03."""
    make_branch("b01", "辦公室黨支部")
    make_branch("b02", "工業處黨支部")
    make_branch("b03", "已撤銷黨支部", is_active=False)
    return make_survey("pingyi")


def read_codes(path) -> list[dict[str, str]]:
    """The rows of a minted-codes file, checking that it starts with a BOM for Excel."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "branch,category,code,url"
    return list(csv.DictReader(text.splitlines()))


def test_mint_codes_for_every_active_branch_and_category(runner, coded_survey, tmp_path):
    out = tmp_path / "codes.csv"
    # The survey is open: minting now needs a reason, as on the office's page.
    result = runner.invoke(args=["mint-codes", "pingyi", "--count", "3", "-o", str(out)])
    assert result.exit_code == 1
    assert "State a reason to mint these codes: the survey is open" in result.stderr
    assert not out.exists()
    reason = ["--reason", "second sitting for the night shift"]
    result = runner.invoke(args=["mint-codes", "pingyi", "--count", "3", "-o", str(out), *reason])
    assert result.exit_code == 0, result.output
    assert "Minted 12 codes" in result.output
    rows = read_codes(out)
    assert len(rows) == 12
    groups = {(r["branch"], r["category"]) for r in rows}
    assert groups == {(b, c) for b in ("b01", "b02") for c in ("member", "public")}
    assert len({r["code"] for r in rows}) == 12
    for row in rows:
        assert row["url"] == f"http://ceping.test/#code={row['code']}"
        scope = check_code(row["code"])
        assert scope.survey.slug == "pingyi"
        assert db.session.get(Branch, scope.branch_id).code == row["branch"]
    assert db.session.scalar(select(func.count(AccessCode.id))) == 12
    assert db.session.scalar(select(func.count(CodeBatch.id))) == 4
    # One entry per batch, the same as the office's page writes, flagged for the supervisors.
    entries = db.session.scalars(select(AuditEntry)).all()
    assert [e.action for e in entries] == ["codes.mint"] * 4
    assert all(e.is_flagged and e.username is None for e in entries)
    assert all("reason='second sitting for the night shift'" in e.detail for e in entries)


def test_mint_codes_for_one_branch_and_category_of_a_draft(
    runner, make_survey, make_branch, tmp_path
):
    make_branch("b01")
    make_branch("b02")
    make_survey("pingyi", state=SurveyState.DRAFT)
    out = tmp_path / "b02.csv"
    args = ["mint-codes", "pingyi", "--branch", "b02", "--category", "public", "--count", "5"]
    result = runner.invoke(args=[*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_codes(out)
    assert [(r["branch"], r["category"]) for r in rows] == [("b02", "public")] * 5
    with pytest.raises(SurveyNotOpen):  # the codes exist; they work once the survey opens
        check_code(rows[0]["code"])


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["pingyi", "--count", "0"], 2, "--count"),
        (["pingyi", "--count", "100001"], 2, "--count"),
        (["pingyi"], 1, "Give either --count or --counts FILE."),
        (["nope", "--count", "1"], 1, 'There is no survey called "nope"'),
        (["pingyi", "--count", "1", "--branch", "b99"], 1, 'the code "b99"'),
        (["pingyi", "--count", "1", "--branch", "b03"], 1, "Inactive branches get no codes: b03"),
        (["pingyi", "--count", "1", "--category", "staff"], 1, 'unknown category "staff"'),
    ],
)
def test_mint_codes_refusals_change_nothing(runner, coded_survey, tmp_path, args, status, message):
    before = snapshot()
    out = tmp_path / "codes.csv"
    result = runner.invoke(args=["mint-codes", *args, "-o", str(out)])
    assert result.exit_code == status
    assert message in result.stderr
    assert not out.exists()
    assert snapshot() == before


def test_mint_codes_refuses_a_closed_survey_and_an_existing_file(runner, coded_survey, tmp_path):
    out = tmp_path / "codes.csv"
    out.write_text("printed earlier")
    with db.transaction():
        coded_survey.move(Action.CLOSE)
    before = snapshot()
    result = runner.invoke(args=["mint-codes", "pingyi", "--count", "2", "-o", str(out)])
    assert result.exit_code == 1
    assert "The survey is closed: reopen it before minting codes." in result.stderr
    assert "already exists" in result.stderr
    assert out.read_text() == "printed earlier"
    assert snapshot() == before


def test_open_and_close_survey_are_audited(runner, make_survey):
    make_survey("pingyi", state=SurveyState.DRAFT)
    result = runner.invoke(args=["close-survey", "pingyi"])
    assert result.exit_code == 1
    assert 'The survey is draft, so "Close the survey" is not possible now.' in result.stderr

    assert runner.invoke(args=["open-survey", "pingyi"]).exit_code == 0
    result = runner.invoke(args=["open-survey", "pingyi"])
    assert result.exit_code == 1
    assert 'The survey is open, so "Open the survey" is not possible now.' in result.stderr
    result = runner.invoke(args=["close-survey", "pingyi"])
    assert result.exit_code == 0, result.output
    assert "pingyi: The survey is closed." in result.output
    db.session.expire_all()
    survey = db.session.scalar(select(Survey))
    assert survey.state is SurveyState.CLOSED and survey.closed_on is not None
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.username, e.detail) for e in entries] == [
        ("survey.open", None, "survey=pingyi state=draft->open"),
        ("survey.close", None, "survey=pingyi state=open->closed counted=0 held_back=0"),
    ]
    assert all(e.at is not None and e.at.tzinfo is None for e in entries)


def test_load_demo_twice(runner):
    result = runner.invoke(args=["load-demo"])
    assert result.exit_code == 0, result.output
    assert "http://ceping.test/" in result.output
    assert "create-user admin --role admin" in result.output
    codes = [line.split()[0] for line in result.output.splitlines() if "#code=" in line]
    assert len(codes) == 5
    for code in codes:
        scope = check_code(code)
        assert scope.survey.slug == "manyidu-2005"
    # A printed code opens the questionnaire once.
    survey = scope.survey
    submit_with_code(codes[0], {survey.items[0].id: survey.options[0].id}, None)
    with pytest.raises(CodeAlreadyUsed):
        check_code(codes[0])

    surveys = {s.slug: s for s in db.session.scalars(select(Survey))}
    assert surveys["pingyi-2005"].state is SurveyState.CLOSED
    assert surveys["manyidu-2005"].state is SurveyState.OPEN
    assert db.session.scalar(select(func.count(Branch.id))) == 21
    per_branch = dict(
        db.session.execute(
            select(Branch.code, func.count(Response.id))
            .join(Response, Response.branch_id == Branch.id)
            .where(Response.survey_id == surveys["pingyi-2005"].id)
            .group_by(Branch.code)
        ).all()
    )
    assert sum(per_branch.values()) == 594
    assert sorted(per_branch.values())[:3] == [3, 4, 25]  # two branches under the threshold
    sources = set(
        db.session.scalars(
            select(Response.source).where(Response.survey_id == surveys["pingyi-2005"].id)
        )
    )
    assert sources == {Source.PAPER}
    # The speech's headline: 好 and 比較好 together exceed 90 %; the tallies agree with the rows.
    favourable, total = db.session.execute(
        select(func.sum(case((ScaleOption.is_favourable, 1), else_=0)), func.count())
        .select_from(Answer)
        .join(ScaleOption, ScaleOption.id == Answer.option_id)
        .where(ScaleOption.survey_id == surveys["pingyi-2005"].id)
    ).one()
    assert 0.9 < favourable / total < 0.95
    tallied = db.session.scalar(
        select(func.sum(AnswerTally.count)).where(
            AnswerTally.survey_id == surveys["pingyi-2005"].id
        )
    )
    assert tallied == total

    before = snapshot()
    again = runner.invoke(args=["load-demo"])
    assert again.exit_code == 0, again.output
    assert "already loaded; nothing was changed" in again.output
    assert snapshot() == before


def test_load_demo_tells_an_existing_admin_where_to_sign_in(runner):
    db.session.add(User(username="office", password_hash="x", role=Role.ADMIN))
    db.session.commit()
    result = runner.invoke(args=["load-demo"])
    assert result.exit_code == 0, result.output
    assert "sign in at http://ceping.test/login" in result.output
    assert "create-user" not in result.output


def test_load_demo_refuses_to_rename_existing_branches(runner, make_branch):
    make_branch("b03", "我們自己的支部")
    before = snapshot()
    result = runner.invoke(args=["load-demo"])
    assert result.exit_code == 1
    assert 'branches.csv:4: code: branch "b03" already exists as "我們自己的支部"' in result.stderr
    assert snapshot() == before
