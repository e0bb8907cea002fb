"""Spreadsheet exports: the same figures as the JSON report, no suppressed branch anywhere,
formula injection neutralised, raw answers anonymous and in random order."""

from __future__ import annotations

import csv
import io
from collections import Counter

import numpy as np
import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from survey import display
from survey.db import db
from survey.models import AuditEntry, Branch, Role, Source, SurveyState
from survey.refusals import BadRequest
from survey.services.exports import export_file, write_csv, write_xlsx
from survey.services.exports.cells import Sheet, safe_cell
from survey.services.report import ResultsSealed, build_report
from tests.helpers.results import record_response, report_dict
from tests.helpers.sqlite_writer import write_from_elsewhere

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]
HIDDEN_CODES = ("HIDDEN-B", "HIDDEN-C")
HIDDEN_NAMES = ("秘密支部乙", "秘密支部丙")
SECRET = "only three of us answered this"
OPTIONS = ("good", "fairly_good", "average", "poor")


def submit(survey, branch, n, category="member", seed=0, comments=(), source=Source.WEB):
    """Store ``n`` random responses (some items skipped) and the given comments."""
    rng = np.random.default_rng(seed)
    texts = list(comments)
    with db.transaction():
        for _ in range(n):
            answers = {
                item.id: survey.option(OPTIONS[int(rng.integers(4))]).id
                for item in survey.items
                if rng.random() > 0.1
            }
            comment = texts.pop() if texts else None
            record_response(
                survey, branch.id, survey.category(category).id, answers, comment, source
            )


@pytest.fixture
def survey(make_survey, make_branch):
    """A closed survey: a (7 web + 2 paper members, 5 paper public), HIDDEN-B (3), HIDDEN-C (6,
    complementary), d (empty), e (33 members + 2 public: both categories hidden in a shown
    branch)."""
    survey = make_survey("export", state=SurveyState.CLOSED)
    survey.items[0].text = "+SUM(1) 徵求意見是否廣泛"
    survey.items[1].text = "\t=1 談心活動是否深入"
    survey.items[2].text = "\r=1 問題找得準不準"
    survey.categories[0].weight = 0.6
    survey.categories[1].weight = 0.4
    db.session.commit()
    a = make_branch("a", "=cmd|' /C calc'!A0")
    hidden_b = make_branch(HIDDEN_CODES[0], HIDDEN_NAMES[0])
    hidden_c = make_branch(HIDDEN_CODES[1], HIDDEN_NAMES[1])
    make_branch("d", "第四支部")
    e = make_branch("e", "第五支部")
    submit(survey, a, 7, seed=1, comments=PAYLOADS + ["領導帶頭作用發揮得好"])
    submit(survey, a, 5, category="public", seed=2, source=Source.PAPER)
    submit(survey, a, 2, seed=7, source=Source.PAPER)  # 2 paper members: a small source group
    submit(survey, hidden_b, 3, seed=3, comments=[SECRET])
    submit(survey, hidden_c, 6, seed=4, comments=[SECRET + " too"])
    submit(survey, e, 33, seed=5, comments=["整改措施落實"])
    submit(survey, e, 2, category="public", seed=6)
    return survey


def workbook_of(survey, compare=None) -> openpyxl.Workbook:
    stream = io.BytesIO()
    write_xlsx(build_report(survey, compare=compare), survey, stream)
    stream.seek(0)
    return openpyxl.load_workbook(stream)


def rows_of(sheet, first: int = 1) -> list[list]:
    return [list(row) for row in sheet.iter_rows(min_row=first, values_only=True)]


def close(value, expected):
    """Numbers as written by XlsxWriter (17 significant digits), None as an empty cell."""
    if expected is None:
        return value is None
    return value == pytest.approx(expected, rel=1e-15, abs=1e-15)


def ci(pair, index):
    return None if pair is None else pair[index]


SHEETS = [
    "Ranking",
    "Summary",
    "Branches",
    "Categories",
    "Tests",
    "Comments",
    "Responses",
    "Raw figures",
]


def shown(value):
    """A share as the pages show it (one decimal of percent), back as a share; None stays."""
    return None if value is None else float(display.percent(value)[:-1]) / 100


