"""Spreadsheet exports of a report: an xlsx workbook for people and a CSV for other tools.

Both are written from :func:`survey.services.report.build_report`, so they hold the same
figures as the pages and the API, and a suppressed branch is absent from every sheet: its
figures, its comments and its raw answers. Raw answers of a suppressed category cell inside a
shown branch keep their branch but lose their category (the hidden cells of a branch together
hold at least k respondents, by the complementary rule).

Inside each branch and visible category, web and paper are two groups under the same rule: where
either would be smaller than the threshold, that group's raw answers are not listed at all (they
are counted in every figure). Blanking only their source was not enough: web answers leave no
item blank, so a row with a blank item is a paper ballot whatever the source column says.

Every text cell goes through :func:`safe_cell`: a cell that a spreadsheet could run as a formula
(starting with ``= + - @``, tab or CR) gets a leading single quote and is written as a string.
XlsxWriter runs in ``constant_memory`` mode and raw responses and comments are streamed from the
database in random order, ``yield_per`` 1000 rows, through a read-only connection
(:meth:`survey.db.Database.reading`), so memory stays flat for any survey size and, on SQLite,
a long export never holds the write lock that respondents' submissions need.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from flask import send_file
from flask_babel import gettext as _
from sqlalchemy import Connection, case, func, select

from analytics import suppressed
from survey.db import db
from survey.models import (
    Answer,
    Branch,
    Comment,
    RespondentTally,
    Response,
    Survey,
    User,
)
from survey.services import audit
from survey.services.report import build_report

#: A text cell starting with one of these could be run as a formula by a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Export formats and their media types.
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

#: Rows fetched from the database at a time while streaming.
CHUNK = 1000

#: Excel refuses longer text in one cell.
MAX_CELL_TEXT = 32767

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


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def signal_label(signal: str | None) -> str:
    """A branch-vs-rest mark in plain words for the spreadsheet."""
    return {
        "above": _("clearly above the other branches"),
        "below": _("clearly below the other branches"),
        "none": _("no clear difference"),
    }.get(signal or "", "")


def change_label(change: str | None) -> str:
    """A change between stages in plain words (by the Newcombe interval)."""
    return {
        "higher": _("improved"),
        "lower": _("worsened"),
        "none": _("no clear change"),
    }.get(change or "", "")


# --------------------------------------------------------------------------- xlsx


class _Sheet:
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

    def widths(self, widths: Sequence[float]) -> None:
        """Set column widths (in characters)."""
        for column, width in enumerate(widths):
            self.sheet.set_column(column, column, width)


def _formats(workbook: xlsxwriter.Workbook) -> dict[str, Any]:
    return {
        "header": workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "percent": workbook.add_format({"num_format": "0.0%"}),
        "score": workbook.add_format({"num_format": "0.00"}),
        "ratio": workbook.add_format({"num_format": "0.000"}),
        "p": workbook.add_format({"num_format": "0.0000"}),
        "int": workbook.add_format({"num_format": "0"}),
    }


def _ci(values: list[float] | None, index: int) -> float | None:
    return None if values is None else values[index]


def _summary_cells(summary: dict[str, Any]) -> list[Any]:
    """One SUMMARY's figures in the column order every sheet and the CSV use."""
    return [
        summary["n"],
        summary["favourable_rate"],
        _ci(summary["favourable_ci"], 0),
        _ci(summary["favourable_ci"], 1),
        summary["score_mean"],
        _ci(summary["score_ci"], 0),
        _ci(summary["score_ci"], 1),
    ]


def _item_texts(report: dict[str, Any]) -> dict[str, str]:
    return {item["key"]: item["text"] for item in report["items"]}


