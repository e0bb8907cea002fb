"""The CSV export of a report, for other tools: branches × items in long format.

One row per item for the survey as a whole and for each listed branch, UTF-8 with a BOM so that
spreadsheet programs read Chinese; every text cell neutralised (:func:`cells.safe_cell`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, Any

from analytics import Summary, VsRest
from survey.services.exports import disclosure
from survey.services.exports.cells import safe_cell
from survey.services.exports.workbook import summary_cells
from survey.services.report import Report

#: Columns of the CSV export, before one count column per option.
CSV_COLUMNS = (
    "level",
    "branch_code",
    "branch_name",
    "respondents",
    "item_key",
    "item_text",
    "n",
    "favourable_rate",
    "favourable_ci_lo",
    "favourable_ci_hi",
    "score_mean",
    "score_ci_lo",
    "score_ci_hi",
    "signal",
    "p",
    "p_adjusted",
    "effect",
)


def _row(level, code, name, respondents, key, text, cell: Summary, vs_rest: VsRest | None):
    return [
        level,
        code,
        name,
        respondents,
        key,
        text,
        *summary_cells(cell),
        *(
            (None, None, None, None)
            if vs_rest is None
            else (vs_rest.signal, vs_rest.p, vs_rest.p_adjusted, vs_rest.effect)
        ),
        *cell.counts,
    ]


def _rows(report: Report) -> Iterable[list[Any]]:
    texts = report.item_texts()
    respondents = report.analysis.respondents
    for key, cell in (report.analysis.overall or {}).items():
        yield _row("overall", "", "", respondents, key, texts.get(key, ""), cell, None)
    for branch in disclosure.listed_branches(report):
        result = branch.result
        for key, cell in result.items.items():
            text = texts.get(key, "")
            yield _row(
                "branch", branch.code, branch.name, result.respondents, key, text, cell,
                result.vs_rest[key],
            )  # fmt: skip


def write_csv(report: Report, stream: IO[bytes]) -> None:
    """Write branches × items in long format as UTF-8 with a BOM (so Excel reads Chinese)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        options = [f"count_{option.key}" for option in report.scale]
        writer.writerow([safe_cell(c) for c in (*CSV_COLUMNS, *options)])
        for values in _rows(report):
            writer.writerow(["" if v is None else safe_cell(v) for v in values])
        text.flush()
    finally:
        text.detach()
