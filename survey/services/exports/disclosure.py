"""What an export may list row by row: the anonymity policy for comments and raw answers.

Figures come from the report, which has already hidden small groups. Rows are more revealing,
so an export lists them only where the report shows the group they belong to:

* A suppressed branch is absent: its comments and its raw answers. Raw answers of a suppressed
  category cell inside a shown branch keep their branch but lose their category (the hidden
  cells of a branch together hold at least k respondents, by the complementary rule).
* Inside each branch and visible category, web and paper are two groups under the same rule:
  where either would be smaller than the threshold, that group's raw answers are not listed at
  all (they are counted in every figure). Blanking only their source was not enough: web answers
  leave no item blank, so a row with a blank item is a paper ballot whatever the source says.

Rows are streamed in random order (``yield_per`` :data:`CHUNK`), with no id or date, through
the read-only connection the caller holds (:meth:`survey.db.Database.reading`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select

from analytics import suppressed
from survey.models import Answer, Branch, Comment, RespondentTally, Response, Survey
from survey.services.report import BranchReport, Report

#: Rows fetched from the database at a time while streaming.
CHUNK = 1000


def listed_branches(report: Report) -> list[BranchReport]:
    """The report's branches whose figures an export lists: every one that is not suppressed."""
    return [branch for branch in report.branches if not branch.is_suppressed]


def _branch_ids(connection: Connection, report: Report) -> dict[str, int]:
    """Code → id of the report's listed branches with respondents."""
    codes = [b.code for b in listed_branches(report) if b.respondents > 0]
    if not codes:
        return {}
    rows = connection.execute(select(Branch.code, Branch.id).where(Branch.code.in_(codes)))
    return {code: branch_id for code, branch_id in rows}


def comments(connection: Connection, survey: Survey, report: Report) -> Iterator[tuple]:
    """Stream (branch code, branch name, text) of the report's shown branches: by branch code,
    in random order within a branch."""
    branch_ids = list(_branch_ids(connection, report).values())
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


def _mixed_source_groups(
    connection: Connection,
    survey: Survey,
    codes: dict[int, str],
    category_keys: dict[int, str],
    hidden_categories: set[tuple[str, str]],
) -> dict[tuple[str, str | None], int]:
    """(branch code, shown category key or None) groups whose raw rows are withheld, with
    their sizes: those where web or paper answers number fewer than the threshold."""
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


def raw_responses(connection: Connection, survey: Survey, report: Report) -> RawRows:
    """Stream (branch code, category key, source, option key per item) of the report's shown
    branches, in random order, with no id or date. The key of a suppressed category is None;
    unanswered items are None too. Groups where web or paper would be smaller than the threshold
    are left out (see :func:`_mixed_source_groups`); ``withheld`` says how many rows that is."""
    branch_ids = _branch_ids(connection, report)
    if not branch_ids:
        return RawRows(iter(()), 0)
    codes = {branch_id: code for code, branch_id in branch_ids.items()}
    category_keys = {c.id: c.key for c in survey.categories}
    hidden = {
        (branch.code, category.key)
        for branch in listed_branches(report)
        for category in branch.result.categories.values()
        if category.suppressed
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
