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
from survey.services.exports.long_csv import CSV_COLUMNS
from survey.services.exports.workbook import BRANCH_COLUMNS, ITEM_COLUMNS
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


def test_xlsx_has_every_figure_of_the_json_report(survey):
    report = report_dict(survey)
    book = workbook_of(survey)
    assert book.sheetnames == [
        "Summary",
        "Branches",
        "Categories",
        "Tests",
        "Comments",
        "Responses",
    ]

    summary = {row[0]: row[1] for row in rows_of(book["Summary"], 2) if row and row[0]}
    assert summary["Survey"] == "export"
    assert summary["Respondents"] == report["respondents"] == 58
    headline = report["overall"]["headline"]
    assert close(summary["Favourable rate (mean over items)"], headline["favourable_rate"])
    assert close(summary["Favourable rate, lower limit"], headline["favourable_ci"][0])
    assert close(summary["Favourable rate, upper limit"], headline["favourable_ci"][1])
    assert close(summary["Cronbach's alpha"], report["reliability"]["cronbach_alpha"])
    assert summary["Smallest group shown (threshold)"] == 5
    overall_rows = {
        row[0]: row for row in rows_of(book["Summary"]) if row[0] in report["overall"]["items"]
    }
    for key, cell in report["overall"]["items"].items():
        row = overall_rows[key]
        expected = [
            cell["n"],
            cell["favourable_rate"],
            *cell["favourable_ci"],
            cell["score_mean"],
            *cell["score_ci"],
            *[cell["counts"][o] for o in OPTIONS],
        ]
        assert all(close(v, e) for v, e in zip(row[2:], expected, strict=True)), key

    sheet = book["Branches"]
    assert sheet.freeze_panes == "C3"
    data = rows_of(sheet, 3)
    shown = [b for b in report["branches"] if not b["suppressed"]]
    assert [row[0] for row in data] == [b["code"] for b in shown] == ["a", "d", "e"]
    for row, branch in zip(data, shown, strict=True):
        assert row[1] == safe_cell(branch["name"])
        assert row[2] == branch["respondents"]
        composite = branch["composite"]
        weighted = composite["weighted"] or {}
        fixed = [
            composite["favourable_rate"],
            composite["score_mean"],
            weighted.get("rate"),
            weighted.get("lo"),
            weighted.get("hi"),
            branch["rank"],
        ]
        assert all(close(v, e) for v, e in zip(row[3 : len(BRANCH_COLUMNS)], fixed, strict=True))
        for index, item in enumerate(report["items"]):
            cell = branch["items"][item["key"]]
            start = len(BRANCH_COLUMNS) + index * len(ITEM_COLUMNS)
            values = row[start : start + len(ITEM_COLUMNS)]
            vs_rest = cell["vs_rest"]
            assert close(values[0], cell["favourable_rate"])
            assert close(values[1], ci(cell["favourable_ci"], 0))
            assert close(values[2], ci(cell["favourable_ci"], 1))
            assert values[3] == cell["n"]
            assert close(values[4], cell["score_mean"])
            if vs_rest["p_adjusted"] is None:
                assert values[5] is None and values[6] is None
            else:
                assert values[5] == display.signal_words(vs_rest["signal"])
                assert close(values[6], vs_rest["p_adjusted"])

    categories = rows_of(book["Categories"], 2)
    by_code = {b["code"]: b for b in shown}
    expected_rows = [
        (b["code"], c["key"], key)
        for b in shown
        for c in b["categories"]
        if not c["suppressed"] and c["respondents"] > 0
        for key in c["items"]
    ]
    labels = {c["label"]: c["key"] for c in report["categories"]}
    assert [(r[0], labels[r[2]], r[4]) for r in categories] == expected_rows
    assert {r[0] for r in categories} == {"a"}  # e's two categories are both hidden
    for row in categories:
        category = next(c for c in by_code[row[0]]["categories"] if c["key"] == labels[row[2]])
        cell = category["items"][row[4]]
        assert row[3] == category["respondents"] and row[6] == cell["n"]
        assert close(row[7], cell["favourable_rate"])
        assert close(row[8], ci(cell["favourable_ci"], 0))
        assert close(row[9], ci(cell["favourable_ci"], 1))
        assert close(row[10], cell["score_mean"])

    tests = {row[0]: row for row in rows_of(book["Tests"], 2)}
    for key, result in report["tests"].items():
        chi2, kruskal = result["chi2"], result["kruskal"]
        expected = [
            chi2["statistic"],
            chi2["df"],
            chi2["p"],
            chi2["cramers_v"],
            kruskal["statistic"],
            kruskal["df"],
            kruskal["p"],
            kruskal["epsilon_squared"],
        ]
        assert all(close(v, e) for v, e in zip(tests[key][2:], expected, strict=True)), key


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
        assert (row[0] or "") == code and row[2] == key
        assert close(row[4], cmp["diff"])
        assert close(row[5], ci(cmp["diff_ci"], 0)) and close(row[6], ci(cmp["diff_ci"], 1))
        assert close(row[7], cmp["p"]) and close(row[8], cmp["mann_whitney_p"])


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


