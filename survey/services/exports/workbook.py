"""The xlsx workbook of a report, for people: summary, branches × items, categories, tests,
the comparison (when asked), comments and raw anonymous responses.

XlsxWriter runs in ``constant_memory`` mode and comments and raw responses stream from the
database (see :mod:`survey.services.exports.disclosure`), so memory stays flat for any survey.
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
from survey.services.report import Report

#: Columns per item on the branches sheet, in this order.
ITEM_COLUMNS = ("rate", "ci_lo", "ci_hi", "n", "score", "signal", "p_adjusted")

#: Fixed columns before the item columns on the branches sheet.
BRANCH_COLUMNS = (
    "code",
    "name",
    "respondents",
    "composite_rate",
    "composite_score",
    "weighted_rate",
    "weighted_lo",
    "weighted_hi",
    "rank",
)

#: Number formats of one summary's cells (see :func:`summary_cells`).
SUMMARY_KINDS = ["int", "percent", "percent", "percent", "score", "score", "score"]


def _end(values: tuple[float, float] | None, index: int) -> float | None:
    return None if values is None else values[index]


def summary_cells(summary: Summary) -> list[Any]:
    """One summary's figures in the column order every sheet and the CSV use."""
    return [
        summary.n,
        summary.favourable_rate,
        _end(summary.favourable_ci, 0),
        _end(summary.favourable_ci, 1),
        summary.score_mean,
        _end(summary.score_ci, 0),
        _end(summary.score_ci, 1),
    ]


def _facts(report: Report) -> list[tuple[str, Any, str | None]]:
    """The summary sheet's label, value and format rows."""
    facts, headline = report.survey, report.headline
    rows: list[tuple[str, Any, str | None]] = [
        (_("Survey"), facts.slug, None),
        (_("Campaign"), facts.campaign, None),
        (_("Kind"), facts.kind.value, None),
        (_("State"), facts.state.value, None),
        (_("Respondents"), report.analysis.respondents, "int"),
        (_("Favourable rate (mean over items)"), headline.favourable_rate, "percent"),
        (_("Favourable rate, lower limit"), _end(headline.favourable_ci, 0), "percent"),
        (_("Favourable rate, upper limit"), _end(headline.favourable_ci, 1), "percent"),
        (_("Cronbach's alpha"), report.analysis.cronbach_alpha, "ratio"),
        (_("Smallest group shown (threshold)"), facts.threshold, "int"),
        (_("Confidence level"), report.confidence, "percent"),
        (_("Branches hidden (too few respondents)"), report.analysis.suppressed_branches, "int"),
    ]
    if report.comparison is not None:
        rows.append((_("Compared with"), report.comparison.against, None))
    return rows


def _summary_sheet(workbook, styles, report: Report) -> None:
    sheet = Sheet(workbook, _("Summary"), styles)
    sheet.widths([34, 14, 12, 12, 12, 12, 12, 12, 12] + [10] * len(report.scale))
    sheet.write([report.survey.title], ["title"])
    for label, value, kind in _facts(report):
        sheet.write([label, value], [None, kind])
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
    texts = report.item_texts()
    kinds = [None, None, *SUMMARY_KINDS] + ["int"] * len(report.scale)
    for key, summary in (report.analysis.overall or {}).items():
        sheet.write([key, texts.get(key, ""), *summary_cells(summary), *summary.counts], kinds)


def _branch_headers(sheet: Sheet, report: Report, styles) -> None:
    """The branches sheet's two header rows: each item's name over its merged columns, then
    the figures' names."""
    width, fixed = len(ITEM_COLUMNS), len(BRANCH_COLUMNS)
    top = [""] * fixed
    for item in report.items:
        top += [f"{item.key} {item.text}"] + [""] * (width - 1)
    sheet.header(top)
    for index in range(len(report.items)):
        first = fixed + index * width
        sheet.sheet.merge_range(0, first, 0, first + width - 1, top[first], styles["header"])
    per_item = (
        _("Favourable rate"),
        _("Lower limit"),
        _("Upper limit"),
        _("Answers"),
        _("Mean score"),
        _("Against the rest"),
        _("Adjusted p"),
    )
    sheet.header(
        [
            _("Branch code"),
            _("Branch"),
            _("Respondents"),
            _("Composite rate"),
            _("Composite score"),
            _("Weighted rate"),
            _("Weighted lower limit"),
            _("Weighted upper limit"),
            _("Rank"),
        ]
        + [label for _item in report.items for label in per_item]
    )


