"""import-branches and import-responses: whole-file validation, line numbers, all-or-nothing,
and paper ballots read correctly from UTF-8, GB18030 and Big5 files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from survey.db import db
from survey.models import (
    Action,
    Answer,
    Branch,
    Comment,
    Item,
    RespondentCategory,
    RespondentTally,
    Response,
    ScaleOption,
    Source,
    SurveyState,
)
from survey.services.imports import Table, read_table
from survey.services.lifecycle import change_state
from survey.services.paper_ballots import parse_ballots
from tests.helpers.dbstate import snapshot
from tests.helpers.results import sealed_ballots

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> str:
    """Write an input file and return its path as the user would type it."""
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return str(path)


def branches_by_code() -> dict[str, tuple[str, str | None]]:
    """code → (name, parent code) for every branch."""
    db.session.expire_all()
    return {
        b.code: (b.name, b.parent.code if b.parent else None)
        for b in db.session.scalars(select(Branch))
    }


# ---- branches ---------------------------------------------------------------------------------


def test_import_branches_adds_then_updates(runner, tmp_path):
    result = runner.invoke(args=["import-branches", str(FIXTURES / "branches.csv")])
    assert result.exit_code == 0, result.output
    assert "3 added, 0 updated" in result.output
    assert branches_by_code() == {
        "b01": ("辦公室黨支部", None),
        "b02": ("綜合規劃處黨支部", "b01"),
        "b03": ("工業處黨支部", "b01"),
    }

    # b03 is renamed and moved under b02 (already in the database), b04's parent is in the file.
    second = write(
        tmp_path,
        "more.csv",
        "code,name,parent\nb03,工業與信息化處黨支部,b02\nb04,能源處黨支部,b03\nb01,辦公室黨支部,\n",
    )
    result = runner.invoke(args=["import-branches", second])
    assert result.exit_code == 0, result.output
    assert "1 added, 1 updated, 1 unchanged" in result.output
    assert branches_by_code() == {
        "b01": ("辦公室黨支部", None),
        "b02": ("綜合規劃處黨支部", "b01"),
        "b03": ("工業與信息化處黨支部", "b02"),
        "b04": ("能源處黨支部", "b03"),
    }


def test_import_branches_without_parent_column_keeps_parents(runner, make_branch, tmp_path):
    parent = make_branch("b01", "辦公室黨支部")
    make_branch("b02", "舊名", parent=parent)
    result = runner.invoke(
        args=["import-branches", write(tmp_path, "b.csv", "code,name\nb02,新名\n")]
    )
    assert result.exit_code == 0, result.output
    assert branches_by_code()["b02"] == ("新名", "b01")


def test_import_branches_from_xlsx(runner, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Name", "Parent"])
    sheet.append(["b01", "辦公室黨支部", None])
    sheet.append([None, None, None])
    sheet.append(["b02", "工業處黨支部", "b01"])
    workbook.save(tmp_path / "branches.xlsx")
    result = runner.invoke(args=["import-branches", str(tmp_path / "branches.xlsx")])
    assert result.exit_code == 0, result.output
    assert branches_by_code() == {"b01": ("辦公室黨支部", None), "b02": ("工業處黨支部", "b01")}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "code,title\nb01,辦公室\n",
            ['branches.csv:1: title: unknown column "title"', "branches.csv:1: name: required"],
            id="wrong-header",
        ),
        pytest.param(
            "code,name,parent\nb01,甲,\nb02,乙,b01\nb03,丙,b99\n",
            ['branches.csv:4: parent: unknown branch "b99"'],
            id="unknown-parent",
        ),
        pytest.param(
            "code,name\nb01,甲\nb02,乙\nb01,丙\n",
            ['branches.csv:4: code: duplicate code "b01" (first on line 2)'],
            id="duplicate-code",
        ),
        pytest.param(
            "code,name,parent\nb01,,\n=cmd,乙,\nb03,丙,b03\n",
            [
                "branches.csv:2: name: the branch name is missing",
                'branches.csv:3: code: invalid code "=cmd"',
                "branches.csv:4: parent: a branch cannot be its own parent",
            ],
            id="every-error-reported",
        ),
        pytest.param(
            "code,name,parent\nb01,甲,b02\nb02,乙,b01\n",
            ['branches.csv:2: parent: parent "b02" makes a loop', "branches.csv:3: parent"],
            id="loop",
        ),
        pytest.param(
            "code,name\nb01,甲,extra\n",
            ["branches.csv:2: this line has more cells than the header has columns"],
            id="extra-cell",
        ),
        pytest.param(
            b"code,name\nb01,\xe8\xbe\xa6\nb02,\x80\xff\n",
            ["branches.csv:3: the text cannot be read as UTF-8, GB18030 (GBK) or Big5"],
            id="broken-encoding",
        ),
        pytest.param("\n\n", ["branches.csv: the file is empty"], id="empty"),
    ],
)
def test_import_branches_rejects_bad_file_and_changes_nothing(
    runner, make_branch, tmp_path, monkeypatch, content, expected
):
    make_branch("b00", "機關黨委")
    before = snapshot()
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "branches.csv", content)
    result = runner.invoke(args=["import-branches", "branches.csv"])
    assert result.exit_code == 1
    for message in expected:
        assert message in result.stderr
    assert "Nothing was changed" in result.stderr
    assert snapshot() == before


def test_import_branches_refuses_a_missing_file(runner, tmp_path):
    result = runner.invoke(args=["import-branches", str(tmp_path / "absent.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# ---- paper ballots ----------------------------------------------------------------------------


@pytest.fixture
def ballot_survey(make_survey, make_branch):
    """An open survey with three items and comments, and branches b01 and b02."""
    make_branch("b01", "辦公室黨支部")
    make_branch("b02", "綜合規劃處黨支部")
    return make_survey("pingyi", items=3)


def stored_ballots() -> tuple[Counter, Counter]:
    """The stored responses as (branch, category, source, answers) and the comments, by text."""
    session = db.session
    session.expire_all()
    rows = session.execute(
        select(Response.id, Branch.code, RespondentCategory.key, Response.source)
        .join(Branch, Branch.id == Response.branch_id)
        .join(RespondentCategory, RespondentCategory.id == Response.category_id)
    ).all()
    answers: dict = {row[0]: {} for row in rows}
    for response_id, item, option in session.execute(
        select(Answer.response_id, Item.key, ScaleOption.key)
        .join(Item, Item.id == Answer.item_id)
        .join(ScaleOption, ScaleOption.id == Answer.option_id)
    ):
        answers[response_id][item] = option
    responses = Counter(
        (code, category, source, tuple(sorted(answers[rid].items())))
        for rid, code, category, source in rows
    )
    comments = Counter(
        (code, text)
        for code, text in session.execute(
            select(Branch.code, Comment.text).join(Branch, Branch.id == Comment.branch_id)
        )
    )
    return responses, comments


#: What the ballots fixtures hold, written out independently of the importer.
EXPECTED_BALLOTS = Counter(
    {
        (
            "b01",
            "member",
            Source.PAPER,
            (("q1", "good"), ("q2", "fairly_good"), ("q3", "average")),
        ): 1,
        ("b01", "public", Source.PAPER, (("q1", "fairly_good"), ("q3", "poor"))): 1,
        (
            "b02",
            "public",
            Source.PAPER,
            (("q1", "good"), ("q2", "fairly_good"), ("q3", "average")),
        ): 1,
        ("b02", "member", Source.PAPER, (("q1", "average"), ("q2", "poor"), ("q3", "good"))): 1,
    }
)
EXPECTED_COMMENTS = Counter(
    {
        ("b01", "領導帶頭作用發揮得好，希望繼續保持。"): 1,
        ("b02", "談心活動還不夠深入，\r\n建議多聽聽群眾的想法。"): 1,
    }
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "big5", "utf-16"])
def test_import_responses_reads_each_encoding(runner, ballot_survey, encoding):
    result = runner.invoke(
        args=["import-responses", "pingyi", str(FIXTURES / f"ballots.{encoding}.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "Stored 4 paper ballots" in result.output
    # One ballot per group waits sealed in the ballot box until the survey closes.
    assert stored_ballots() == (Counter(), Counter())
    assert len(sealed_ballots()) == 4
    change_state(None, ballot_survey, "close")
    assert stored_ballots() == (EXPECTED_BALLOTS, EXPECTED_COMMENTS)
    tallies = db.session.scalars(select(RespondentTally)).all()
    assert sum(t.count for t in tallies) == 4
    assert {t.source for t in tallies} == {Source.PAPER}


@pytest.mark.parametrize("encoding", ["gbk", "big5"])
def test_legacy_encoding_chosen_by_content_when_both_decode(ballot_survey, encoding):
    """Big5 bytes always decode as GB18030 too (to nonsense): the comment must come out right."""
    comment = (
        "希望今後繼續深入基層聽取意見。" if encoding == "big5" else "希望今后继续深入基层听取意见。"
    )
    text = f"branch,category,q1,q2,q3,comment\nb01,member,good,good,poor,{comment}\n"
    table = read_table(text.encode(encoding), "keys.csv")
    ballots, problems = parse_ballots(ballot_survey, table)
    assert problems == []
    assert ballots[0].comment == comment


def test_import_responses_from_xlsx_into_a_closed_survey(runner, ballot_survey, tmp_path):
    with db.transaction():
        ballot_survey.move(Action.CLOSE)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["branch", "category", "q1", "q2", "q3", "comment"])
    sheet.append(["b01", "黨員", "好", "比較好", "一般", None])
    sheet.append(["b02", "羣眾", "差", None, "好", "開會太多"])
    workbook.save(tmp_path / "ballots.xlsx")
    result = runner.invoke(args=["import-responses", "pingyi", str(tmp_path / "ballots.xlsx")])
    assert result.exit_code == 0, result.output
    responses, comments = stored_ballots()
    assert responses == Counter(
        {
            (
                "b01",
                "member",
                Source.PAPER,
                (("q1", "good"), ("q2", "fairly_good"), ("q3", "average")),
            ): 1,
            ("b02", "public", Source.PAPER, (("q1", "poor"), ("q3", "good"))): 1,
        }
    )
    assert comments == Counter({("b02", "開會太多"): 1})


HEADER = "branch,category,q1,q2,q3,comment\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "branch,category,q1,q2,q4\nb01,黨員,好,好,好\n",
            ['ballots.csv:1: q4: unknown column "q4"', 'ballots.csv:1: q3: required column "q3"'],
            id="wrong-header",
        ),
        pytest.param(
            HEADER + "b01,黨員,好,好,好,\nb99,黨員,好,好,好,\n",
            ['ballots.csv:3: branch: unknown branch "b99"'],
            id="unknown-branch",
        ),
        pytest.param(
            HEADER + "b01,黨員,好,很好,好,\n",
            ['ballots.csv:2: q2: unknown option "很好" (expected one of: 好, 比較好, 一般, 差)'],
            id="unknown-option",
        ),
        pytest.param(
            HEADER + "b01,幹部,好,好,好,\nb01,,好,好,好,\n",
            [
                'ballots.csv:2: category: unknown category "幹部"',
                "ballots.csv:3: category: the respondent category is missing",
            ],
            id="unknown-category",
        ),
        pytest.param(
            HEADER + "b01,黨員,,,,\n",
            ["ballots.csv:2: the ballot has no answers"],
            id="blank-ballot",
        ),
        pytest.param(
            HEADER + "b01,黨員,好,好,好," + "長" * 2001 + "\n",
            ["ballots.csv:2: comment: the comment is 2001 characters long"],
            id="comment-too-long",
        ),
        pytest.param(
            (FIXTURES / "ballots.broken.csv").read_bytes(),
            [
                "ballots.csv:3: the text cannot be read as UTF-8, GB18030 (GBK) or Big5 "
                "(bytes 80 FF)"
            ],
            id="broken-encoding",
        ),
        pytest.param(
            HEADER + "b01,黨員,好,好,好,\nb01,黨員,好,好,好,,x\nb02,public,bad,good,good,\n",
            ["ballots.csv:3: this line has more cells", 'ballots.csv:4: q1: unknown option "bad"'],
            id="every-error-reported",
        ),
        pytest.param(HEADER, ["ballots.csv: the file contains no ballots"], id="no-ballots"),
    ],
)
def test_import_responses_rejects_bad_file_and_changes_nothing(
    runner, ballot_survey, tmp_path, monkeypatch, content, expected
):
    runner.invoke(args=["import-responses", "pingyi", str(FIXTURES / "ballots.utf-8.csv")])
    before = snapshot()
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "ballots.csv", content)
    result = runner.invoke(args=["import-responses", "pingyi", "ballots.csv"])
    assert result.exit_code == 1
    for message in expected:
        assert message in result.stderr
    assert snapshot() == before


def test_import_responses_refuses_a_draft_survey(runner, make_survey, make_branch):
    make_branch("b01")
    make_branch("b02")
    make_survey("pingyi", items=3, state=SurveyState.DRAFT)
    before = snapshot()
    result = runner.invoke(args=["import-responses", "pingyi", str(FIXTURES / "ballots.utf-8.csv")])
    assert result.exit_code == 1
    assert "survey pingyi is still a draft" in result.stderr
    assert snapshot() == before


def test_import_responses_refuses_comments_when_the_survey_takes_none(
    runner, make_survey, make_branch
):
    make_branch("b01")
    make_branch("b02")
    make_survey("pingyi", items=3, comments=False)
    result = runner.invoke(args=["import-responses", "pingyi", str(FIXTURES / "ballots.utf-8.csv")])
    assert result.exit_code == 1
    assert "ballots.utf-8.csv:2: comment: this survey takes no comments" in result.stderr
    assert db.session.scalar(select(Response.id)) is None


def test_import_responses_refuses_an_unknown_survey(runner):
    result = runner.invoke(args=["import-responses", "nope", str(FIXTURES / "ballots.utf-8.csv")])
    assert result.exit_code == 1
    assert 'There is no survey called "nope"' in result.stderr


def test_parse_ballots_serves_a_table_built_without_a_file(ballot_survey):
    """The browser's keying grid builds a Table directly; the same rules apply."""
    from survey.services.imports import Row

    table = Table(
        "grid",
        ["branch", "category", "q1", "q2", "q3"],
        rows=[
            Row(1, {"branch": "b01", "category": "member", "q1": "好", "q2": "", "q3": "差"}),
            Row(2, {"branch": "b02", "category": "羣眾", "q1": "x", "q2": "", "q3": ""}),
        ],
    )
    ballots, problems = parse_ballots(ballot_survey, table)
    assert [str(p) for p in problems] == [
        'grid:2: q1: unknown option "x" (expected one of: 好, 比較好, 一般, 差)'
    ]
    assert len(ballots) == 1 and ballots[0].line == 1 and len(ballots[0].answers) == 2


