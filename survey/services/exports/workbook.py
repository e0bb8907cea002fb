"""The xlsx workbook of a report, for a leader: the one-page ranking, the summary with the
survey's facts, branches × items, categories, tests, the comparison (when asked), comments, raw
anonymous responses, and the raw figures.

Every sheet speaks the reader's language (labels, never keys: 比較好, 黨員, 紙質), rounds its
figures as the pages show them and prints on A4 landscape, one page wide, with its header rows
on every page; the raw sheet (:mod:`.raw`) keeps full precision and the keys. XlsxWriter runs
in ``constant_memory`` mode and comments and raw responses stream from the database (see
:mod:`survey.services.exports.disclosure`), so memory stays flat for any survey.
"""

from __future__ import annotations

from typing import IO, Any

import xlsxwriter
from flask_babel import gettext as _

from analytics import Summary
from survey import display
from survey.db import db
from survey.models import Survey
from survey.services.exports import disclosure
from survey.services.exports.cells import Sheet, formats
from survey.services.exports.leader import facts, ranking_sheet, share, source_labels
from survey.services.exports.raw import raw_sheet
from survey.services.report import Report

#: Columns per item on the branches sheet.
ITEM_WIDTH = 7

#: Number formats of one summary's cells (see :func:`summary_cells`).
SUMMARY_KINDS = ["int", "percent", "percent", "percent", "score", "score", "score"]


def _end(values: tuple[float, float] | None, index: int) -> float | None:
    return None if values is None else values[index]


