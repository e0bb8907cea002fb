"""The xlsx raw sheet: every figure line at full precision, with keys as well as labels.

The other sheets round figures as the pages show them; this one is for a reader who computes
further. Its first row names the columns in the reader's language, its second row by stable
keys (a program reads the sheet from the second row). Lines are those of
:func:`survey.services.exports.figures.lines`, categories included; nothing is written for a
suppressed branch or category.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from survey import display
from survey.services.exports.cells import Sheet
from survey.services.exports.figures import HEADLINE, Line, lines
from survey.services.report import Report


def _columns() -> list[tuple[str, str]]:
    """(key, label) of the fixed columns, in order."""
    return [
        ("level", _("Level")),
        ("branch_code", _("Branch code")),
        ("branch_name", _("Branch")),
        ("category_key", _("Category key")),
        ("category_label", _("Category")),
        ("respondents", _("Respondents")),
        ("item_key", _("Item key")),
        ("item_text", _("Question")),
        ("n", _("Answers")),
        ("favourable_rate", _("Favourable rate")),
        ("favourable_ci_lo", _("Lower limit")),
        ("favourable_ci_hi", _("Upper limit")),
        ("score_mean", _("Mean score")),
        ("score_ci_lo", _("Score lower limit")),
        ("score_ci_hi", _("Score upper limit")),
        ("effective_n", _("Effective number of respondents")),
        ("weighted", _("Weighted by respondent category")),
        ("pooled", _("Hidden categories pooled")),
        ("verdict", _("Against the other branches (key)")),
        ("verdict_words", _("Against the other branches")),
        ("p", _("p")),
        ("p_adjusted", _("Adjusted p")),
        ("effect", _("Difference from the other branches")),
        ("method", _("Test")),
        ("versus_target", _("Against the target (key)")),
        ("versus_target_words", _("Against the target")),
        ("target_p_adjusted", _("Adjusted p against the target")),
    ]


#: Number formats of the fixed columns (see :func:`_columns`).
KINDS = [None] * 5 + ["int", None, None, "int"] + ["percent"] * 3 + ["score"] * 3
KINDS += ["ratio", None, None, None, None, "p", "p", "percent", None, None, None, "p"]


def _end(values: tuple[float, float] | None, index: int) -> float | None:
    return None if values is None else values[index]


def _place(line: Line) -> list[Any]:
    branch, category, item = line.branch, line.category, line.item
    return [
        line.level,
        None if branch is None else branch.code,
        _("All branches") if branch is None else branch.name,
        None if category is None else category.key,
        None if category is None else category.label,
        line.respondents,
        None if item is None else item.key,
        display.headline_name() if item is None else item.text,
    ]


def _headline_values(line: Line) -> list[Any]:
    h = line.headline
    target_words = None if h.versus_target is None else display.target_words(h.versus_target)
    return [
        None,
        h.rate,
        h.ci[0],
        h.ci[1],
        None,
        None,
        None,
        h.effective_n,
        h.is_weighted,
        h.is_pooled,
        h.group,
        display.group_words(h.group),
        h.p,
        h.p_adjusted,
        None,
        None,
        h.versus_target,
        target_words,
        h.target_p_adjusted,
    ]


def _item_values(line: Line) -> list[Any]:
    summary, mark = line.summary, line.vs_rest
    values = [
        summary.n,
        summary.favourable_rate,
        _end(summary.favourable_ci, 0),
        _end(summary.favourable_ci, 1),
        summary.score_mean,
        _end(summary.score_ci, 0),
        _end(summary.score_ci, 1),
        None,
        None,
        None,
    ]
    if mark is None:
        return values + [None] * 9 + list(summary.counts)
    values += [
        mark.verdict,
        display.verdict_words(mark.verdict),
        mark.p,
        mark.p_adjusted,
        mark.effect,
        mark.method,
        None,
        None,
        None,
    ]
    return values + list(summary.counts)


def raw_sheet(workbook, styles, report: Report) -> None:
    """Write the raw sheet (see the module docstring)."""
    columns = _columns()
    sheet = Sheet(workbook, _("Raw figures"), styles)
    sheet.widths([9, 12, 24, 12, 12, 11, 10, 30] + [11] * (len(columns) - 8 + len(report.scale)))
    sheet.header([label for _key, label in columns] + [o.label for o in report.scale])
    sheet.header([key for key, _label in columns] + [f"count_{o.key}" for o in report.scale])
    sheet.sheet.freeze_panes(2, 3)
    sheet.print_setup(report.survey.title, header_rows=2)
    kinds = KINDS + ["int"] * len(report.scale)
    for line in lines(report, with_categories=True):
        values = _headline_values(line) if line.level == HEADLINE else _item_values(line)
        sheet.write(_place(line) + values, kinds)