@pytest.mark.parametrize(
    ("category", "option"),
    [
        ("党员", "比较好"),
        ("黨員", "比較好"),
        ("群众", "较差"),
        ("羣眾", "較差"),
        ("群眾", "比较好"),
    ],
)
def test_ballot_labels_match_in_simplified_and_traditional(ballot_survey, category, option):
    """A ballots file in either script (or mixed) reads the same as the survey's own labels."""
    from survey.services.imports import Row

    labels = {"较差": "poor", "較差": "poor", "比较好": "fairly_good", "比較好": "fairly_good"}
    ballot_survey.option("poor").label = "較差"  # a Traditional label the file may simplify
    expected = ballot_survey.category(
        "member" if "党" in category or "黨" in category else "public"
    )
    table = Table(
        "ballots.csv",
        ["branch", "category", "q1", "q2", "q3"],
        rows=[Row(2, {"branch": "b01", "category": category, "q1": option, "q2": "", "q3": ""})],
    )
    ballots, problems = parse_ballots(ballot_survey, table)
    assert problems == []
    [ballot] = ballots
    assert ballot.category_id == expected.id
    assert ballot.answers == {ballot_survey.items[0].id: ballot_survey.option(labels[option]).id}


def test_simplified_survey_labels_accept_traditional_files(ballot_survey):
    from survey.services.imports import Row

    ballot_survey.category("public").label = "群众"
    ballot_survey.option("fairly_good").label = "比较好"
    table = Table(
        "ballots.csv",
        ["branch", "category", "q1", "q2", "q3"],
        rows=[Row(2, {"branch": "b01", "category": "羣眾", "q1": "比較好", "q2": "", "q3": ""})],
    )
    [ballot], problems = parse_ballots(ballot_survey, table)
    assert problems == [] and ballot.category_id == ballot_survey.category("public").id


def test_the_fold_changes_no_simplified_character():
    """Folding maps Traditional to Simplified only: a Simplified text is left as it is."""
    from survey.services.imports import _TRADITIONAL_PAIRS, folded

    traditional, simplified = _TRADITIONAL_PAIRS[0::2], _TRADITIONAL_PAIRS[1::2]
    assert len(set(traditional)) == len(traditional)
    assert not set(traditional) & set(simplified)
    assert folded(simplified) == simplified
    assert folded("羣眾 比較好 黨員 紙質 網上") == folded("群众 比较好 党员 纸质 网上")
