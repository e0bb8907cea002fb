"""Importing the list of branches: a preview of what would change, then all of it or nothing.

A file has the header ``code,name[,parent][,members:KEY…]``. A parent is the code of a branch in
the same file or already in the database. A code already in the database updates that branch's
name and parent. A ``members:KEY`` column gives how many people of the respondent category KEY
(``members:member``, ``members:public``) the branch has; minting more codes than that for a
group needs a stated reason (:func:`survey.services.codes.mint_concerns`). A blank cell leaves
the number as it was.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from survey.db import db
from survey.models import (
    AccessCode,
    Branch,
    BranchMembers,
    Campaign,
    CodeBatch,
    Comment,
    RespondentTally,
    Response,
    User,
)
from survey.refusals import Conflict, Invalid
from survey.services import audit, campaigns
from survey.services.imports import Problem, Rejected, Table, folded
from survey.services.mint_files import rename_columns, script_folded

#: Branch codes: letters, digits, "_", "." and "-", starting with a letter or digit. They appear
#: in spreadsheets, so a leading "=", "+", "-" or "@" (a formula to Excel) is impossible.
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
NAME_LENGTH = 200
#: Columns giving a branch's members of one respondent category: ``members:`` + category key.
MEMBERS_PREFIX = "members:"
#: Category keys, as in survey definitions.
_CATEGORY_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
#: Chinese headers a branch list may have (either script) → the column they stand for.
BRANCH_COLUMN_ALIASES = {
    "code": "code",
    "name": "name",
    "parent": "parent",
    "编号": "code",
    "代码": "code",
    "支部编号": "code",
    "支部代码": "code",
    "名称": "name",
    "支部名称": "name",
    "支部": "name",
    "单位名称": "name",
    "上级": "parent",
    "上级支部": "parent",
    "上级编号": "parent",
    "所属": "parent",
}
#: Generated codes of a names-only list: ``b01``, ``b02`` … (wider once past 99).
GENERATED_CODE = re.compile(r"b(\d+)")


@dataclass(frozen=True, slots=True)
class BranchChange:
    """One branch the import adds or changes, with the line it comes from."""

    line: int
    code: str
    name: str
    parent: str | None
    #: For a change: the name and parent code before it.
    old_name: str | None = None
    old_parent: str | None = None
    #: Members per category key the file gives (blank cells are left out).
    members: tuple[tuple[str, int], ...] = ()
    #: For a change: the members per category key before it.
    old_members: tuple[tuple[str, int], ...] = ()


@dataclass
class BranchPlan:
    """What an import would do: the preview the office confirms before it is applied."""

    to_add: list[BranchChange] = field(default_factory=list)
    to_change: list[BranchChange] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: Whether the file has a parent column (without one, parents are left as they are).
    sets_parents: bool = False
    #: The code of every branch the file lists, in file order (added, changed and unchanged).
    listed: list[str] = field(default_factory=list)


def _members_columns(header: list[str]) -> list[str]:
    """The ``members:KEY`` columns of a header, as written."""
    return [h for h in header if folded(h).startswith(MEMBERS_PREFIX)]


def _members_key(column: str) -> str:
    """The category key of a ``members:KEY`` column, as written (keys are case-sensitive)."""
    return unicodedata.normalize("NFKC", column).strip()[len(MEMBERS_PREFIX) :].strip()


def _read_members(table: Table, row, columns: list[str]) -> tuple[list, list]:
    """A row's members per category key, and its problems as (column, message)."""
    found, problems = [], []
    for column in columns:
        key = _members_key(column)
        value = row.get(column)
        if not _CATEGORY_KEY.fullmatch(key):
            continue  # reported once, for the header
        if not value:
            continue
        if not value.isdigit():
            problems.append((column, _('"%(value)s" is not a number of people', value=value)))
        else:
            found.append((key, int(value)))
    return found, problems


def _header_problems(table: Table, members_columns: list[str]) -> list[Problem]:
    """Problems of the header: missing or unknown columns, members columns with no key."""
    problems = table.check_header(["code", "name", "parent", *members_columns], ["code", "name"])
    for column in members_columns:
        if not _CATEGORY_KEY.fullmatch(_members_key(column)):
            message = _('"%(column)s" names no category key', column=column)
            problems.append(Problem(table.source, table.header_line, column, message))
    return problems


