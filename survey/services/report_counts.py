"""A survey's count table, read from the tally tables, for :mod:`analytics`.

Reports read the three tally tables with one grouped SELECT each, never the answer rows, so
building a report costs branches × items, not responses. Rows come straight from the driver's
cursor into numpy arrays: tallies are plain integers, and building SQLAlchemy row objects for
100,000 tally rows would cost more than the query itself.
"""

from __future__ import annotations

import itertools

import numpy as np
from sqlalchemy import case, func, select

from analytics import SurveyCounts, suppressed
from analytics.report import EMPTY, SHOWN, SUPPRESSED, Scale
from survey.db import db
from survey.models import AnswerTally, Branch, RespondentTally, Survey, TotalTally
from survey.services.lookup import survey_branches


def report_branches(survey: Survey) -> list[Branch]:
    """Branches a report lists: the campaign's active branches, and any other branch with
    responses, by code (:func:`survey.services.lookup.survey_branches`)."""
    answered = select(RespondentTally.branch_id).where(RespondentTally.survey_id == survey.id)
    return survey_branches(survey, answered)


def _positions(ids: list[int]) -> np.ndarray:
    """A lookup array: ``lookup[id]`` is the position of ``id`` in ``ids``, or −1."""
    lookup = np.full(max(ids, default=0) + 1, -1, dtype=np.int64)
    lookup[np.asarray(ids, dtype=np.int64)] = np.arange(len(ids), dtype=np.int64)
    return lookup


def _locate(lookup: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    """Positions of ``ids`` in ``lookup``; a tally for an unknown id is an inconsistency."""
    inside = ids < lookup.size
    positions = np.where(inside, lookup[np.where(inside, ids, 0)], -1)
    if np.any(positions < 0):
        raise RuntimeError(f"a tally refers to a {what} that the survey does not list")
    return positions


def _int_table(statement, width: int) -> np.ndarray:
    """The integer rows of ``statement`` as an (n, width) int64 array, from the cursor."""
    result = db.session.connection().execute(statement)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=np.int64, count=len(rows) * width).reshape(len(rows), width)


def _answer_counts(survey: Survey, at: dict[str, np.ndarray], shape: tuple[int, ...]):
    """counts[b, c, i, o] and the (items, options) counts over complete responses."""
    counts = np.zeros(shape, dtype=np.int64)
    complete = np.zeros(shape[2:], dtype=np.int64)
    table = _int_table(
        select(
            AnswerTally.branch_id,
            AnswerTally.category_id,
            AnswerTally.item_id,
            AnswerTally.option_id,
            func.sum(AnswerTally.count),
            func.sum(case((AnswerTally.is_complete, AnswerTally.count), else_=0)),
        )
        .where(AnswerTally.survey_id == survey.id)
        .group_by(
            AnswerTally.branch_id,
            AnswerTally.category_id,
            AnswerTally.item_id,
            AnswerTally.option_id,
        ),
        6,
    )
    if table.size:
        b = _locate(at["branch"], table[:, 0], "branch")
        c = _locate(at["category"], table[:, 1], "category")
        i = _locate(at["item"], table[:, 2], "item")
        o = _locate(at["option"], table[:, 3], "option")
        counts[b, c, i, o] = table[:, 4]
        np.add.at(complete, (i, o), table[:, 5])
    return counts, complete


def _respondent_counts(survey: Survey, at: dict[str, np.ndarray], shape: tuple[int, int]):
    """respondents[b, c]: responses per branch and category."""
    respondents = np.zeros(shape, dtype=np.int64)
    table = _int_table(
        select(
            RespondentTally.branch_id, RespondentTally.category_id, func.sum(RespondentTally.count)
        )
        .where(RespondentTally.survey_id == survey.id)
        .group_by(RespondentTally.branch_id, RespondentTally.category_id),
        3,
    )
    if table.size:
        b = _locate(at["branch"], table[:, 0], "branch")
        c = _locate(at["category"], table[:, 1], "category")
        respondents[b, c] = table[:, 2]
    return respondents


def survey_counts(survey: Survey, branches: list[Branch] | None = None) -> SurveyCounts:
    """The survey's count table for ``analytics``, from the three tally tables (grouped)."""
    branches = report_branches(survey) if branches is None else branches
    options, categories, items = survey.options, survey.categories, survey.items
    shape = (len(branches), len(categories), len(items), len(options))
    at = {
        "branch": _positions([b.id for b in branches]),
        "category": _positions([c.id for c in categories]),
        "item": _positions([i.id for i in items]),
        "option": _positions([o.id for o in options]),
    }
    counts, complete = _answer_counts(survey, at, shape)
    total_rows = db.session.execute(
        select(TotalTally.total, func.sum(TotalTally.count))
        .where(TotalTally.survey_id == survey.id)
        .group_by(TotalTally.total)
        .order_by(TotalTally.total)
    ).all()
    return SurveyCounts(
        scale=Scale(
            option_keys=tuple(o.key for o in options),
            weights=tuple(float(o.weight) for o in options),
            favourable=tuple(bool(o.is_favourable) for o in options),
        ),
        item_keys=tuple(i.key for i in items),
        branch_keys=tuple(b.code for b in branches),
        category_keys=tuple(c.key for c in categories),
        category_weights=tuple(None if c.weight is None else float(c.weight) for c in categories),
        counts=counts,
        respondents=_respondent_counts(survey, at, shape[:2]),
        threshold=survey.threshold,
        complete_item_counts=complete,
        complete_total_values=np.array([float(r[0]) for r in total_rows], dtype=float),
        complete_total_counts=np.array([int(r[1]) for r in total_rows], dtype=np.int64),
        min_rank_respondents=survey.min_rank_respondents,
        target=survey.target,
    )


def branch_statuses(survey: Survey) -> dict[int, str]:
    """Branch id → shown / suppressed / empty under the suppression rule, from turnout alone."""
    rows = db.session.execute(
        select(Branch.id, Branch.code, func.coalesce(func.sum(RespondentTally.count), 0))
        .join(RespondentTally, RespondentTally.branch_id == Branch.id)
        .where(RespondentTally.survey_id == survey.id)
        .group_by(Branch.id, Branch.code)
    ).all()
    sizes = {code: int(size) for _id, code, size in rows}
    hidden = suppressed(sizes, survey.threshold)
    return {
        branch_id: EMPTY if sizes[code] == 0 else SUPPRESSED if code in hidden else SHOWN
        for branch_id, code, _size in rows
    }
