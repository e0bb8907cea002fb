"""How many codes each group gets, from one file: ``branch,category,count`` (CSV or .xlsx).

An office plans its sittings in a spreadsheet; this reads that plan so codes for every branch and
category are minted in one go, by the office's page (:mod:`survey.manage.codes`) and by
``mint-codes --counts FILE`` alike. Headers may be English or Chinese (支部/編號, 類別, 數量, in
either script); a branch is named by its code or its name, a category by its key or its label
(黨員 or 党员). Every problem is reported with its line, and nothing is minted while one remains.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from survey.db import db
from survey.models import Branch, RespondentCategory, Survey
from survey.services.imports import Problem, Rejected, Table, folded

#: Header aliases (folded, Simplified and Traditional) → the column they stand for.
COLUMN_ALIASES = {
    "branch": "branch",
    "branch_code": "branch",
    "branch name": "branch_name",
    "支部名称": "branch_name",
    "名称": "branch_name",
    "名稱": "branch_name",
    "支部": "branch",
    "支部编号": "branch",
    "支部編號": "branch",
    "编号": "branch",
    "編號": "branch",
    "代码": "branch",
    "代碼": "branch",
    "单位": "branch",
    "單位": "branch",
    "category": "category",
    "类别": "category",
    "類別": "category",
    "人员类别": "category",
    "人員類別": "category",
    "count": "count",
    "codes": "count",
    "数量": "count",
    "數量": "count",
    "份数": "count",
    "份數": "count",
}

#: Characters whose Simplified and Traditional forms differ in category labels and headers.
_SCRIPT_FOLD = str.maketrans(
    "黨員羣眾衆幹職領導會議與團級區類別數號碼單稱編屬門處",
    "党员群众众干职领导会议与团级区类别数号码单称编属门处",
)


def script_folded(value: str) -> str:
    """``value`` folded for matching, with Traditional characters written in Simplified."""
    return folded(value).translate(_SCRIPT_FOLD)


def rename_columns(table: Table, aliases: dict[str, str]) -> None:
    """Rename the header's aliases (Chinese names, either script) to their English names."""
    lookup = {script_folded(alias): name for alias, name in aliases.items()}
    renames = {h: lookup.get(script_folded(h), h) for h in table.header if h}
    table.header = [renames.get(h, h) for h in table.header]
    for row in table.rows:
        renamed = {renames.get(k, k): v for k, v in row.cells.items()}
        row.cells.clear()
        row.cells.update(renamed)


def _category_named(survey: Survey, written: str) -> RespondentCategory | None:
    wanted = script_folded(written)
    return next(
        (c for c in survey.categories if wanted in (script_folded(c.key), script_folded(c.label))),
        None,
    )


def _row_problems(table, row, branches, survey) -> tuple[list, tuple | None]:
    """A row's problems as (column, message), or its (branch, category, count)."""
    problems = []
    branch = branches.get(script_folded(row.get("branch")))
    if not row.get("branch"):  # blank lines were dropped by the reader
        problems.append(("branch", _("the branch is missing")))
    elif branch is None:
        problems.append(("branch", _('unknown branch "%(code)s"', code=row.get("branch"))))
    category = _category_named(survey, row.get("category") or "")
    if category is None:
        known = ", ".join(c.label for c in survey.categories)
        message = _(
            'unknown category "%(key)s" (categories: %(known)s)',
            key=row.get("category"),
            known=known,
        )
        problems.append(("category", message))
    count = (row.get("count") or "").strip()
    if not count.isdigit() or int(count) < 1:
        problems.append(("count", _('"%(value)s" is not a number of codes', value=count)))
    if problems:
        return problems, None
    return [], (branch, category, int(count))


def read_mint_counts(survey: Survey, table: Table) -> list[tuple[Branch, RespondentCategory, int]]:
    """The (branch, category, count) rows of a plan file, in file order; raises
    :class:`~survey.services.imports.Rejected` with every problem. A group named twice is a
    problem (which of the two numbers was meant?)."""
    rename_columns(table, COLUMN_ALIASES)
    problems = table.check_header(
        ["branch", "branch_name", "category", "count"], ["branch", "category", "count"]
    )
    if problems:
        raise Rejected(problems)
    problems = table.extra_cells()
    branches = {}
    for branch in db.session.scalars(select(Branch).order_by(Branch.code)):
        branches.setdefault(script_folded(branch.name), branch)
        branches[script_folded(branch.code)] = branch
    plan, first = [], {}
    for row in table.rows:
        if (row.get("count") or "").strip() in ("", "0"):
            continue  # a group the office left blank gets no codes this time
        found, entry = _row_problems(table, row, branches, survey)
        if entry is not None:
            group = (entry[0].id, entry[1].id)
            if group in first:
                twice = _("this group is listed twice (first on line %(line)d)", line=first[group])
                found = [("branch", twice)]
            first.setdefault(group, row.line)
        problems += [Problem(table.source, row.line, column, text) for column, text in found]
        if not found and entry is not None:
            plan.append(entry)
    if not plan and not problems:
        message = _("the file gives no group a number of codes")
        problems.append(Problem(table.source, None, None, message))
    if problems:
        raise Rejected(sorted(problems, key=Problem.order))
    return plan


def template_rows(survey: Survey, branches: list[Branch]) -> tuple[list[str], list[list]]:
    """The header (in the interface language) and one row per branch and category of the
    campaign, with the branch's members as the suggested count where the branch list gave
    them, else blank (a blank count mints nothing)."""
    from survey.services.codes import members_of

    members = members_of([b.id for b in branches])
    header = [_("branch"), _("branch name"), _("category"), _("count")]
    rows = [
        [b.code, b.name, c.label, members.get((b.id, c.key), "")]
        for b in branches
        for c in survey.categories
    ]
    return header, rows
