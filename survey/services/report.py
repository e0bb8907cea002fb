"""The published report of a survey: tallies → ``analytics`` → one JSON-ready dict.

Every page, API response and export reads :func:`build_report`, so they all show the same
figures and hide the same groups. The counts come from the tally tables (one grouped SELECT per
table), never from answer rows, so building a report costs branches × items, not responses.

Contract of the dict (fields may be added, never removed): ``survey``, ``title``, ``kind``,
``threshold``, ``confidence``, ``respondents``, ``scale``, ``items``, ``overall.items``,
``branches`` (a suppressed branch carries only code, name, respondents, suppressed and status),
``tests``, ``reliability``, ``ballot_box`` and, when asked, ``comparison``. Undefined figures
are None, never NaN, so ``json.dumps(report, allow_nan=False)`` always succeeds.

Only ballots that the ballot box has mixed are counted (:mod:`survey.services.ballot_box`), so
every figure moves by whole batches of at least the threshold. ``ballot_box`` says how many are
still sealed: ``waiting`` to be counted while the survey is open, ``held_back`` once it is
closed. The omnibus ``tests`` compare the shown branches only.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select

from analytics import (
    Comparison,
    Composite,
    Summary,
    SurveyAnalysis,
    SurveyCounts,
    VsRest,
    analyse,
    suppressed,
)
from analytics import (
    compare as compare_counts,
)
from analytics.report import EMPTY, SHOWN, SUPPRESSED, Scale
from survey.db import db
from survey.models import (
    AnswerTally,
    Branch,
    Comment,
    RespondentTally,
    Survey,
    SurveyState,
    TotalTally,
)
from survey.services import ballot_box

#: Confidence level of every interval in the report.
CONFIDENCE = 0.95

#: Values of a comparison's ``change``: where the Newcombe interval lies relative to 0.
HIGHER = "higher"
LOWER = "lower"
NO_CLEAR_CHANGE = "none"


class ResultsSealed(Exception):
    """The survey's results stay hidden until it closes (a live count could identify people)."""

    def __init__(self, survey: Survey):
        super().__init__(survey.slug)
        self.survey = survey

    @property
    def message(self) -> str:
        """What to tell the reader, in their language."""
        return _(
            "The results of %(title)s appear after the survey closes. "
            "Until then only the turnout is shown.",
            title=self.survey.title,
        )


# --------------------------------------------------------------------------- counts


def report_branches(survey: Survey) -> list[Branch]:
    """Branches a report lists: every active branch, and inactive ones with responses, by code."""
    answered = select(RespondentTally.branch_id).where(RespondentTally.survey_id == survey.id)
    return list(
        db.session.scalars(
            select(Branch)
            .where(or_(Branch.is_active.is_(True), Branch.id.in_(answered)))
            .order_by(Branch.code)
        )
    )


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
    """The integer rows of ``statement`` as an (n, width) int64 array.

    Rows come straight from the driver's cursor: tallies are plain integers, and building
    SQLAlchemy Row objects for 100,000 tally rows would cost more than the query itself.
    """
    result = db.session.connection().execute(statement)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=np.int64, count=len(rows) * width).reshape(len(rows), width)