def _checked_rows(table: Table, plan: BranchPlan, members_columns: list[str]):
    """The rows without problems of their own, as (line, code, name, parent), with each
    code's members and the line where each code first appears; problems go to ``plan``."""
    first_line: dict[str, int] = {}
    rows = []
    members: dict[str, tuple[tuple[str, int], ...]] = {}
    for row in table.rows:
        code, name, parent = row.get("code"), row.get("name"), row.get("parent") or None
        row_problems = _check_row(code, name, first_line.get(code))
        found, member_problems = _read_members(table, row, members_columns)
        row_problems += member_problems
        first_line.setdefault(code, row.line)
        plan.problems += (Problem(table.source, row.line, f, m) for f, m in row_problems)
        if not row_problems:
            rows.append((row.line, code, name, parent))
            members[code] = tuple(sorted(found))
    return rows, members, first_line


def _parent_problems(table, rows, parents, first_line, by_code) -> list[Problem]:
    """Parents that are the branch itself, unknown, or close a loop (after the import)."""
    problems = []
    for line, code, _name, parent in rows:
        if parent is None:
            continue
        message = None
        if parent == code:
            message = _("a branch cannot be its own parent")
        elif parent not in first_line and parent not in by_code:
            message = _('unknown branch "%(code)s"', code=parent)
        elif _in_cycle(code, parents):
            message = _('parent "%(code)s" makes a loop of branches', code=parent)
        if message:
            problems.append(Problem(table.source, line, "parent", message))
    return problems


def _plan_changes(plan: BranchPlan, rows, members, parents, by_code, code_of) -> None:
    """Sort the checked rows into branches to add, to change, and unchanged."""
    known = _known_members()
    for line, code, name, parent in rows:
        branch = by_code.get(code)
        if branch is None:
            plan.to_add.append(BranchChange(line, code, name, parent, members=members[code]))
            continue
        old_parent = code_of.get(branch.parent_id)
        before = tuple(sorted(known.get(branch.id, {}).items()))
        after = tuple(sorted({**dict(before), **dict(members[code])}.items()))
        if branch.name == name and old_parent == parents[code] and after == before:
            plan.unchanged += 1
            continue
        plan.to_change.append(
            BranchChange(
                line,
                code,
                name,
                parents[code],
                branch.name,
                old_parent,
                members=members[code],
                old_members=before,
            )
        )


def _existing_by_name() -> dict[str, str]:
    """Code of each branch in the database by its (script-folded) name; the first by code wins."""
    found: dict[str, str] = {}
    for branch in db.session.scalars(select(Branch).order_by(Branch.code)):
        found.setdefault(script_folded(branch.name), branch.code)
    return found


def _give_codes(table: Table) -> None:
    """A names-only list: each row gets the code of the branch of that name, or a new one
    (``b01``, ``b02`` … after the highest such code), so importing it twice adds nothing."""
    by_name = _existing_by_name()
    named = dict(db.session.execute(select(Branch.code, Branch.name)).all())
    taken = set(named)
    numbers = [int(m.group(1)) for c in taken if (m := GENERATED_CODE.fullmatch(c))]
    next_number = max(numbers, default=0) + 1
    width = max(2, len(str(next_number + len(table.rows))))
    given: dict[str, str] = {}
    for row in table.rows:
        name = script_folded(row.get("name"))
        if not name:
            continue
        code = by_name.get(name) or given.get(name)
        if code is None:
            while f"b{next_number:0{width}d}" in taken:
                next_number += 1
            code = f"b{next_number:0{width}d}"
            taken.add(code)
        given[name] = code
        row.cells["code"] = code
        if code in named:  # the same name in the other script is the same branch, unchanged
            row.cells["name"] = named[code]
    table.header = ["code", *table.header]


def _parents_by_name(table: Table) -> None:
    """A parent written as a branch's name (in the file or the database) becomes its code."""
    codes = {row.get("code") for row in table.rows} | set(db.session.scalars(select(Branch.code)))
    names = _existing_by_name()
    names.update({script_folded(row.get("name")): row.get("code") for row in table.rows})
    for row in table.rows:
        parent = row.get("parent")
        if parent and parent not in codes and script_folded(parent) in names:
            row.cells["parent"] = names[script_folded(parent)]