def rounded(value, expected):
    """A cell holds the figure rounded as the page shows it (so it prints the same)."""
    if expected is None:
        return value is None
    return value == pytest.approx(shown(expected), abs=1e-12)


def score(value, expected):
    return value is None if expected is None else value == pytest.approx(round(expected, 2))


def test_xlsx_sheets_round_every_figure_as_the_pages_show_it(survey):
    report = report_dict(survey)
    book = workbook_of(survey)
    assert book.sheetnames == SHEETS

    summary = {row[0]: row[1] for row in rows_of(book["Summary"], 2) if row and row[0]}
    assert summary["Survey"] == "測評 export"
    assert summary["Campaign"] == "保持共產黨員先進性教育活動"
    assert summary["Kind"] == "Evaluation" and summary["State"] == "Closed"
    assert summary["Respondents"] == report["respondents"] == 58
    headline = report["overall"]["headline"]
    assert rounded(summary["Favourable rate (mean over items)"], headline["favourable_rate"])
    assert rounded(summary["Favourable rate, lower limit"], headline["favourable_ci"][0])
    assert rounded(summary["Favourable rate, upper limit"], headline["favourable_ci"][1])
    assert score(summary["Cronbach's alpha"], report["reliability"]["cronbach_alpha"])
    assert summary["Smallest group shown (threshold)"] == 5
    assert summary["Target"] == "No target"
    assert summary["Confidence level"] == 0.95
    assert summary["Branches hidden (too few respondents)"] == 2
    numbers = {f"q{n}": n for n in (1, 2, 3)}
    overall_rows = {row[0]: row for row in rows_of(book["Summary"]) if row[0] in (1, 2, 3)}
    for key, cell in report["overall"]["items"].items():
        row = overall_rows[numbers[key]]
        assert row[2] == cell["n"]
        assert rounded(row[3], cell["favourable_rate"])
        assert rounded(row[4], cell["favourable_ci"][0]) and rounded(
            row[5], cell["favourable_ci"][1]
        )
        assert score(row[6], cell["score_mean"]) and score(row[7], cell["score_ci"][0])
        assert row[9:] == [cell["counts"][o] for o in OPTIONS], key

    sheet = book["Branches"]
    assert sheet.freeze_panes == "C3"
    header = rows_of(sheet)[1]
    assert header[:7] == [
        "Branch code",
        "Branch",
        "Respondents",
        "Overall favourable rate",
        "Overall favourable rate, lower limit",
        "Overall favourable rate, upper limit",
        "Against the other branches",
    ]
    assert rows_of(sheet)[0][7] == "1. +SUM(1) 徵求意見是否廣泛"
    data = rows_of(sheet, 3)
    shown_branches = [b for b in report["branches"] if not b["suppressed"]]
    assert [row[0] for row in data] == [b["code"] for b in shown_branches] == ["a", "d", "e"]
    for row, branch in zip(data, shown_branches, strict=True):
        assert row[1] == safe_cell(branch["name"])
        assert row[2] == branch["respondents"]
        figure = branch["headline"]
        if figure is None:  # d has no responses
            assert row[3:7] == [None] * 4
        else:
            assert rounded(row[3], figure["rate"])
            assert rounded(row[4], figure["ci"][0]) and rounded(row[5], figure["ci"][1])
            assert row[6] == display.group_words(figure["group"])
        for index, item in enumerate(report["items"]):
            cell = branch["items"][item["key"]]
            values = row[7 + index * 7 : 14 + index * 7]
            vs_rest = cell["vs_rest"]
            assert rounded(values[0], cell["favourable_rate"])
            assert rounded(values[1], ci(cell["favourable_ci"], 0))
            assert rounded(values[2], ci(cell["favourable_ci"], 1))
            assert values[3] == cell["n"]
            assert score(values[4], cell["score_mean"])
            assert values[5] == display.verdict_words(vs_rest["verdict"])
            assert values[6] == display.p_figure(vs_rest["p_adjusted"])

    categories = rows_of(book["Categories"], 2)
    by_code = {b["code"]: b for b in shown_branches}
    expected_rows = [
        (b["code"], c["key"], numbers[key])
        for b in shown_branches
        for c in b["categories"]
        if not c["suppressed"] and c["respondents"] > 0
        for key in c["items"]
    ]
    labels = {c["label"]: c["key"] for c in report["categories"]}
    assert [(r[0], labels[r[2]], r[4]) for r in categories] == expected_rows
    assert {r[0] for r in categories} == {"a"}  # e's two categories are both hidden
    for row in categories:
        category = next(c for c in by_code[row[0]]["categories"] if c["key"] == labels[row[2]])
        cell = category["items"][f"q{row[4]}"]
        assert row[3] == category["respondents"] and row[6] == cell["n"]
        assert rounded(row[7], cell["favourable_rate"])
        assert rounded(row[8], ci(cell["favourable_ci"], 0))
        assert rounded(row[9], ci(cell["favourable_ci"], 1))
        assert score(row[10], cell["score_mean"])

    tests = {row[0]: row for row in rows_of(book["Tests"], 2)}
    for key, result in report["tests"].items():
        chi2, kruskal = result["chi2"], result["kruskal"]
        row = tests[numbers[key]]
        assert row[2] == pytest.approx(round(chi2["statistic"], 1)) and row[3] == chi2["df"]
        assert row[4] == display.p_figure(chi2["p"])
        assert row[5] == pytest.approx(round(chi2["cramers_v"], 2))
        assert row[6] == pytest.approx(round(kruskal["statistic"], 2))
        assert row[7] == kruskal["df"] and row[8] == display.p_figure(kruskal["p"])
        assert row[9] == pytest.approx(round(kruskal["epsilon_squared"], 3))