def _summary_sheet(workbook, formats, report: dict[str, Any]) -> None:
    sheet = _Sheet(workbook, _("Summary"), formats)
    sheet.widths([34, 14, 12, 12, 12, 12, 12, 12, 12] + [10] * len(report["scale"]))
    sheet.write([report["title"]], ["title"])
    headline = report["overall"]["headline"]
    rows: list[tuple[str, Any, str | None]] = [
        (_("Survey"), report["survey"], None),
        (_("Campaign"), report.get("campaign"), None),
        (_("Kind"), report["kind"], None),
        (_("State"), report.get("state"), None),
        (_("Respondents"), report["respondents"], "int"),
        (_("Favourable rate (mean over items)"), headline["favourable_rate"], "percent"),
        (_("Favourable rate, lower limit"), _ci(headline["favourable_ci"], 0), "percent"),
        (_("Favourable rate, upper limit"), _ci(headline["favourable_ci"], 1), "percent"),
        (_("Cronbach's alpha"), report["reliability"]["cronbach_alpha"], "ratio"),
        (_("Smallest group shown (threshold)"), report["threshold"], "int"),
        (_("Confidence level"), report["confidence"], "percent"),
        (_("Branches hidden (too few respondents)"), report.get("suppressed_branches"), "int"),
    ]
    if "comparison" in report:
        rows.append((_("Compared with"), report["comparison"]["against"], None))
    for label, value, kind in rows:
        sheet.write([label, value], [None, kind])
    sheet.write([])
    options = [option["key"] for option in report["scale"]]
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
            *[option["label"] for option in report["scale"]],
        ]
    )
    sheet.sheet.freeze_panes(sheet.row, 0)
    texts = _item_texts(report)
    for key, summary in report["overall"]["items"].items():
        sheet.write(
            [
                key,
                texts.get(key, ""),
                *_summary_cells(summary),
                *[summary["counts"][option] for option in options],
            ],
            [None, None, "int", "percent", "percent", "percent", "score", "score", "score"]
            + ["int"] * len(options),
        )


def _shown(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in report["branches"] if not b["suppressed"]]


def _branches_sheet(workbook, formats, report: dict[str, Any]) -> None:
    sheet = _Sheet(workbook, _("Branches"), formats)
    items = report["items"]
    width = len(ITEM_COLUMNS)
    sheet.widths([12, 24, 11, 11, 11, 11, 11, 11, 7] + [9] * (width * len(items)))
    fixed = len(BRANCH_COLUMNS)
    top = [""] * fixed
    for item in items:
        top += [f"{item['key']} {item['text']}"] + [""] * (width - 1)
    sheet.header(top)
    for index in range(len(items)):
        first = fixed + index * width
        sheet.sheet.merge_range(0, first, 0, first + width - 1, top[first], formats["header"])
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
        + [
            label
            for _item in items
            for label in (
                _("Favourable rate"),
                _("Lower limit"),
                _("Upper limit"),
                _("Answers"),
                _("Mean score"),
                _("Against the rest"),
                _("Adjusted p"),
            )
        ]
    )
    sheet.sheet.freeze_panes(2, 2)
    kinds = [None, None, "int", "percent", "score", "percent", "percent", "percent", "int"]
    kinds += ["percent", "percent", "percent", "int", "score", None, "p"] * len(items)
    for branch in _shown(report):
        composite = branch["composite"] or {}
        weighted = composite.get("weighted") or {}
        values: list[Any] = [
            branch["code"],
            branch["name"],
            branch["respondents"],
            composite.get("favourable_rate"),
            composite.get("score_mean"),
            weighted.get("rate"),
            weighted.get("lo"),
            weighted.get("hi"),
            branch["rank"],
        ]
        for item in items:
            cell = branch["items"][item["key"]]
            vs_rest = cell["vs_rest"]
            values += [
                cell["favourable_rate"],
                _ci(cell["favourable_ci"], 0),
                _ci(cell["favourable_ci"], 1),
                cell["n"],
                cell["score_mean"],
                signal_label(vs_rest["signal"]) if vs_rest["p_adjusted"] is not None else None,
                vs_rest["p_adjusted"],
            ]
        sheet.write(values, kinds)


