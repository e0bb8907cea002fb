"""Spreadsheet exports of a report: an xlsx workbook for people and a CSV for other tools.

Both are written from :func:`survey.services.report.exported_report`, so they hold the same
figures as the pages and the API, leave the same audit entry as the API and ``flask report``,
and hide the same groups. The modules:

* :mod:`.disclosure`: which comments and raw answers an export may list (the anonymity policy);
* :mod:`.workbook` and :mod:`.long_csv`: the writers, in the reader's language (the signed-in
  user's; the command line's configured one), figures rounded as the pages show them;
* :mod:`.leader`: the one-page ranking and the survey's facts; :mod:`.raw`: the sheet of every
  figure at full precision; :mod:`.figures`: the figure lines the CSV and the raw sheet share;
* :mod:`.cells`: the cell writing and printing every sheet shares (formula injection, constant
  memory, A4 landscape one page wide).

Exports are written to a temporary file, never all in memory, and the report's session
transaction ends before the writing starts (on SQLite an ordinary transaction holds the write
lock, and writing 200,000 raw rows takes a while).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO

from flask_babel import gettext as _

from survey.models import Survey, User
from survey.refusals import BadRequest
from survey.services.exports.long_csv import write_csv
from survey.services.exports.workbook import write_xlsx
from survey.services.report import Report, exported_report

#: Export formats and their media types.
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Export:
    """A finished export in a temporary file, ready to be sent."""

    stream: IO[bytes]
    filename: str
    mimetype: str


def write_export(
    survey: Survey,
    fmt: str,
    stream: IO[bytes],
    user: User | None = None,
    compare: Survey | None = None,
    branch_id: int | None = None,
) -> Report:
    """Build the report, record the export in the audit trail and write it to ``stream`` as
    ``fmt``. Refuses sealed surveys, comparisons across campaigns and unknown formats.

    Manages its own transactions, so the caller must have nothing pending.
    """
    if fmt not in MEDIA_TYPES:
        raise BadRequest(_("There is no export format called %(format)s.", format=fmt))
    report = exported_report(user, survey, fmt, compare=compare, branch_id=branch_id)
    if fmt == "xlsx":
        write_xlsx(report, survey, stream)
    else:
        write_csv(report, stream)
    return report


def export_file(
    survey: Survey,
    fmt: str,
    user: User | None = None,
    compare: Survey | None = None,
    branch_id: int | None = None,
) -> Export:
    """Write an export to a temporary file (never all in memory), with its audit entry."""
    stream = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response after sending
    try:
        write_export(survey, fmt, stream, user, compare, branch_id)
    except BaseException:
        stream.close()
        raise
    stream.seek(0)
    suffix = f"-{compare.slug}" if compare is not None else ""
    return Export(stream, f"{survey.slug}{suffix}-report.{fmt}", MEDIA_TYPES[fmt])


__all__ = ["MEDIA_TYPES", "Export", "export_file", "write_csv", "write_export", "write_xlsx"]