def test_raw_sheet_holds_every_figure_of_the_json_report_at_full_precision(survey):
    report = report_dict(survey)
    sheet = workbook_of(survey)["Raw figures"]
    labels, keys, *rows = rows_of(sheet)
    assert labels[:3] == ["Level", "Branch code", "Branch"] and labels[-4:] == [
        "好",
        "比較好",
        "一般",
        "差",
    ]
    assert sheet.freeze_panes == "D3" and sheet.print_title_rows == "$1:$2"
    records = [dict(zip(keys, row, strict=True)) for row in rows]
    counts = [f"count_{o}" for o in OPTIONS]

    def same_summary(record, cell):
        assert record["n"] == cell["n"]
        for name, value in (
            ("favourable_rate", cell["favourable_rate"]),
            ("favourable_ci_lo", ci(cell["favourable_ci"], 0)),
            ("favourable_ci_hi", ci(cell["favourable_ci"], 1)),
            ("score_mean", cell["score_mean"]),
            ("score_ci_lo", ci(cell["score_ci"], 0)),
            ("score_ci_hi", ci(cell["score_ci"], 1)),
        ):
            assert close(record[name], value), (record, name)
        assert [record[c] for c in counts] == [cell["counts"][o] for o in OPTIONS]

    overall = [r for r in records if r["level"] == "overall"]
    assert [r["item_key"] for r in overall] == list(report["overall"]["items"])
    for record in overall:
        assert record["branch_name"] == "All branches"
        same_summary(record, report["overall"]["items"][record["item_key"]])

    shown_branches = {b["code"]: b for b in report["branches"] if not b["suppressed"]}
    assert {r["branch_code"] for r in records if r["level"] != "overall"} == set(shown_branches)
    for record in (r for r in records if r["level"] == "branch"):
        cell = shown_branches[record["branch_code"]]["items"][record["item_key"]]
        same_summary(record, cell)
        vs_rest = cell["vs_rest"]
        assert record["verdict"] == vs_rest["verdict"]
        assert record["verdict_words"] == display.verdict_words(vs_rest["verdict"])
        for name in ("p", "p_adjusted", "effect"):
            assert close(record[name], vs_rest[name]), name
        assert record["method"] == vs_rest["method"]

    headlines = {r["branch_code"]: r for r in records if r["level"] == "headline"}
    assert set(headlines) == {c for c, b in shown_branches.items() if b["headline"]} == {"a", "e"}
    for code, record in headlines.items():
        figure = shown_branches[code]["headline"]
        assert record["item_text"] == "Overall favourable rate" and record["item_key"] is None
        assert close(record["favourable_rate"], figure["rate"])
        assert close(record["favourable_ci_lo"], figure["ci"][0])
        assert close(record["favourable_ci_hi"], figure["ci"][1])
        assert close(record["effective_n"], figure["effective_n"])
        assert record["weighted"] == ("yes" if figure["weighted"] else "no")
        assert record["verdict"] == figure["group"]
        assert close(record["p_adjusted"], figure["p_adjusted"])

    by_category = [r for r in records if r["level"] == "category"]
    expected = {
        (code, c["key"], key): cell
        for code, b in shown_branches.items()
        for c in b["categories"]
        if not c["suppressed"] and c["respondents"] > 0
        for key, cell in c["items"].items()
    }
    assert [(r["branch_code"], r["category_key"], r["item_key"]) for r in by_category] == list(
        expected
    )
    for record in by_category:
        assert record["category_label"] in ("黨員", "羣眾")
        same_summary(
            record, expected[(record["branch_code"], record["category_key"], record["item_key"])]
        )