def _categories_sheet(workbook, formats, report: dict[str, Any]) -> None:
    sheet = _Sheet(workbook, _("Categories"), formats)
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
    labels = {c["key"]: c["label"] for c in report.get("categories", [])}
    texts = _item_texts(report)
    kinds = [None, None, None, "int", None, None, "int", "percent", "percent", "percent", "score"]
    for branch in _shown(report):
        for category in branch.get("categories", []):
            if category["suppressed"] or category["respondents"] == 0:
                continue
            for key, cell in category["items"].items():
                sheet.write(
                    [
                        branch["code"],
                        branch["name"],
                        labels.get(category["key"], category["key"]),
                        category["respondents"],
                        key,
                        texts.get(key, ""),
                        cell["n"],
                        cell["favourable_rate"],
                        _ci(cell["favourable_ci"], 0),
                        _ci(cell["favourable_ci"], 1),
                        cell["score_mean"],
                    ],
                    kinds,
                )


def _tests_sheet(workbook, formats, report: dict[str, Any]) -> None:
    sheet = _Sheet(workbook, _("Tests"), formats)
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
    texts = _item_texts(report)
    kinds = [None, None, "ratio", "int", "p", "ratio", "ratio", "int", "p", "ratio"]
    for key, tests in report["tests"].items():
        chi2, kruskal = tests["chi2"], tests["kruskal"]
        sheet.write(
            [
                key,
                texts.get(key, ""),
                chi2["statistic"],
                chi2["df"],
                chi2["p"],
                chi2["cramers_v"],
                kruskal["statistic"],
                kruskal.get("df"),
                kruskal["p"],
                kruskal["epsilon_squared"],
            ],
            kinds,
        )