def _score(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summary_cells(summary: Summary) -> list[Any]:
    """One summary's figures in the column order every sheet uses, rounded as pages show them:
    answers, favourable rate and its limits, mean score and its limits."""
    return [
        summary.n,
        share(summary.favourable_rate),
        share(_end(summary.favourable_ci, 0)),
        share(_end(summary.favourable_ci, 1)),
        _score(summary.score_mean),
        _score(_end(summary.score_ci, 0)),
        _score(_end(summary.score_ci, 1)),
    ]


def _summary_sheet(workbook, styles, report: Report, survey: Survey) -> None:
    sheet = Sheet(workbook, _("Summary"), styles)
    sheet.widths([34, 30, 12, 12, 12, 12, 12, 12, 12] + [10] * len(report.scale))
    sheet.write([report.survey.title], ["title"])
    for label, value, kind in facts(report, survey):
        sheet.write([label, value], ["label", kind])
    sheet.write([])
    sheet.header(
        [
            _("Item"),
            _("Question"),
            _("Answers"),
            _("Favourable rate"),
            _("Lower limit"),
            _("Upper limit"),
            _("Mean score"),
            _("Score lower limit"),
            _("Score upper limit"),
            *[option.label for option in report.scale],
        ]
    )
    sheet.sheet.freeze_panes(sheet.row, 0)
    sheet.print_setup(report.survey.title, header_rows=0)
    sheet.sheet.repeat_rows(sheet.row - 1)
    overall = report.analysis.overall or {}
    kinds = [None, None, *SUMMARY_KINDS] + ["int"] * len(report.scale)
    for item in report.items:
        if item.key in overall:
            summary = overall[item.key]
            sheet.write([item.number, item.text, *summary_cells(summary), *summary.counts], kinds)


def _branch_headers(sheet: Sheet, report: Report, fixed: list[str], styles) -> None:
    """The branches sheet's two header rows: each item's number and text over its merged
    columns, then the figures' names."""
    top = [""] * len(fixed)
    for item in report.items:
        top += [f"{item.number}. {item.text}"] + [""] * (ITEM_WIDTH - 1)
    sheet.header(top)
    for index in range(len(report.items)):
        first = len(fixed) + index * ITEM_WIDTH
        sheet.sheet.merge_range(0, first, 0, first + ITEM_WIDTH - 1, top[first], styles["header"])
    per_item = (
        _("Favourable rate"),
        _("Lower limit"),
        _("Upper limit"),
        _("Answers"),
        _("Mean score"),
        _("Against the other branches"),
        _("Adjusted p"),
    )
    sheet.header(fixed + [label for _item in report.items for label in per_item])


def _fixed_columns(report: Report) -> list[str]:
    """The branches sheet's columns before the items: the branch and its headline figure."""
    name = display.headline_name()
    columns = [
        _("Branch code"),
        _("Branch"),
        _("Respondents"),
        name,
        _("%(figure)s, lower limit", figure=name),
        _("%(figure)s, upper limit", figure=name),
        _("Against the other branches"),
    ]
    if report.survey.target is not None:
        columns.append(
            _("Against the target of %(target)s", target=display.percent(report.survey.target))
        )
    return columns


def _headline_cells(report: Report, branch) -> list[Any]:
    headline = branch.headline
    values: list[Any] = (
        [None] * 4
        if headline is None
        else [
            share(headline.rate),
            share(headline.ci[0]),
            share(headline.ci[1]),
            display.group_words(headline.group),
        ]
    )
    if report.survey.target is not None:
        mark = None if headline is None else headline.versus_target
        values.append(None if headline is None else display.target_words(mark))
    return values


def _branches_sheet(workbook, styles, report: Report) -> None:
    sheet = Sheet(workbook, _("Branches"), styles)
    fixed = _fixed_columns(report)
    sheet.widths(
        [12, 24, 11, 11, 11, 11, 26, 24][: len(fixed)] + [9] * (ITEM_WIDTH * len(report.items))
    )
    _branch_headers(sheet, report, fixed, styles)
    sheet.sheet.freeze_panes(2, 2)
    sheet.print_setup(report.survey.title, header_rows=2)
    kinds = [None, None, "int", "percent", "percent", "percent", None, None][: len(fixed)]
    kinds += ["percent", "percent", "percent", "int", "score", None, None] * len(report.items)
    for branch in disclosure.listed_branches(report):
        result = branch.result
        values: list[Any] = [
            branch.code,
            branch.name,
            result.respondents,
            *_headline_cells(report, branch),
        ]
        items, vs_rest = result.items or {}, result.vs_rest or {}
        for item in report.items:
            cell, mark = items.get(item.key), vs_rest.get(item.key)
            if cell is None:
                values += [None] * ITEM_WIDTH
                continue
            values += [
                *summary_cells(cell)[1:4],
                cell.n,
                _score(cell.score_mean),
                None if mark is None else display.verdict_words(mark.verdict),
                None if mark is None else display.p_figure(mark.p_adjusted),
            ]
        sheet.write(values, kinds)


def _categories_sheet(workbook, styles, report: Report) -> None:
    sheet = Sheet(workbook, _("Categories"), styles)
    sheet.widths([12, 24, 12, 11, 6, 30, 9, 11, 11, 11, 11])
    sheet.header(
        [
            _("Branch code"),
            _("Branch"),
            _("Category"),
            _("Respondents"),
            _("Item"),
            _("Question"),
            _("Answers"),
            _("Favourable rate"),
            _("Lower limit"),
            _("Upper limit"),
            _("Mean score"),
        ]
    )
    sheet.sheet.freeze_panes(1, 0)
    sheet.print_setup(report.survey.title, header_rows=1)
    labels = {c.key: c.label for c in report.categories}
    kinds = [None, None, None, "int", None, None, *SUMMARY_KINDS[:5]]
    for branch in disclosure.listed_branches(report):
        for category in branch.result.categories.values():
            if category.suppressed or category.respondents == 0 or not category.items:
                continue
            for item in report.items:
                if item.key not in category.items:
                    continue
                sheet.write(
                    [
                        branch.code,
                        branch.name,
                        labels.get(category.key, category.key),
                        category.respondents,
                        item.number,
                        item.text,
                        *summary_cells(category.items[item.key])[:5],
                    ],
                    kinds,
                )


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _tests_sheet(workbook, styles, report: Report) -> None:
    """The omnibus tests, rounded as the survey page's details give them."""
    sheet = Sheet(workbook, _("Tests"), styles)
    sheet.widths([6, 30, 11, 6, 9, 11, 14, 6, 9, 14])
    sheet.header(
        [
            _("Item"),
            _("Question"),
            _("Chi-squared"),
            _("df"),
            _("p"),
            _("Cramér's V"),
            _("Kruskal–Wallis H"),
            _("df"),
            _("p"),
            _("Epsilon squared"),
        ]
    )
    sheet.sheet.freeze_panes(1, 0)
    sheet.print_setup(report.survey.title, header_rows=1)
    tests = report.analysis.tests or {}
    kinds = [None, None, "one", "int", None, "score", "score", "int", None, "ratio"]
    for item in report.items:
        if item.key not in tests:
            continue
        chi2, kruskal = tests[item.key].chi2, tests[item.key].kruskal
        sheet.write(
            [
                item.number,
                item.text,
                _rounded(chi2.statistic, 1),
                chi2.df,
                display.p_figure(chi2.p),
                _rounded(chi2.cramers_v, 2),
                _rounded(kruskal.statistic, 2),
                kruskal.df,
                display.p_figure(kruskal.p),
                _rounded(kruskal.epsilon_squared, 3),
            ],
            kinds,
        )


def _comparison_sheet(workbook, styles, report: Report) -> None:
    comparison = report.comparison
    sheet = Sheet(workbook, _("Comparison"), styles)
    sheet.widths([12, 24, 6, 30, 11, 11, 11, 9, 13, 16])
    sheet.write([_("Compared with"), comparison.against_title], ["header"])
    sheet.header(
        [
            _("Branch code"),
            _("Branch"),
            _("Item"),
            _("Question"),
            _("Difference"),
            _("Lower limit"),
            _("Upper limit"),
            _("p"),
            _("Mann–Whitney p"),
            _("Change"),
        ]
    )
    sheet.sheet.freeze_panes(2, 0)
    sheet.print_setup(report.survey.title, header_rows=2)
    names = {b.code: b.name for b in report.branches}
    kinds = [None, None, None, None, "percent", "percent", "percent", None, None, None]
    scopes = [("", _("All branches"), comparison.overall)]
    scopes += [(code, names.get(code, ""), c) for code, c in comparison.branches.items()]
    for code, name, by_item in scopes:
        for item in report.items:
            change = by_item.get(item.key)
            if change is None:
                continue
            sheet.write(
                [
                    code,
                    name,
                    item.number,
                    item.text,
                    share(change.diff),
                    share(_end(change.diff_ci, 0)),
                    share(_end(change.diff_ci, 1)),
                    display.p_figure(change.p),
                    display.p_figure(change.mann_whitney_p),
                    display.change_words(change.change),
                ],
                kinds,
            )


def _comments_sheet(workbook, styles, connection, report: Report, survey: Survey) -> None:
    sheet = Sheet(workbook, _("Comments"), styles)
    sheet.widths([12, 24, 100])
    sheet.header([_("Branch code"), _("Branch"), _("Comment")])
    sheet.sheet.freeze_panes(1, 0)
    sheet.print_setup(report.survey.title, header_rows=1)
    for code, name, text in disclosure.comments(connection, survey, report):
        sheet.write_texts((code, name, text))


def _responses_sheet(workbook, styles, connection, report: Report, survey: Survey) -> None:
    """Raw anonymous responses with labels, not keys: 黨員, 紙質, 比較好."""
    sheet = Sheet(workbook, _("Responses"), styles)
    sheet.widths([12, 24, 12, 8] + [14] * len(report.items))
    items = [f"{item.number}. {item.text}" for item in report.items]
    sheet.header([_("Branch code"), _("Branch"), _("Category"), _("Source"), *items])
    sheet.sheet.freeze_panes(1, 0)
    sheet.print_setup(report.survey.title, header_rows=1)
    names = {b.code: b.name for b in report.branches}
    categories = {c.key: c.label for c in report.categories}
    sources = source_labels()
    options = {o.key: o.label for o in report.scale}
    raw = disclosure.raw_responses(connection, survey, report)
    for code, category, source, answers in raw.rows:
        sheet.write_texts(
            (
                code,
                names.get(code),
                None if category is None else categories.get(category, category),
                sources.get(source, source),
                *(None if key is None else options.get(key, key) for key in answers),
            )
        )
    if raw.withheld:
        sheet.write([])
        sheet.write(
            [
                _(
                    "%(n)d responses are counted in every figure but not listed here: in their "
                    "branch and category, web or paper answers number fewer than %(k)d, and "
                    "their rows would show who answered on paper.",
                    n=raw.withheld,
                    k=survey.threshold,
                )
            ]
        )


def write_xlsx(report: Report, survey: Survey, stream: IO[bytes]) -> None:
    """Write the report as a workbook (see the module docstring for its sheets)."""
    workbook = xlsxwriter.Workbook(
        stream,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "in_memory": False,
        },
    )
    styles = formats(workbook)
    ranking_sheet(workbook, styles, report)
    _summary_sheet(workbook, styles, report, survey)
    _branches_sheet(workbook, styles, report)
    _categories_sheet(workbook, styles, report)
    _tests_sheet(workbook, styles, report)
    if report.comparison is not None:
        _comparison_sheet(workbook, styles, report)
    # Comments and raw answers stream through a read-only connection: on SQLite it never takes
    # the write lock, however long the workbook takes to write.
    with db.reading() as connection:
        _comments_sheet(workbook, styles, connection, report, survey)
        _responses_sheet(workbook, styles, connection, report, survey)
    raw_sheet(workbook, styles, report)
    workbook.close()