def test_comparison_sheet_matches_the_report(survey, make_survey):
    earlier = make_survey("earlier", state=SurveyState.CLOSED)
    for code, n in {"a": 15, "e": 20}.items():
        branch = db.session.scalar(select(Branch).where(Branch.code == code))
        submit(earlier, branch, n, seed=n)
    report = report_dict(survey, compare=earlier)
    book = workbook_of(survey, compare=earlier)
    assert "Comparison" in book.sheetnames
    rows = rows_of(book["Comparison"], 3)
    comparison = report["comparison"]
    expected = [("", key, c) for key, c in comparison["overall"].items()]
    expected += [
        (code, key, c)
        for code, by_item in comparison["branches"].items()
        for key, c in by_item.items()
    ]
    assert len(rows) == len(expected) > 3
    for row, (code, key, cmp) in zip(rows, expected, strict=True):
        assert (row[0] or "") == code and row[2] == int(key[1:])
        assert rounded(row[4], cmp["diff"])
        assert rounded(row[5], ci(cmp["diff_ci"], 0)) and rounded(row[6], ci(cmp["diff_ci"], 1))
        assert row[7] == display.p_figure(cmp["p"])
        assert row[8] == display.p_figure(cmp["mann_whitney_p"])
        assert row[9] == display.change_words(cmp["change"])


def all_text(book: openpyxl.Workbook) -> list[str]:
    return [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]


def test_suppressed_branches_are_absent_from_every_sheet(survey):
    book = workbook_of(survey)
    text = "\n".join(all_text(book))
    for secret in (*HIDDEN_CODES, *HIDDEN_NAMES, SECRET):
        assert secret not in text
    stream = io.BytesIO()
    write_csv(build_report(survey), stream)
    csv_text = stream.getvalue().decode("utf-8-sig")
    for secret in (*HIDDEN_CODES, *HIDDEN_NAMES, SECRET):
        assert secret not in csv_text


def test_raw_responses_are_anonymous_labelled_and_match_the_report(survey):
    report = report_dict(survey)
    book = workbook_of(survey)
    sheet = book["Responses"]
    header, *rows = rows_of(sheet)
    assert header == [
        "Branch code",
        "Branch",
        "Category",
        "Source",
        "1. +SUM(1) 徵求意見是否廣泛",
        "2. \t=1 談心活動是否深入",
        "3. _x000D_=1 問題找得準不準",
    ]
    lowered = " ".join(h.lower() for h in header)
    for forbidden in ("id", "date", "time", "submitted"):
        assert forbidden not in lowered.split()
    assert sheet.freeze_panes == "A2"
    *rows, blank, note = rows
    assert blank == [None] * len(header)
    # a's members are 7 on the web and 2 on paper: the 2 paper ballots would single people out
    # (by their source, or by an item left blank, which only paper allows), so that whole
    # group's rows are left out; they still count in every figure, and the sheet says so.
    assert note[0].startswith("9 responses are counted in every figure but not listed here")
    # Only shown branches with respondents: a (14, 9 of them withheld) and e (35).
    assert Counter(row[0] for row in rows) == {"a": 5, "e": 35}
    # Labels, not keys: the category's and the option's as the survey defines them, the source
    # in the reader's language.
    assert Counter((row[0], row[1], row[2], row[3]) for row in rows) == {
        ("a", "'=cmd|' /C calc'!A0", "羣眾", "Paper"): 5,
        ("e", "第五支部", None, "Web"): 35,  # both of e's categories are hidden: blanked
    }
    labels = dict(zip(OPTIONS, ("好", "比較好", "一般", "差"), strict=True))
    by_code = {b["code"]: b for b in report["branches"]}
    a_public = next(c for c in by_code["a"]["categories"] if c["key"] == "public")
    for index, item in enumerate(("q1", "q2", "q3")):
        for code, expected in (
            ("a", a_public["items"][item]["counts"]),
            ("e", by_code["e"]["items"][item]["counts"]),
        ):
            answered = Counter(row[4 + index] for row in rows if row[0] == code)
            answered.pop(None, None)
            assert answered == {labels[k]: v for k, v in expected.items() if v}, (code, item)