def _comparison_sheet(workbook, formats, report: dict[str, Any]) -> None:
    comparison = report["comparison"]
    sheet = _Sheet(workbook, _("Comparison"), formats)
    sheet.widths([12, 24, 8, 30, 11, 11, 11, 11, 13, 16])
    sheet.write(
        [_("Compared with"), f"{comparison['against']} {comparison.get('against_title', '')}"],
        ["header"],
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
    texts = _item_texts(report)
    names = {b["code"]: b["name"] for b in report["branches"]}
    kinds = [None, None, None, None, "percent", "percent", "percent", "p", "p", None]
    scopes = [("", _("All branches"), comparison["overall"])]
    scopes += [(code, names.get(code, ""), c) for code, c in comparison["branches"].items()]
    for code, name, by_item in scopes:
        for key, cmp in by_item.items():
            sheet.write(
                [
                    code,
                    name,
                    key,
                    texts.get(key, ""),
                    cmp["diff"],
                    _ci(cmp["diff_ci"], 0),
                    _ci(cmp["diff_ci"], 1),
                    cmp["p"],
                    cmp["mann_whitney_p"],
                    change_label(cmp.get("change")),
                ],
                kinds,
            )


def _shown_branch_ids(connection: Connection, report: dict[str, Any]) -> dict[str, int]:
    """Code → id of the report's shown branches with respondents."""
    codes = [b["code"] for b in _shown(report) if b["respondents"] > 0]
    if not codes:
        return {}
    rows = connection.execute(select(Branch.code, Branch.id).where(Branch.code.in_(codes)))
    return {code: branch_id for code, branch_id in rows}


def iter_comments(
    connection: Connection, survey: Survey, report: dict[str, Any]
) -> Iterator[tuple[str, str, str]]:
    """Stream (branch code, branch name, text) of the report's shown branches: by branch code,
    in random order within a branch."""
    branch_ids = list(_shown_branch_ids(connection, report).values())
    if not branch_ids:
        return
    rows = connection.execute(
        select(Branch.code, Branch.name, Comment.text)
        .join(Branch, Branch.id == Comment.branch_id)
        .where(Comment.survey_id == survey.id, Comment.branch_id.in_(branch_ids))
        .order_by(Branch.code, func.random())
        .execution_options(yield_per=CHUNK)
    )
    yield from ((code, name, text) for code, name, text in rows)


def _comments_sheet(workbook, formats, connection, report: dict[str, Any], survey) -> None:
    sheet = _Sheet(workbook, _("Comments"), formats)
    sheet.widths([12, 24, 100])
    sheet.header([_("Branch code"), _("Branch"), _("Comment")])
    sheet.sheet.freeze_panes(1, 0)
    for code, name, text in iter_comments(connection, survey, report):
        sheet.write_texts((code, name, text))


def _mixed_source_groups(
    connection: Connection,
    survey: Survey,
    codes: dict[int, str],
    category_keys: dict[int, str],
    hidden_categories: set[tuple[str, str]],
) -> dict[tuple[str, str | None], int]:
    """(branch code, shown category key or None) groups whose raw rows are withheld, with
    their sizes.

    Inside each group of raw rows that share a branch and a visible category, web and paper are
    two cells under the suppression rule: a handful of paper ballots would otherwise single out
    the few people known to have voted on paper, by their source or by a blank item.
    """
    sizes: dict[tuple[str, str | None], dict[str, int]] = {}
    rows = connection.execute(
        select(
            RespondentTally.branch_id,
            RespondentTally.category_id,
            RespondentTally.source,
            RespondentTally.count,
        ).where(
            RespondentTally.survey_id == survey.id,
            RespondentTally.branch_id.in_(list(codes)),
        )
    )
    for branch_id, category_id, source, count in rows:
        code = codes[branch_id]
        category = category_keys.get(category_id)
        if (code, category) in hidden_categories:
            category = None
        group = sizes.setdefault((code, category), {})
        key = str(getattr(source, "value", source))
        group[key] = group.get(key, 0) + int(count)
    return {
        group: sum(by_source.values())
        for group, by_source in sizes.items()
        if suppressed(by_source, survey.threshold)
    }


@dataclass(frozen=True, slots=True)
class RawRows:
    """The raw rows an export may list, and how many it leaves out (counted in the figures)."""

    rows: Iterator[tuple[str, str | None, str, list[str | None]]]
    withheld: int


def raw_responses(connection: Connection, survey: Survey, report: dict[str, Any]) -> RawRows:
    """Stream (branch code, category key, source, option key per item) of the report's shown
    branches, in random order, with no id or date. The key of a suppressed category is None;
    unanswered items are None too. Groups where web or paper would be smaller than the threshold
    are left out (see :func:`_mixed_source_groups`); ``withheld`` says how many rows that is."""
    branch_ids = _shown_branch_ids(connection, report)
    if not branch_ids:
        return RawRows(iter(()), 0)
    codes = {branch_id: code for code, branch_id in branch_ids.items()}
    category_keys = {c.id: c.key for c in survey.categories}
    hidden = {
        (b["code"], c["key"])
        for b in _shown(report)
        for c in b.get("categories", [])
        if c["suppressed"]
    }
    withheld = _mixed_source_groups(connection, survey, codes, category_keys, hidden)
    return RawRows(
        _raw_rows(connection, survey, codes, category_keys, hidden, set(withheld)),
        sum(withheld.values()),
    )


def _raw_rows(connection, survey, codes, category_keys, hidden, withheld):
    option_keys = {o.id: o.key for o in survey.options}
    columns = [
        func.max(case((Answer.item_id == item.id, Answer.option_id))).label(f"item_{n}")
        for n, item in enumerate(survey.items)
    ]
    rows = connection.execute(
        select(Response.branch_id, Response.category_id, Response.source, *columns)
        .select_from(Response)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.survey_id == survey.id, Response.branch_id.in_(list(codes)))
        .group_by(Response.id, Response.branch_id, Response.category_id, Response.source)
        .order_by(func.random())
        .execution_options(yield_per=CHUNK)
    )
    for branch_id, category_id, source, *answers in rows:
        code = codes[branch_id]
        category = category_keys.get(category_id)
        if (code, category) in hidden:
            category = None
        if (code, category) in withheld:
            continue
        yield (
            code,
            category,
            str(getattr(source, "value", source)),
            [option_keys.get(option) for option in answers],
        )


def _responses_sheet(workbook, formats, connection, report: dict[str, Any], survey) -> None:
    sheet = _Sheet(workbook, _("Responses"), formats)
    sheet.widths([12, 12, 8] + [12] * len(survey.items))
    sheet.header([_("Branch code"), _("Category"), _("Source"), *(i.key for i in survey.items)])
    sheet.sheet.freeze_panes(1, 0)
    raw = raw_responses(connection, survey, report)
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