def prepare_table(table: Table) -> None:
    """Read Chinese headers (编号/代码, 名称/支部名称, 上级, in either script), give a
    names-only list its codes, and turn parents written as names into codes."""
    rename_columns(table, BRANCH_COLUMN_ALIASES)
    folded_header = {folded(h) for h in table.header}
    if "code" not in folded_header and "name" in folded_header:
        _give_codes(table)
    if "parent" in folded_header:
        _parents_by_name(table)


def template_rows() -> tuple[list[str], list[list[str]]]:
    """A branch list to fill in: Chinese headers (Simplified and Traditional alike are read)
    and two example rows, the second belonging to the first."""
    header = ["编号", "名称", "上级"]
    return header, [["b01", "第一党支部", ""], ["b02", "第二党支部", "b01"]]


def plan_branches(table: Table) -> BranchPlan:
    """Check a branches table against the database and list what applying it would change."""
    prepare_table(table)
    plan = BranchPlan()
    members_columns = _members_columns(table.header)
    plan.problems += _header_problems(table, members_columns)
    if plan.problems:
        return plan
    plan.problems += table.extra_cells()
    if not table.rows:
        plan.problems.append(Problem(table.source, None, None, _("the file lists no branches")))
    plan.sets_parents = "parent" in table.header
    existing = list(db.session.scalars(select(Branch)))
    code_of = {b.id: b.code for b in existing}
    by_code = {b.code: b for b in existing}
    rows, members, first_line = _checked_rows(table, plan, members_columns)
    # Parents after the import: the database's, overridden by the file's.
    parents = {b.code: code_of.get(b.parent_id) for b in existing}
    for _line, code, _name, parent in rows:
        parents[code] = parent if plan.sets_parents else parents.get(code)
    plan.problems += _parent_problems(table, rows, parents, first_line, by_code)
    if plan.problems:
        plan.problems.sort(key=Problem.order)
        return plan
    _plan_changes(plan, rows, members, parents, by_code, code_of)
    plan.listed = [code for _line, code, _name, _parent in rows]
    return plan


def _known_members() -> dict[int, dict[str, int]]:
    """Members per branch id and category key, as stored."""
    found: dict[int, dict[str, int]] = {}
    for row in db.session.scalars(select(BranchMembers)):
        found.setdefault(row.branch_id, {})[row.category_key] = row.count
    return found


def _check_row(code: str, name: str, earlier_line: int | None) -> list[tuple[str, str]]:
    """Problems of one row on its own, as (column, message)."""
    problems = []
    if not code:
        problems.append(("code", _("the branch code is missing")))
    elif not CODE_PATTERN.fullmatch(code):
        message = _(
            'invalid code "%(code)s": use up to 40 letters, digits, "_", "." or "-", '
            "starting with a letter or digit",
            code=code,
        )
        problems.append(("code", message))
    elif earlier_line is not None:
        message = _(
            'duplicate code "%(code)s" (first on line %(line)d)', code=code, line=earlier_line
        )
        problems.append(("code", message))
    if not name:
        problems.append(("name", _("the branch name is missing")))
    elif len(name) > NAME_LENGTH:
        message = _("the name is longer than %(limit)d characters", limit=NAME_LENGTH)
        problems.append(("name", message))
    return problems


def _in_cycle(code: str, parents: dict[str, str | None]) -> bool:
    """Whether following parents from ``code`` comes back to it."""
    seen = {code}
    current = parents.get(code)
    while current is not None:
        if current in seen:
            return current == code
        seen.add(current)
        current = parents.get(current)
    return False


def apply_branch_plan(
    plan: BranchPlan, user: User | None = None, campaign: Campaign | None = None
) -> None:
    """Make the planned additions and changes, inside the caller's transaction.

    With a ``campaign``, every branch the file lists joins that campaign only; without one, the
    new branches join the running campaigns (:func:`survey.services.campaigns.join_campaigns`).
    """
    session = db.session
    by_code = {b.code: b for b in session.scalars(select(Branch))}
    for change in plan.to_add:
        by_code[change.code] = Branch(code=change.code, name=change.name)
        session.add(by_code[change.code])
    for change in plan.to_change:
        by_code[change.code].name = change.name
    session.flush()
    for change in [*plan.to_add, *plan.to_change]:
        by_code[change.code].parent = by_code[change.parent] if change.parent else None
        for key, count in change.members:
            row = session.get(BranchMembers, (by_code[change.code].id, key))
            if row is None:
                session.add(
                    BranchMembers(branch_id=by_code[change.code].id, category_key=key, count=count)
                )
            else:
                row.count = count
    if campaign is not None:
        listed = [by_code[code] for code in plan.listed]
    else:
        listed = [by_code[change.code] for change in plan.to_add]
    campaigns.join_campaigns(listed, campaign)
    detail = f"added={len(plan.to_add)} updated={len(plan.to_change)}"
    if campaign is not None:
        detail += f" campaign={campaign.slug}"
    audit.record("branches.import", detail, user=user)