def test_raw_responses_and_comments_come_in_random_order(survey):
    orders = set()
    comment_orders = set()
    for _ in range(4):
        book = workbook_of(survey)
        orders.add(tuple(tuple(row) for row in rows_of(book["Responses"], 2)[:-2]))
        comment_orders.add(tuple(row[2] for row in rows_of(book["Comments"], 2)))
    assert len(orders) > 1 and len(comment_orders) > 1


def test_formula_injection_is_neutralised_in_xlsx(survey):
    book = workbook_of(survey)
    cells = {
        cell.value: cell
        for row in book["Comments"].iter_rows(min_row=2)
        for cell in row
        if cell.value is not None
    }
    for payload in PAYLOADS:
        # Comments are stored stripped, so "\t=1" arrives as "=1".
        cell = cells["'" + payload.strip()]
        assert cell.data_type == "s"
        assert cell.value.startswith("'")
    texts = {row[0].value: row[1] for row in book["Summary"].iter_rows() if row[0].value}
    for key, text in ((1, "+SUM(1)"), (2, "\t=1"), (3, "\r=1")):
        assert texts[key].data_type == "s"
        # XML cannot hold a bare CR: it is stored as _x000D_, which Excel reads back as CR.
        assert texts[key].value.replace("_x000D_", "\r").startswith("'" + text)
    assert cells["領導帶頭作用發揮得好"].data_type == "s"
    assert "整改措施落實" in cells
    name = book["Branches"]["B3"]
    assert name.data_type == "s" and name.value == "'=cmd|' /C calc'!A0"
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))


CSV_HEADER = [
    "Branch code",
    "Branch",
    "Respondents",
    "Item key",
    "Question",
    "Answers",
    "Favourable rate (%)",
    "Lower limit (%)",
    "Upper limit (%)",
    "Mean score",
    "Score lower limit",
    "Score upper limit",
    "Against the other branches",
    "Adjusted p",
    "Difference from the other branches (points)",
]


def percent_text(text: str) -> str:
    """A CSV percentage as the page writes it."""
    return "—" if text == "" else f"{text}%"


