"""Writing cells that spreadsheets cannot run: every text cell of every export goes through here.

A cell that a spreadsheet could run as a formula (starting with ``= + - @``, tab or CR) gets a
leading single quote and is written as a string (OWASP, CSV injection). Worksheets are written
row by row, as XlsxWriter's ``constant_memory`` mode requires.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import xlsxwriter
from flask_babel import gettext as _

#: A text cell starting with one of these could be run as a formula by a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Excel refuses longer text in one cell.
MAX_CELL_TEXT = 32767

#: XlsxWriter's number for A4 paper.
A4 = 9


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class Sheet:
    """A worksheet written strictly row by row, as constant_memory mode requires."""

    def __init__(self, workbook: xlsxwriter.Workbook, name: str, formats: dict[str, Any]):
        # Excel forbids these characters in sheet names and cuts them at 31 characters; the
        # names are translations, so they are cleaned here rather than trusted.
        clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip()[:31]
        self.sheet = workbook.add_worksheet(clean or None)
        self.formats = formats
        self.row = 0

    def write(self, values: Sequence[Any], kinds: Sequence[str | None] | None = None) -> None:
        """Write one row: None blank, numbers with their format, text always as a string."""
        for column, value in enumerate(values):
            kind = kinds[column] if kinds is not None and column < len(kinds) else None
            fmt = self.formats.get(kind) if kind else None
            if value is None:
                continue
            if isinstance(value, bool):
                self.sheet.write_string(self.row, column, _("yes") if value else _("no"))
            elif isinstance(value, int | float):
                self.sheet.write_number(self.row, column, value, fmt)
            else:
                text = safe_cell(str(value))[:MAX_CELL_TEXT]
                self.sheet.write_string(self.row, column, text, fmt)
        self.row += 1

    def write_texts(self, values: Iterable[str | None]) -> None:
        """Write one row of text cells (None blank): the fast path for streamed rows."""
        write_string = self.sheet.write_string
        row = self.row
        for column, value in enumerate(values):
            if value is not None:
                write_string(row, column, safe_cell(value)[:MAX_CELL_TEXT])
        self.row = row + 1

    def header(self, values: Sequence[str]) -> None:
        """Write a bold header row."""
        self.write(values, ["header"] * len(values))

    def print_setup(self, title: str, header_rows: int, one_page: bool = False) -> None:
        """Print as an office prints a report: A4 landscape, one page wide (or one page in
        all), the first ``header_rows`` rows repeated on every page, the title and the page
        number in the margins."""
        sheet = self.sheet
        sheet.set_landscape()
        sheet.set_paper(A4)
        sheet.fit_to_pages(1, 1 if one_page else 0)
        if header_rows:
            sheet.repeat_rows(0, header_rows - 1)
        # "&" starts a code in Excel's header language, and a header holds 255 characters.
        sheet.set_header("&L" + title[:100].replace("&", "&&"))
        sheet.set_footer("&R&P / &N")

    def widths(self, widths: Sequence[float]) -> None:
        """Set column widths (in characters)."""
        for column, width in enumerate(widths):
            self.sheet.set_column(column, column, width)


def formats(workbook: xlsxwriter.Workbook) -> dict[str, Any]:
    """The number and header formats every sheet uses, by name."""
    return {
        "header": workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "note": workbook.add_format({"italic": True, "font_color": "#555555"}),
        "label": workbook.add_format({"bold": True}),
        "percent": workbook.add_format({"num_format": "0.0%"}),
        "one": workbook.add_format({"num_format": "0.0"}),
        "score": workbook.add_format({"num_format": "0.00"}),
        "ratio": workbook.add_format({"num_format": "0.000"}),
        "p": workbook.add_format({"num_format": "0.0000"}),
        "int": workbook.add_format({"num_format": "0"}),
    }
