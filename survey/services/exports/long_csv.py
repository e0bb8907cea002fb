"""The CSV export of a report: branches × items in long format, for a reader with a spreadsheet.

Headers are in the reader's language (the signed-in user's, or the command line's configured
one) and figures are rounded as the pages show them: rates in percent to one decimal, p-values
as ``0.034`` or ``<0.001``, mean scores to two decimals, and the same words for a branch
against the others and against the target. Full precision stays in the JSON report and the
xlsx raw sheet. One row per item for the survey and for each listed branch, each branch's
headline figure first; UTF-8 with a BOM so that spreadsheet programs read Chinese; every text
cell neutralised (:func:`cells.safe_cell`).
"""

from __future__ import annotations

import csv
import io
from typing import IO, Any

from flask_babel import gettext as _

from survey import display
from survey.services.exports.cells import safe_cell
from survey.services.exports.figures import HEADLINE, OVERALL, Line, lines
from survey.services.report import Report


def _end(values: tuple[float, float] | None, index: int) -> float | None:
    return None if values is None else values[index]


def _score(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def headers(report: Report) -> list[str]:
    """The CSV's column names in the reader's language, one count column per option label."""
    columns = [
        _("Branch code"),
        _("Branch"),
        _("Respondents"),
        _("Item key"),
        _("Question"),
        _("Answers"),
        _("Favourable rate (%)"),
        _("Lower limit (%)"),
        _("Upper limit (%)"),
        _("Mean score"),
        _("Score lower limit"),
        _("Score upper limit"),
        _("Against the other branches"),
        _("Adjusted p"),
        _("Difference from the other branches (points)"),
    ]
    if report.survey.target is not None:
        columns.append(
            _("Against the target of %(target)s", target=display.percent(report.survey.target))
        )
    return columns + [option.label for option in report.scale]


def _headline_row(line: Line, with_target: bool) -> list[Any]:
    headline = line.headline
    branch = line.branch
    row = [
        branch.code,
        branch.name,
        line.respondents,
        "",
        display.headline_name(),
        None,
        display.percent_figure(headline.rate),
        display.percent_figure(headline.ci[0]),
        display.percent_figure(headline.ci[1]),
        None,
        None,
        None,
        display.group_words(headline.group),
        display.p_figure(headline.p_adjusted),
        None,
    ]
    if with_target:
        row.append(display.target_words(headline.versus_target))
    return row


def row(line: Line, report: Report) -> list[Any]:
    """One CSV row of a figure line, rounded as the pages show it."""
    with_target = report.survey.target is not None
    if line.level == HEADLINE:
        return _headline_row(line, with_target) + [None] * len(report.scale)
    summary, vs_rest = line.summary, line.vs_rest
    overall = line.level == OVERALL
    effect = line.effect
    values = [
        "" if overall else line.branch.code,
        _("All branches") if overall else line.branch.name,
        line.respondents,
        line.item.key,
        line.item.text,
        summary.n,
        display.percent_figure(summary.favourable_rate),
        display.percent_figure(_end(summary.favourable_ci, 0)),
        display.percent_figure(_end(summary.favourable_ci, 1)),
        _score(summary.score_mean),
        _score(_end(summary.score_ci, 0)),
        _score(_end(summary.score_ci, 1)),
        None if vs_rest is None else display.verdict_words(vs_rest.verdict),
        None if vs_rest is None else display.p_figure(vs_rest.p_adjusted),
        None if effect is None else round(100.0 * effect, 1),
    ]
    if with_target:
        values.append(None)
    return values + list(summary.counts)


def write_csv(report: Report, stream: IO[bytes]) -> None:
    """Write branches × items in long format as UTF-8 with a BOM (so Excel reads Chinese)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow([safe_cell(c) for c in headers(report)])
        for line in lines(report):
            writer.writerow(["" if v is None else safe_cell(v) for v in row(line, report)])
        text.flush()
    finally:
        text.detach()