def survey_counts(survey: Survey, branches: list[Branch] | None = None) -> SurveyCounts:
    """The survey's count table for ``analytics``, from the three tally tables (grouped)."""
    session = db.session
    branches = report_branches(survey) if branches is None else branches
    options, categories, items = survey.options, survey.categories, survey.items
    scale = Scale(
        option_keys=tuple(o.key for o in options),
        weights=tuple(float(o.weight) for o in options),
        favourable=tuple(bool(o.is_favourable) for o in options),
    )
    shape = (len(branches), len(categories), len(items), len(options))
    branch_at = _positions([b.id for b in branches])
    category_at = _positions([c.id for c in categories])
    item_at = _positions([i.id for i in items])
    option_at = _positions([o.id for o in options])

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
        b = _locate(branch_at, table[:, 0], "branch")
        c = _locate(category_at, table[:, 1], "category")
        i = _locate(item_at, table[:, 2], "item")
        o = _locate(option_at, table[:, 3], "option")
        counts[b, c, i, o] = table[:, 4]
        np.add.at(complete, (i, o), table[:, 5])

    respondents = np.zeros(shape[:2], dtype=np.int64)
    table = _int_table(
        select(
            RespondentTally.branch_id, RespondentTally.category_id, func.sum(RespondentTally.count)
        )
        .where(RespondentTally.survey_id == survey.id)
        .group_by(RespondentTally.branch_id, RespondentTally.category_id),
        3,
    )
    if table.size:
        b = _locate(branch_at, table[:, 0], "branch")
        c = _locate(category_at, table[:, 1], "category")
        respondents[b, c] = table[:, 2]

    total_rows = session.execute(
        select(TotalTally.total, func.sum(TotalTally.count))
        .where(TotalTally.survey_id == survey.id)
        .group_by(TotalTally.total)
        .order_by(TotalTally.total)
    ).all()
    return SurveyCounts(
        scale=scale,
        item_keys=tuple(i.key for i in items),
        branch_keys=tuple(b.code for b in branches),
        category_keys=tuple(c.key for c in categories),
        category_weights=tuple(None if c.weight is None else float(c.weight) for c in categories),
        counts=counts,
        respondents=respondents,
        threshold=survey.threshold,
        complete_item_counts=complete,
        complete_total_values=np.array([float(r[0]) for r in total_rows], dtype=float),
        complete_total_counts=np.array([int(r[1]) for r in total_rows], dtype=np.int64),
        min_rank_respondents=survey.min_rank_respondents,
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


def shown_branch_ids(survey: Survey) -> set[int]:
    """Ids of the branches whose figures (and comments and raw answers) may be published."""
    return {b for b, status in branch_statuses(survey).items() if status == SHOWN}


def check_unsealed(survey: Survey) -> None:
    """Raise :class:`ResultsSealed` when the survey's results must stay hidden for now."""
    if survey.results_are_sealed:
        raise ResultsSealed(survey)


# --------------------------------------------------------------------------- JSON


def _pair(values: tuple[float, float] | None) -> list[float] | None:
    return None if values is None else list(values)


def _summary(summary: Summary, option_keys: tuple[str, ...]) -> dict[str, Any]:
    return {
        "n": summary.n,
        "counts": dict(zip(option_keys, summary.counts, strict=True)),
        "favourable_rate": summary.favourable_rate,
        "favourable_ci": _pair(summary.favourable_ci),
        "score_mean": summary.score_mean,
        "score_ci": _pair(summary.score_ci),
    }


def _vs_rest(result: VsRest) -> dict[str, Any]:
    return {
        "p": result.p,
        "p_adjusted": result.p_adjusted,
        "signal": result.signal,
        "method": result.method,
        "effect": result.effect,
    }


def _composite(composite: Composite | None) -> dict[str, Any] | None:
    if composite is None:
        return None
    weighted = composite.weighted
    return {
        "favourable_rate": composite.favourable_rate,
        "score_mean": composite.score_mean,
        "weighted": None
        if weighted is None
        else {
            "rate": weighted.rate,
            "lo": weighted.lo,
            "hi": weighted.hi,
            "effective_n": weighted.effective_n,
        },
    }


def _comparison(result: Comparison) -> dict[str, Any]:
    change = None
    if result.diff_ci is not None:
        lo, hi = result.diff_ci
        change = HIGHER if lo > 0 else LOWER if hi < 0 else NO_CLEAR_CHANGE
    return {
        "diff": result.diff,
        "diff_ci": _pair(result.diff_ci),
        "p": result.p,
        "mann_whitney_p": result.mann_whitney_p,
        "method": result.method,
        "change": change,
    }


def _headline(overall: dict[str, Summary] | None) -> dict[str, Any]:
    """Mean over items of the favourable rate (as in a branch composite), with a conservative
    interval: the mean of the items' Wilson limits, since SD(mean) ≤ mean(SD) whatever the
    correlation between items (exact when every respondent answers all items alike)."""
    rated = [s for s in (overall or {}).values() if s.favourable_rate is not None]
    if not rated:
        return {"favourable_rate": None, "favourable_ci": None, "items_rated": 0}
    rate = float(np.mean([s.favourable_rate for s in rated]))
    lo = float(np.mean([s.favourable_ci[0] for s in rated]))
    hi = float(np.mean([s.favourable_ci[1] for s in rated]))
    return {"favourable_rate": rate, "favourable_ci": [lo, hi], "items_rated": len(rated)}


def _branch(result, branch: Branch, option_keys: tuple[str, ...]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "code": branch.code,
        "name": branch.name,
        "respondents": result.respondents,
        "suppressed": result.status == SUPPRESSED,
        "status": result.status,
    }
    if result.status == SUPPRESSED:
        return entry
    entry["items"] = {
        key: {**_summary(summary, option_keys), "vs_rest": _vs_rest(result.vs_rest[key])}
        for key, summary in result.items.items()
    }
    entry["composite"] = _composite(result.composite)
    entry["rank"] = result.rank
    entry["categories"] = [
        {"key": category.key, "respondents": category.respondents, "suppressed": True}
        if category.suppressed
        else {
            "key": category.key,
            "respondents": category.respondents,
            "suppressed": False,
            "items": {
                key: _summary(summary, option_keys) for key, summary in category.items.items()
            },
        }
        for category in result.categories.values()
    ]
    return entry


def _report_dict(
    survey: Survey,
    counts: SurveyCounts,
    analysis: SurveyAnalysis,
    branches: list[Branch],
    branch_id: int | None,
) -> dict[str, Any]:
    option_keys = counts.scale.option_keys
    listed = [
        _branch(result, branch, option_keys)
        for result, branch in zip(analysis.branches, branches, strict=True)
        if branch_id is None or branch.id == branch_id
    ]
    tests = {
        key: {
            "chi2": {
                "statistic": t.chi2.statistic,
                "df": t.chi2.df,
                "p": t.chi2.p,
                "cramers_v": t.chi2.cramers_v,
            },
            "kruskal": {
                "statistic": t.kruskal.statistic,
                "df": t.kruskal.df,
                "p": t.kruskal.p,
                "epsilon_squared": t.kruskal.epsilon_squared,
            },
        }
        for key, t in (analysis.tests or {}).items()
    }
    return {
        "survey": survey.slug,
        "title": survey.title,
        "kind": survey.kind.value,
        "state": survey.state.value,
        "campaign": survey.campaign.slug,
        "threshold": survey.threshold,
        "confidence": CONFIDENCE,
        "min_rank_respondents": survey.min_rank_respondents,
        "respondents": analysis.respondents,
        "suppressed_respondents": analysis.suppressed_total,
        "suppressed_branches": analysis.suppressed_branches,
        "scale": [
            {
                "key": o.key,
                "label": o.label,
                "weight": float(o.weight),
                "favourable": bool(o.is_favourable),
            }
            for o in survey.options
        ],
        "categories": [
            {
                "key": c.key,
                "label": c.label,
                "weight": None if c.weight is None else float(c.weight),
            }
            for c in survey.categories
        ],
        "items": [{"key": i.key, "text": i.text} for i in survey.items],
        "overall": {
            "suppressed": analysis.overall_suppressed,
            "items": {
                key: _summary(summary, option_keys)
                for key, summary in (analysis.overall or {}).items()
            },
            "headline": _headline(analysis.overall),
        },
        "branches": listed,
        "tests": tests,
        "reliability": {"cronbach_alpha": analysis.cronbach_alpha},
    }


def build_report(
    survey: Survey, compare: Survey | None = None, branch_id: int | None = None
) -> dict[str, Any]:
    """The survey's published figures as a JSON-ready dict (see the module docstring).

    ``compare`` adds a comparison with another survey (stage); ``branch_id`` limits the listed
    branches (and compared branches) to one, for branch viewers. Raises :class:`ResultsSealed`
    when either survey's results are still sealed.
    """
    check_unsealed(survey)
    if compare is not None:
        check_unsealed(compare)
    with _collector_paused():
        return _build(survey, compare, branch_id)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a report's objects are built.

    A 1,000-branch report creates a few hundred thousand small dicts and tuples, none of them
    cyclic garbage; each full collection would rescan all of them, which measured as 60 % of
    the time spent building the dict.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(survey: Survey, compare: Survey | None, branch_id: int | None) -> dict[str, Any]:
    branches = report_branches(survey)
    counts = survey_counts(survey, branches)
    analysis = analyse(counts, CONFIDENCE)
    report = _report_dict(survey, counts, analysis, branches, branch_id)
    sealed = ballot_box.waiting(survey, branch_id)
    closed = survey.state is SurveyState.CLOSED
    report["ballot_box"] = {
        "waiting": 0 if closed else sealed,
        "held_back": sealed if closed else 0,
    }
    if compare is not None:
        other = survey_counts(compare)
        result = compare_counts(counts, other, CONFIDENCE)
        allowed = {b["code"] for b in report["branches"]}
        report["comparison"] = {
            "against": compare.slug,
            "against_title": compare.title,
            "overall": {key: _comparison(c) for key, c in result.overall.items()},
            "branches": {
                code: {key: _comparison(c) for key, c in by_item.items()}
                for code, by_item in result.branches.items()
                if by_item and code in allowed
            },
        }
    return report


# --------------------------------------------------------------------------- comments


def comments(survey: Survey, branch: Branch) -> list[str]:
    """A shown branch's comments in random order; none for a suppressed or empty branch."""
    check_unsealed(survey)
    if branch_statuses(survey).get(branch.id) != SHOWN:
        return []
    return list(
        db.session.scalars(
            select(Comment.text)
            .where(Comment.survey_id == survey.id, Comment.branch_id == branch.id)
            .order_by(func.random())
        )
    )