def _branches_sheet(workbook, styles, report: Report) -> None:
    sheet = Sheet(workbook, _("Branches"), styles)
    sheet.widths(
        [12, 24, 11, 11, 11, 11, 11, 11, 7] + [9] * (len(ITEM_COLUMNS) * len(report.items))
    )
    _branch_headers(sheet, report, styles)
    sheet.sheet.freeze_panes(2, 2)
    kinds = [None, None, "int", "percent", "score", "percent", "percent", "percent", "int"]
    kinds += ["percent", "percent", "percent", "int", "score", None, "p"] * len(report.items)
    for branch in disclosure.listed_branches(report):
        result = branch.result
        composite = result.composite
        weighted = composite.weighted if composite is not None else None
        values: list[Any] = [
            branch.code,
            branch.name,
            result.respondents,
            composite.favourable_rate if composite else None,
            composite.score_mean if composite else None,
            weighted.rate if weighted else None,
            weighted.lo if weighted else None,
            weighted.hi if weighted else None,
            result.rank,
        ]
        for item in report.items:
            cell, vs_rest = result.items[item.key], result.vs_rest[item.key]
            marked = vs_rest.p_adjusted is not None
            values += [
                *summary_cells(cell)[1:4],
                cell.n,
                cell.score_mean,
                display.signal_words(vs_rest.signal) if marked else None,
                vs_rest.p_adjusted,
            ]
        sheet.write(values, kinds)


def _categories_sheet(workbook, styles, report: Report) -> None:
    sheet = Sheet(workbook, _("Categories"), styles)
    sheet.widths([12, 24, 12, 11, 8, 30, 9, 11, 11, 11, 11])
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
    labels = {c.key: c.label for c in report.categories}
    texts = report.item_texts()
    kinds = [None, None, None, "int", None, None, *SUMMARY_KINDS[:5]]
    for branch in disclosure.listed_branches(report):
        for category in branch.result.categories.values():
            if category.suppressed or category.respondents == 0:
                continue
            for key, cell in category.items.items():
                sheet.write(
                    [
                        branch.code,
                        branch.name,
                        labels.get(category.key, category.key),
                        category.respondents,
                        key,
                        texts.get(key, ""),
                        *summary_cells(cell)[:5],
                    ],
                    kinds,
                )


def _tests_sheet(workbook, styles, report: Report) -> None:
    sheet = Sheet(workbook, _("Tests"), styles)
    sheet.widths([8, 30, 11, 6, 11, 11, 11, 6, 11, 11])
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
    texts = report.item_texts()
    kinds = [None, None, "ratio", "int", "p", "ratio", "ratio", "int", "p", "ratio"]
    for key, tests in (report.analysis.tests or {}).items():
        chi2, kruskal = tests.chi2, tests.kruskal
        sheet.write(
            [
                key,
                texts.get(key, ""),
                chi2.statistic,
                chi2.df,
                chi2.p,
                chi2.cramers_v,
                kruskal.statistic,
                kruskal.df,
                kruskal.p,
                kruskal.epsilon_squared,
            ],
            kinds,
        )


def _comparison_sheet(workbook, styles, report: Report) -> None:
    comparison = report.comparison
    sheet = Sheet(workbook, _("Comparison"), styles)
    sheet.widths([12, 24, 8, 30, 11, 11, 11, 11, 13, 16])
    sheet.write(
        [_("Compared with"), f"{comparison.against} {comparison.against_title}"], ["header"]
    )
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
    texts = report.item_texts()
    names = {b.code: b.name for b in report.branches}
    kinds = [None, None, None, None, "percent", "percent", "percent", "p", "p", None]
    scopes = [("", _("All branches"), comparison.overall)]
    scopes += [(code, names.get(code, ""), c) for code, c in comparison.branches.items()]
    for code, name, by_item in scopes:
        for key, change in by_item.items():
            sheet.write(
                [
                    code,
                    name,
                    key,
                    texts.get(key, ""),
                    change.diff,
                    _end(change.diff_ci, 0),
                    _end(change.diff_ci, 1),
                    change.p,
                    change.mann_whitney_p,
                    display.change_words(change.change),
                ],
                kinds,
            )


def _comments_sheet(workbook, styles, connection, report: Report, survey: Survey) -> None:
    sheet = Sheet(workbook, _("Comments"), styles)
    sheet.widths([12, 24, 100])
    sheet.header([_("Branch code"), _("Branch"), _("Comment")])
    sheet.sheet.freeze_panes(1, 0)
    for code, name, text in disclosure.comments(connection, survey, report):
        sheet.write_texts((code, name, text))


def _responses_sheet(workbook, styles, connection, report: Report, survey: Survey) -> None:
    sheet = Sheet(workbook, _("Responses"), styles)
    sheet.widths([12, 12, 8] + [12] * len(survey.items))
    sheet.header([_("Branch code"), _("Category"), _("Source"), *(i.key for i in survey.items)])
    sheet.sheet.freeze_panes(1, 0)
    raw = disclosure.raw_responses(connection, survey, report)
    for code, category, source, answers in raw.rows:
        sheet.write_texts((code, category, source, *answers))
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
    _summary_sheet(workbook, styles, report)
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
    workbook.close()