def write_xlsx(report: dict[str, Any], survey: Survey, stream: IO[bytes]) -> None:
    """Write the report as a workbook: summary, branches × items, categories, tests,
    comparison (when the report has one), comments and raw anonymous responses."""
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
    formats = _formats(workbook)
    _summary_sheet(workbook, formats, report)
    _branches_sheet(workbook, formats, report)
    _categories_sheet(workbook, formats, report)
    _tests_sheet(workbook, formats, report)
    if "comparison" in report:
        _comparison_sheet(workbook, formats, report)
    # Comments and raw answers stream through a read-only connection: on SQLite it never takes
    # the write lock, however long the workbook takes to write.
    with db.reading() as connection:
        _comments_sheet(workbook, formats, connection, report, survey)
        _responses_sheet(workbook, formats, connection, report, survey)
    workbook.close()


# --------------------------------------------------------------------------- csv

#: Columns of the CSV export (one row per item, for the survey and for each shown branch).
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


def _csv_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    texts = _item_texts(report)
    options = [option["key"] for option in report["scale"]]

    def row(level, code, name, respondents, key, cell, vs_rest):
        vs_rest = vs_rest or {}
        return [
            level,
            code,
            name,
            respondents,
            key,
            texts.get(key, ""),
            *_summary_cells(cell),
            vs_rest.get("signal"),
            vs_rest.get("p"),
            vs_rest.get("p_adjusted"),
            vs_rest.get("effect"),
            *[cell["counts"][option] for option in options],
        ]

    for key, cell in report["overall"]["items"].items():
        yield row("overall", "", "", report["respondents"], key, cell, None)
    for branch in _shown(report):
        for key, cell in branch["items"].items():
            yield row(
                "branch",
                branch["code"],
                branch["name"],
                branch["respondents"],
                key,
                cell,
                cell["vs_rest"],
            )


def write_csv(report: dict[str, Any], stream: IO[bytes]) -> None:
    """Write branches × items in long format as UTF-8 with a BOM (so Excel reads Chinese)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        options = [f"count_{option['key']}" for option in report["scale"]]
        writer.writerow([safe_cell(c) for c in (*CSV_COLUMNS, *options)])
        for values in _csv_rows(report):
            writer.writerow(["" if v is None else safe_cell(v) for v in values])
        text.flush()
    finally:
        text.detach()


# --------------------------------------------------------------------------- entry points


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
) -> dict[str, Any]:
    """Build the report, write it to ``stream`` as ``fmt`` and record the export in the audit
    trail. Raises ``ResultsSealed`` for sealed surveys and ValueError for unknown formats.

    Manages its own transactions, so the caller must have nothing pending: once the report is
    built the session's transaction ends (on SQLite an ordinary transaction holds the write lock,
    and writing 200,000 raw rows takes a while), the workbook streams through
    :meth:`survey.db.Database.reading`, and the audit entry is committed at the end.
    """
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"unknown export format {fmt!r}")
    report = build_report(survey, compare=compare, branch_id=branch_id)
    db.session.commit()
    if fmt == "xlsx":
        write_xlsx(report, survey, stream)
    else:
        write_csv(report, stream)
    detail = f"survey={survey.slug} format={fmt}"
    if compare is not None:
        detail += f" compare={compare.slug}"
    if branch_id is not None:
        detail += f" branch={branch_id}"
    with db.transaction():
        audit.record("report.export", detail, user=user)
    return report


def export_file(
    survey: Survey,
    fmt: str,
    user: User | None = None,
    compare: Survey | None = None,
    branch_id: int | None = None,
) -> Export:
    """Write an export to a temporary file (never all in memory), with its audit entry."""
    stream = tempfile.TemporaryFile()  # noqa: SIM115 - closed by send_file after sending
    try:
        write_export(survey, fmt, stream, user, compare, branch_id)
    except BaseException:
        stream.close()
        raise
    stream.seek(0)
    suffix = f"-{compare.slug}" if compare is not None else ""
    return Export(stream, f"{survey.slug}{suffix}-report.{fmt}", MEDIA_TYPES[fmt])


def send_export(export: Export):
    """A download response for a finished export; the temporary file closes when sent.

    ``no-store``: results must not stay in a browser's or proxy's cache once downloaded.
    """
    response = send_file(
        export.stream,
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