def test_raw_responses_are_anonymous_and_match_the_report(survey):
    report = report_dict(survey)
    book = workbook_of(survey)
    sheet = book["Responses"]
    header, *rows = rows_of(sheet)
    assert header == ["Branch code", "Category", "Source", "q1", "q2", "q3"]
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
    assert Counter((row[0], row[1], row[2]) for row in rows) == {
        ("a", "public", "paper"): 5,
        ("e", None, "web"): 35,  # both of e's categories are suppressed: the key is blanked
    }
    by_code = {b["code"]: b for b in report["branches"]}
    a_public = next(c for c in by_code["a"]["categories"] if c["key"] == "public")
    for index, item in enumerate(("q1", "q2", "q3")):
        for code, expected in (
            ("a", a_public["items"][item]["counts"]),
            ("e", by_code["e"]["items"][item]["counts"]),
        ):
            answered = Counter(row[3 + index] for row in rows if row[0] == code)
            answered.pop(None, None)
            assert answered == {k: v for k, v in expected.items() if v}, (code, item)


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
    for key, text in (("q1", "+SUM(1)"), ("q2", "\t=1"), ("q3", "\r=1")):
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


def test_csv_is_utf8_with_bom_and_neutralised(survey):
    report = report_dict(survey)
    stream = io.BytesIO()
    write_csv(build_report(survey), stream)
    data = stream.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, *body = rows
    assert header == [*CSV_COLUMNS, *(f"count_{o}" for o in OPTIONS)]
    for row in body:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")) or _number(value)
    records = [dict(zip(header, row, strict=True)) for row in body]
    assert [(r["level"], r["branch_code"]) for r in records] == [("overall", "")] * 3 + [
        ("branch", code) for code in ("a", "d", "e") for _ in range(3)
    ]
    first = records[0]
    assert first["item_text"] == "'+SUM(1) 徵求意見是否廣泛"
    assert records[3]["branch_name"] == "'=cmd|' /C calc'!A0"
    by_code = {b["code"]: b for b in report["branches"]}
    for record in records:
        if record["level"] == "overall":
            cell = report["overall"]["items"][record["item_key"]]
        else:
            cell = by_code[record["branch_code"]]["items"][record["item_key"]]
            assert record["signal"] == cell["vs_rest"]["signal"]
            assert _value(record["p_adjusted"]) == cell["vs_rest"]["p_adjusted"]
        assert int(record["n"]) == cell["n"]
        assert _value(record["favourable_rate"]) == cell["favourable_rate"]
        assert _value(record["favourable_ci_lo"]) == ci(cell["favourable_ci"], 0)
        assert _value(record["favourable_ci_hi"]) == ci(cell["favourable_ci"], 1)
        assert _value(record["score_mean"]) == cell["score_mean"]
        assert _value(record["score_ci_lo"]) == ci(cell["score_ci"], 0)
        assert _value(record["score_ci_hi"]) == ci(cell["score_ci"], 1)
        assert {o: int(record[f"count_{o}"]) for o in OPTIONS} == cell["counts"]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _value(text: str) -> float | None:
    """A CSV number back as float (Python writes floats with repr, so exactly), '' as None."""
    return None if text == "" else float(text)


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
