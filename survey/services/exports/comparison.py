"""The stage comparison as a spreadsheet for a leader (xlsx) and as CSV for other tools.

Both are written from :func:`survey.services.comparison.exported_comparison`, so they hold the
rows the comparison page shows, the same items paired (a pair worded differently says so), the
same branches left out with the same reasons, and leave an audit entry. Cells go through
:class:`~survey.services.exports.cells.Sheet` and :func:`~.cells.safe_cell` like every export.
Rates are written as shares with a percent format in the workbook, and in percent rounded to
one decimal (as the page shows them) in the CSV.
"""

from __future__ import annotations

import csv
import io
import tempfile
from typing import IO, Any

import xlsxwriter
from flask_babel import gettext as _

from survey import display
from survey.models import Survey, User
from survey.refusals import BadRequest
from survey.services.comparison import Change, StageView, exported_comparison
from survey.services.exports import MEDIA_TYPES, Export
from survey.services.exports.cells import Sheet, formats, safe_cell


def _columns(view: StageView) -> list[str]:
    return [
        _("Branch code"),
        _("Branch"),
        _("Item"),
        _("Earlier item"),
        _("Worded differently"),
        _("Respondents in %(stage)s", stage=view.before.survey.title),
        view.before.survey.title,
        _("Respondents in %(stage)s", stage=view.after.survey.title),
        view.after.survey.title,
        _("Change (points)"),
        _("Lower limit (points)"),
        _("Upper limit (points)"),
        _("Verdict"),
    ]


def _points(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _row(change: Change, percent: bool) -> list[Any]:
    """One change; rates as shares (``percent`` False) or in percent rounded as shown."""
    lo, hi = change.change.diff_ci or (None, None)

    def rate(value: float | None) -> float | None:
        if value is None or not percent:
            return value
        return round(100 * value, 1)

    return [
        change.code or "",
        change.label,
        change.pair.text,
        change.pair.earlier_text,
        change.pair.wording_differs,
        change.before.n,
        rate(change.before.favourable_rate),
        change.after.n,
        rate(change.after.favourable_rate),
        _points(change.change.diff),
        _points(lo),
        _points(hi),
        display.change_words(change.change.change),
    ]


def write_comparison_csv(view: StageView, stream: IO[bytes]) -> None:
    """Every change, then every branch left out (its reason in the verdict column), as UTF-8
    with a BOM so that Excel reads the Chinese."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow([safe_cell(c) for c in _columns(view)])
        for change in view.changes:
            values = _row(change, percent=True)
            values[4] = _("yes") if values[4] else _("no")
            writer.writerow(["" if v is None else safe_cell(v) for v in values])
        for branch in view.left_out:
            values = [branch.code, branch.label] + [""] * 10 + [branch.reason]
            writer.writerow([safe_cell(v) for v in values])
        text.flush()
    finally:
        text.detach()


def _changes_sheet(workbook, styles, view: StageView) -> None:
    sheet = Sheet(workbook, _("Comparison"), styles)
    sheet.write(
        [
            _(
                "%(before)s → %(after)s",
                before=view.before.survey.title,
                after=view.after.survey.title,
            )
        ],
        ["title"],
    )
    sheet.write(
        [
            _(
                "Improved or worsened when the %(level)s interval of the change (Newcombe's "
                "method) does not include 0; otherwise no clear change. Changes are in "
                "percentage points.",
                level=f"{100 * view.after.confidence:g}%",
            )
        ]
    )
    sheet.header(_columns(view))
    kinds = [None, None, None, None, None, "int", "percent", "int", "percent"]
    kinds += ["score", "score", "score", None]
    for change in view.changes:
        sheet.write(_row(change, percent=False), kinds)
    sheet.widths([10, 22, 30, 30, 10, 10, 12, 10, 12, 10, 10, 10, 14])
    _for_paper(sheet, header_row=2)


def _pairs_sheet(workbook, styles, view: StageView) -> None:
    sheet = Sheet(workbook, _("Items compared"), styles)
    sheet.header(
        [
            _("Item"),
            _("Earlier item"),
            _("How paired"),
            _("Worded differently"),
        ]
    )
    for pair in view.pairs:
        how = _("paired by the office") if pair.is_explicit else _("same key")
        sheet.write([pair.text, pair.earlier_text, how, pair.wording_differs])
    sheet.widths([36, 36, 16, 12])
    _for_paper(sheet, header_row=0)


def _left_out_sheet(workbook, styles, view: StageView) -> None:
    sheet = Sheet(workbook, _("Branches left out"), styles)
    sheet.header([_("Branch code"), _("Branch"), _("Why it is not compared")])
    for branch in view.left_out:
        sheet.write([branch.code, branch.label, branch.reason])
    sheet.widths([10, 24, 80])
    _for_paper(sheet, header_row=0)


def _for_paper(sheet: Sheet, header_row: int) -> None:
    """A4 landscape, one page wide, the heading row repeated on every page."""
    sheet.sheet.set_paper(9)
    sheet.sheet.set_landscape()
    sheet.sheet.fit_to_pages(1, 0)
    sheet.sheet.repeat_rows(header_row)


def write_comparison_xlsx(view: StageView, stream: IO[bytes]) -> None:
    """The changes, the items compared and the branches left out, one sheet each."""
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
    _changes_sheet(workbook, styles, view)
    _pairs_sheet(workbook, styles, view)
    _left_out_sheet(workbook, styles, view)
    workbook.close()


def comparison_export(before: Survey, after: Survey, fmt: str, user: User | None = None) -> Export:
    """Write the comparison of ``after`` with ``before`` to a temporary file, with its audit
    entry; refuses unknown formats and what the comparison page refuses."""
    if fmt not in MEDIA_TYPES:
        raise BadRequest(_("There is no export format called %(format)s.", format=fmt))
    view = exported_comparison(user, before, after, fmt)
    stream = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response after sending
    try:
        if fmt == "xlsx":
            write_comparison_xlsx(view, stream)
        else:
            write_comparison_csv(view, stream)
    except BaseException:
        stream.close()
        raise
    stream.seek(0)
    name = f"{before.slug}-{after.slug}-comparison.{fmt}"
    return Export(stream, name, MEDIA_TYPES[fmt])