def import_branches(
    table: Table, user: User | None = None, campaign: Campaign | None = None
) -> BranchPlan:
    """Check and apply a branches table in one transaction; raise :class:`Rejected` on problems.

    ``campaign``: the campaign the import is made for (see :func:`apply_branch_plan`)."""
    with db.transaction():
        plan = plan_branches(table)
        if plan.problems:
            raise Rejected(plan.problems)
        apply_branch_plan(plan, user, campaign)
    return plan


# ---- single branches (the admin pages) --------------------------------------------------------


class BranchInUse(Conflict):
    """A branch that responses, codes, accounts or other branches refer to: deactivate it."""

    def __init__(self, code: str):
        super().__init__(
            _(
                "Branch %(code)s has responses, codes, accounts or sub-branches, so it is "
                "never deleted: results must stay complete. Deactivate it instead.",
                code=code,
            )
        )


def branch_is_used(branch: Branch) -> bool:
    """Whether anything refers to the branch, so that deleting it would lose or break data."""

    session = db.session
    references = (
        (Response, Response.branch_id),
        (Comment, Comment.branch_id),
        (RespondentTally, RespondentTally.branch_id),
        (CodeBatch, CodeBatch.branch_id),
        (AccessCode, AccessCode.branch_id),
        (User, User.branch_id),
        (Branch, Branch.parent_id),
    )
    return any(
        session.scalar(select(column).where(column == branch.id).limit(1)) is not None
        for _model, column in references
    )


def save_branch(
    branch: Branch | None, code: str, name: str, parent: Branch | None, user: User | None = None
) -> Branch:
    """Add a branch (``branch`` None) or change one's code, name and parent; audited.

    Refuses a code another branch has and a parent that would make a loop of branches.
    """
    with db.transaction() as session:
        other = session.scalar(select(Branch.id).where(Branch.code == code))
        if other is not None and (branch is None or other != branch.id):
            raise Invalid(_("Another branch already has this code."), field="code")
        ancestor = parent
        while ancestor is not None:
            if branch is not None and ancestor.id == branch.id:
                raise Invalid(_("This would make a loop of branches."), field="parent")
            ancestor = ancestor.parent
        created = branch is None
        if created:
            branch = Branch(code=code)
            session.add(branch)
        branch.code, branch.name, branch.parent = code, name, parent
        session.flush()
        if created:
            campaigns.join_campaigns([branch], None)
        audit.record(
            "branch.create" if created else "branch.update",
            f"branch={code} parent={parent.code if parent else '-'}",
            user=user,
        )
    return branch


def set_branch_active(branch: Branch, active: bool, user: User | None = None) -> None:
    """Deactivate (no new codes) or reactivate a branch; audited."""
    set_branches_active([branch.id], active, user)


def set_branches_active(branch_ids: list[int], active: bool, user: User | None = None) -> int:
    """Deactivate (no new codes) or reactivate several branches at once; audited, one entry
    per branch that changed. Returns how many changed; an unknown id is refused."""
    with db.transaction() as session:
        chosen = list(session.scalars(select(Branch).where(Branch.id.in_(branch_ids))))
        if not branch_ids or len(chosen) != len(set(branch_ids)):
            raise Invalid(_("Choose one or more branches first."))
        changed = [b for b in chosen if b.is_active != active]
        for branch in changed:
            branch.is_active = active
            action = "branch.activate" if active else "branch.deactivate"
            audit.record(action, f"branch={branch.code}", user=user)
    return len(changed)


def delete_branch(branch: Branch, user: User | None = None) -> None:
    """Delete a branch nothing refers to; raise :class:`BranchInUse` otherwise; audited."""
    with db.transaction() as session:
        if branch_is_used(branch):
            raise BranchInUse(branch.code)
        session.delete(branch)
        audit.record("branch.delete", f"branch={branch.code}", user=user)
