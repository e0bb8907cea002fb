"""Small spreadsheets the office downloads to fill in: import templates, as .xlsx or CSV.

CSV is written as UTF-8 with a byte-order mark, so Excel on a Chinese Windows opens it in the
right encoding; every cell is written as text (never a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import xlsxwriter

from survey.services.exports.cells import safe_cell

#: Content types of the two formats.
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_file(header: Sequence[str], rows: Sequence[Sequence[object]], fmt: str) -> bytes:
    """``header`` and ``rows`` as a .xlsx workbook of one sheet, or as CSV (``fmt``)."""
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            writer.writerow([safe_cell(v) if isinstance(v, str) else v for v in row])
        return out.getvalue().encode("utf-8")
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet()
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, list(header), bold)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, list(row))
    for column, title in enumerate(header):
        width = max([len(str(title)), *(len(str(r[column])) for r in rows)]) * 2
        sheet.set_column(column, column, min(max(width, 8), 40))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
