"""The exports a leader reads: the one-page ranking says what the survey page says, every sheet
prints on A4 landscape one page wide with its headers repeated, labels and headers in the
reader's language (web: the interface's; command line: its configured language), and odd
surveys (no responses, every branch hidden, no target) still export."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from flask_babel import force_locale

from survey import display
from survey.db import db
from survey.models import Source, SurveyState
from survey.results.charts import rank_chart
from survey.results.charts.base import COMPOSITE
from survey.services.exports import write_csv, write_xlsx
from survey.services.report import build_report
from tests.conftest import add_responses
from tests.helpers.results import record_response

#: Favourable answers per branch (of 40 respondents): a clear spread, two close together.
SPREAD = {"b1": 38, "b2": 30, "b3": 29, "b4": 12}


@pytest.fixture
def ranked_survey(make_survey, make_branch):
    """A closed survey with a target of 80 %, four branches of 40 and two hidden branches."""
    survey = make_survey("rank", state=SurveyState.CLOSED)
    survey.target = 0.8
    db.session.commit()
    for code, good in SPREAD.items():
        branch = make_branch(code, f"第{code[1]}支部")
        add_responses(survey, branch, {"good": good // 2, "fairly_good": good - good // 2,
                                       "average": 40 - good})  # fmt: skip
    # Two small branches hide each other (together they reach the threshold).
    add_responses(survey, make_branch("tiny", "小支部"), {"good": 2})
    add_responses(survey, make_branch("tiny2", "小支部二"), {"good": 3})
    return survey


def workbook(survey) -> openpyxl.Workbook:
    stream = io.BytesIO()
    write_xlsx(build_report(survey), survey, stream)
    stream.seek(0)
    return openpyxl.load_workbook(stream)


def csv_rows(survey) -> list[list[str]]:
    stream = io.BytesIO()
    write_csv(build_report(survey), stream)
    return list(csv.reader(io.StringIO(stream.getvalue().decode("utf-8-sig"), newline="")))


def rows_of(sheet, first: int = 1) -> list[list]:
    return [list(row) for row in sheet.iter_rows(min_row=first, values_only=True)]


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_the_ranking_sheet_says_what_the_survey_page_says(app, ranked_survey, language):
    with force_locale(language):
        report = build_report(ranked_survey)
        page = rank_chart(report, COMPOSITE).table
        book = workbook(ranked_survey)
        target_words = {b.label: display.target_words(b.headline.versus_target)
                        for b in report.shown}  # fmt: skip
        heading = display.headline_name()
        target_heading = f"{display.percent(0.8)}"
    sheet = book.worksheets[0]
    rows = rows_of(sheet)
    assert rows[0] == [report.survey.title] + [None] * (len(rows[0]) - 1)
    header_at = next(i for i, row in enumerate(rows) if row[0] == page.columns[0])
    header = rows[header_at]
    assert header[:5] == [page.columns[0], page.columns[1], heading, *page.columns[3:]]
    assert target_heading in header[5]
    listed = rows[header_at + 1 : header_at + 1 + len(page.rows)]
    # The page's order and words, cell for cell: branch, group, rate, interval, respondents.
    for row, shown in zip(listed, page.rows, strict=True):
        assert row[0] == shown[0] and row[1] == shown[1]
        assert display.percent(row[2]) == shown[2]
        assert row[3] == shown[3] and str(row[4]) == shown[4]
        assert row[5] == target_words[row[0]]
    assert [row[0] for row in listed] == ["第1支部", "第2支部", "第3支部", "第4支部"]
    assert rows[header_at + 1 + len(page.rows)][0] is None  # the table ends; notes follow
    text = "\n".join(str(cell) for row in rows for cell in row if cell is not None)
    assert "小支部" not in text and "tiny" not in text
    if language == "en":
        assert listed[0][1] == "clearly above the other branches"
        assert listed[3][1] == "clearly below the other branches"
        assert listed[3][5] == "clearly below the target"
        assert "2 branches are not listed: they are hidden to protect anonymity." in text
    else:
        assert book.sheetnames[0] == "排序"


def test_every_sheet_prints_on_a4_landscape_one_page_wide_with_its_headers(
    app, ranked_survey, make_survey
):
    earlier = make_survey("earlier", state=SurveyState.CLOSED)
    stream = io.BytesIO()
    write_xlsx(build_report(ranked_survey, compare=earlier), ranked_survey, stream)
    stream.seek(0)
    book = openpyxl.load_workbook(stream)
    assert "Comparison" in book.sheetnames
    titles = {}
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape", sheet.title
        assert int(setup.paperSize) == 9, sheet.title  # A4
        assert setup.fitToWidth in (1, None), sheet.title  # 1 is the default, left out
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows, sheet.title
        assert "測評 rank" in sheet.oddHeader.left.text
        titles[sheet.title] = sheet.print_title_rows
        if sheet.title != "Ranking":
            assert int(setup.fitToHeight) == 0, sheet.title  # as many pages down as needed
    ranking = book["Ranking"]
    assert int(ranking.page_setup.fitToHeight or 1) == 1  # one page in all
    assert titles["Ranking"] == "$1:$3" and titles["Branches"] == "$1:$2"
    assert titles["Responses"] == "$1:$1" and titles["Raw figures"] == "$1:$2"
    summary = rows_of(book["Summary"])
    row = int(titles["Summary"].split(":")[0].strip("$"))
    assert summary[row - 1][:2] == ["Item", "Question"]


def test_labels_and_facts_in_traditional_chinese(app, make_survey, make_branch):
    survey = make_survey("zh", state=SurveyState.CLOSED)
    branch = make_branch("b1", "第一支部")
    with db.transaction():
        for n in range(6):
            answers = {item.id: survey.option(("good", "fairly_good")[n % 2]).id
                       for item in survey.items}  # fmt: skip
            record_response(survey, branch.id, survey.category("member").id, answers, None,
                            Source.PAPER)  # fmt: skip
    with force_locale("zh_Hant"):
        book = workbook(survey)
        rows = csv_rows(survey)
    assert book.sheetnames == ["排序", "摘要", "支部", "類別", "檢驗", "意見", "答卷", "原始數據"]
    facts = {row[0]: row[1] for row in rows_of(book["摘要"], 2) if row and row[0]}
    assert facts["活動"] == "保持共產黨員先進性教育活動"
    assert facts["類型"] == "測評" and facts["狀態"] == "已結束"
    assert facts["參評人數"] == 6 and facts["目標"] == "未設目標"
    assert facts["置信水平"] == 0.95
    responses = rows_of(book["答卷"])
    assert responses[0][:4] == ["支部代碼", "支部", "類別", "來源"]
    assert {tuple(row[:4]) for row in responses[1:]} == {("b1", "第一支部", "黨員", "紙質")}
    assert {row[4] for row in responses[1:]} == {"好", "比較好"}
    branches = rows_of(book["支部"])
    assert branches[1][3] == "總體好評率"
    assert branches[2][6] == "受訪人數太少，無法判斷有無差異"
    raw = rows_of(book["原始數據"])
    assert raw[0][:3] == ["層級", "支部代碼", "支部"] and raw[1][:3] == [
        "level",
        "branch_code",
        "branch_name",
    ]
    assert rows[0][:4] == ["支部代碼", "支部", "參評人數", "題目代碼"]
    assert rows[0][-4:] == ["好", "比較好", "一般", "差"]
    assert rows[1][1] == "所有支部"


def test_a_survey_with_no_responses_exports(app, make_survey, make_branch):
    make_branch("b1", "第一支部")
    survey = make_survey("empty", state=SurveyState.CLOSED)
    book = workbook(survey)
    ranking = rows_of(book["Ranking"])
    assert [c for c in ranking[3] if c is not None] == ["No branch has figures to show."]
    assert "1 branch is not listed: it has no responses." in [r[0] for r in ranking]
    raw = rows_of(book["Raw figures"], 3)
    # As in the JSON report: the survey and the empty branch, every item with 0 answers.
    assert [(row[0], row[8]) for row in raw] == [("overall", 0)] * 3 + [("branch", 0)] * 3
    assert rows_of(book["Responses"], 2) == []
    csv_places = [(row[0], row[5]) for row in csv_rows(survey)[1:]]
    assert csv_places == [("", "0")] * 3 + [("b1", "0")] * 3


@pytest.mark.parametrize("each", [3, 2])
def test_a_survey_whose_branches_are_all_hidden_exports_no_branch(
    app, make_survey, make_branch, each
):
    """Two branches of 3: the survey-wide figures (6 answers) are shown, no branch is; of 2:
    not even the survey-wide figures (4 answers, under the threshold of 5)."""
    survey = make_survey("hidden", state=SurveyState.CLOSED)
    survey.target = 0.9
    db.session.commit()
    for code in ("s1", "s2"):
        add_responses(survey, make_branch(code, f"秘密{code}"), {"good": each - 1, "poor": 1})
    book = workbook(survey)
    text = [str(c) for sheet in book.worksheets for row in rows_of(sheet) for c in row if c]
    assert not any("秘密" in t or t in ("s1", "s2") for t in text)
    assert "2 branches are not listed: they are hidden to protect anonymity." in text
    facts = {row[0]: row[1] for row in rows_of(book["Summary"], 2) if row and row[0]}
    assert facts["Respondents"] == 2 * each and facts["Target"] == 0.9
    rate = facts["Favourable rate (mean over items)"]
    raw = rows_of(book["Raw figures"], 3)
    if each == 3:
        assert display.percent(rate) == "66.7%"
        assert [row[0] for row in raw] == ["overall"] * 3
        assert [row[:2] for row in csv_rows(survey)[1:]] == [["", "All branches"]] * 3
    else:
        assert rate is None and raw == [] and csv_rows(survey)[1:] == []


def test_the_web_export_speaks_the_readers_language(admin, ranked_survey):
    admin.get("/lang/zh_Hant")
    for fmt in ("xlsx", "csv"):
        response = admin.get(f"/results/surveys/rank/export.{fmt}")
        assert response.status_code == 200
        body = response.get_data()
        response.close()
        if fmt == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(body))
            assert book.sheetnames[0] == "排序"
            assert rows_of(book["排序"])[2][2] == "總體好評率"
        else:
            header = body.decode("utf-8-sig").splitlines()[0]
            assert header.startswith("支部代碼,支部,參評人數")


def test_the_command_line_export_speaks_its_configured_language(
    app, runner, ranked_survey, tmp_path
):
    app.config["CLI_LANGUAGE"] = "zh_Hans"
    path = tmp_path / "rank.xlsx"
    result = runner.invoke(args=["report", "rank", "--format", "xlsx", "-o", str(path)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["排序", "摘要"]
    assert rows_of(book["排序"])[2][2] == "总体好评率"