def test_csv_is_utf8_with_bom_neutralised_and_rounded_as_the_pages(survey):
    report = report_dict(survey)
    stream = io.BytesIO()
    write_csv(build_report(survey), stream)
    data = stream.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, *body = rows
    assert header == [*CSV_HEADER, "好", "比較好", "一般", "差"]
    for row in body:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")) or _number(value)
    records = [dict(zip(header, row, strict=True)) for row in body]
    places = [(r["Branch code"], r["Item key"]) for r in records]
    assert places == [("", f"q{n}") for n in (1, 2, 3)] + [
        ("a", ""), *(("a", f"q{n}") for n in (1, 2, 3)),
        *(("d", f"q{n}") for n in (1, 2, 3)),
        ("e", ""), *(("e", f"q{n}") for n in (1, 2, 3)),
    ]  # fmt: skip
    first = records[0]
    assert first["Branch"] == "All branches"
    assert first["Question"] == "'+SUM(1) 徵求意見是否廣泛"
    assert records[3]["Branch"] == "'=cmd|' /C calc'!A0"
    by_code = {b["code"]: b for b in report["branches"]}
    for record in records:
        if record["Item key"] == "":  # the branch's headline figure, as the pages name it
            figure = by_code[record["Branch code"]]["headline"]
            assert record["Question"] == "Overall favourable rate"
            assert percent_text(record["Favourable rate (%)"]) == display.percent(figure["rate"])
            assert percent_text(record["Lower limit (%)"]) == display.percent(figure["ci"][0])
            assert record["Against the other branches"] == display.group_words(figure["group"])
            continue
        if record["Branch code"] == "":
            cell = report["overall"]["items"][record["Item key"]]
            assert record["Against the other branches"] == ""
        else:
            cell = by_code[record["Branch code"]]["items"][record["Item key"]]
            vs_rest = cell["vs_rest"]
            words = display.verdict_words(vs_rest["verdict"])
            assert record["Against the other branches"] == words
            assert record["Adjusted p"] == (display.p_figure(vs_rest["p_adjusted"]) or "")
            if vs_rest["verdict"] in ("too_few", "not_tested") or vs_rest["effect"] is None:
                assert record["Difference from the other branches (points)"] == ""
            else:
                points = record["Difference from the other branches (points)"]
                assert f"{float(points):+.1f}" == display.points(vs_rest["effect"])
        assert int(record["Answers"]) == cell["n"]
        assert percent_text(record["Favourable rate (%)"]) == display.percent(
            cell["favourable_rate"]
        )
        lo, hi = cell["favourable_ci"] or (None, None)
        assert percent_text(record["Lower limit (%)"]) == display.percent(lo)
        assert percent_text(record["Upper limit (%)"]) == display.percent(hi)
        for name, value in (
            ("Mean score", cell["score_mean"]),
            ("Score lower limit", ci(cell["score_ci"], 0)),
            ("Score upper limit", ci(cell["score_ci"], 1)),
        ):
            assert record[name] == ("" if value is None else str(round(value, 2))), name
        labels = ("好", "比較好", "一般", "差")
        assert {o: int(record[label]) for o, label in zip(OPTIONS, labels, strict=True)} == (
            cell["counts"]
        )


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("好", "好"),
        ("a=b", "a=b"),
        ("", ""),
        (-2, -2),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_export_file_streams_records_audit_and_respects_seals(
    app: Flask, survey, make_survey, make_user
):
    user = make_user("office", Role.ADMIN)
    export = export_file(survey, "xlsx", user=user)
    assert export.filename == "export-report.xlsx"
    assert export.mimetype.startswith("application/vnd.openxmlformats")
    assert export.stream.read(2) == b"PK"
    export.stream.seek(0)
    export.stream.close()
    entries = db.session.execute(select(AuditEntry.username, AuditEntry.action, AuditEntry.detail))
    assert [tuple(e) for e in entries] == [("office", "report.export", "survey=export format=xlsx")]

    sealed = make_survey("sealed", state=SurveyState.OPEN)
    with pytest.raises(ResultsSealed):
        export_file(sealed, "csv", user=user)
    assert (
        db.session.scalar(select(AuditEntry.id).where(AuditEntry.detail.like("%sealed%"))) is None
    )
    with pytest.raises(BadRequest):
        export_file(survey, "pdf", user=user)


def test_a_branch_limited_export_holds_only_that_branch(survey):
    branch = db.session.scalar(select(Branch).where(Branch.code == "e"))
    export = export_file(survey, "xlsx", branch_id=branch.id)
    book = openpyxl.load_workbook(export.stream)
    export.stream.close()
    assert [row[0] for row in rows_of(book["Branches"], 3)] == ["e"]
    assert {row[0] for row in rows_of(book["Responses"], 2)} == {"e"}
    assert [row[2] for row in rows_of(book["Comments"], 2)] == ["整改措施落實"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_export_never_holds_the_sqlite_write_lock(app: Flask, survey, monkeypatch):
    """While the workbook streams, a respondent's write goes through at once; the control shows
    that an ordinary session transaction would have blocked it."""
    outcomes: list[str] = []

    original = Sheet.write_texts

    def write_texts(self, values):
        if not outcomes:
            outcomes.append(write_from_elsewhere(app, "during-export"))
        return original(self, values)

    monkeypatch.setattr(Sheet, "write_texts", write_texts)
    export_file(survey, "xlsx").stream.close()
    assert outcomes == ["written"]

    db.session.scalar(select(Branch.id).limit(1))  # an ordinary transaction: BEGIN IMMEDIATE
    assert write_from_elsewhere(app, "during-session") == "database is locked"
    db.session.rollback()
