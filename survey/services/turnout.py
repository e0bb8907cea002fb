"""Turnout: codes issued and used, paper forms handed out and returned, and responses received,
per branch and per respondent category.

Counts only, never answers, so turnout is shown even while results are sealed and for
suppressed branches (turnout is not an answer). Five grouped queries, each by branch and
category: over ``access_code``, ``respondent_tally`` (counted ballots), ``sealed_ballot``
(ballots still in the ballot box, by their group columns only) and ``paper_handout``; the cost
follows branches and categories, never codes or responses.

* **Responses** count every ballot received, counted or not: turnout moves with each answer,
  while results move only when the ballot box mixes a batch. **Waiting** is the part still
  sealed in the box (held back, once the survey is closed).
* **Issued** codes exclude the unused codes of voided batches (they can no longer be used);
  a code that was used before its batch was voided stays issued. Codes of test batches count
  only while the survey is in test mode.
* **Paper**: forms *handed out* are what the office recorded (:class:`PaperHandout`); forms
  *returned* are the paper ballots received (stored, counted or still sealed).
* **Turnout rate** is (codes used + paper forms returned) / (codes issued + paper forms handed
  out). Paper ballots of a branch and category with no forms recorded as handed out are left
  out of the rate (how many were asked is unknown there), and the rate is None when nobody is
  known to have been asked (open-link surveys, paper without handouts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select

from survey.db import db
from survey.models import (
    AccessCode,
    Branch,
    CodeBatch,
    PaperHandout,
    RespondentCategory,
    RespondentTally,
    SealedBallot,
    Source,
    Survey,
)
from survey.services.lookup import survey_branches

Cell = tuple[int, int]  # (branch id, category id)


@dataclass(frozen=True, slots=True)
class Counts:
    """The turnout counts of one branch and category (or a sum of them)."""

    codes_issued: int = 0
    codes_used: int = 0
    paper_handed_out: int = 0
    paper_ballots: int = 0
    web_responses: int = 0
    waiting: int = 0
    #: Numerator and denominator of the turnout rate (see the module's docstring).
    reached: int = 0
    asked: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))


def _values(counts: Counts) -> tuple[int, ...]:
    return tuple(getattr(counts, name) for name in Counts.__slots__)


def _cell(issued: int, used: int, handed: int, paper: int, web: int, waiting: int) -> Counts:
    """One cell's counts; its paper counts towards the rate only where handouts are known."""
    known_paper = paper if handed > 0 else 0
    return Counts(issued, used, handed, paper, web, waiting, used + known_paper, issued + handed)


@dataclass(frozen=True, slots=True)
class CategoryTurnout:
    """Codes, paper forms and responses of one respondent category (within a branch or all)."""

    key: str
    label: str
    codes_issued: int
    codes_used: int
    paper_handed_out: int
    paper_ballots: int
    web_responses: int
    turnout_rate: float | None

    @property
    def responses(self) -> int:
        """All responses received, on the web and on paper."""
        return self.paper_ballots + self.web_responses


@dataclass(frozen=True, slots=True)
class BranchTurnout:
    """Codes, paper forms and responses of one branch (or, with code None, of the survey)."""

    code: str | None
    name: str | None
    codes_issued: int
    codes_used: int
    paper_ballots: int
    web_responses: int
    turnout_rate: float | None
    #: Received but still sealed in the ballot box (included in the two counts above).
    waiting: int = 0
    #: Paper forms the office recorded as handed out.
    paper_handed_out: int = 0
    #: The same figures per respondent category, in the survey's order.
    categories: list[CategoryTurnout] = field(default_factory=list)

    @property
    def responses(self) -> int:
        """All responses received, on the web and on paper."""
        return self.paper_ballots + self.web_responses


@dataclass(frozen=True, slots=True)
class SurveyTurnout:
    """Turnout per branch, ordered by code, and the survey-wide total."""

    branches: list[BranchTurnout]
    total: BranchTurnout

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API."""
        return {
            "branches": [_entry(b) for b in self.branches],
            "total": _entry(self.total),
        }


def _entry(row: BranchTurnout) -> dict[str, Any]:
    entry = {**asdict(row), "responses": row.responses}
    entry["categories"] = [{**asdict(c), "responses": c.responses} for c in row.categories]
    return entry


def _rate(reached: int, asked: int) -> float | None:
    return reached / asked if asked > 0 else None


def _grouped(query) -> dict[Cell, list[int]]:
    """Rows ``(branch, category, *counts)`` as cell → counts."""
    return {(b, c): [int(n or 0) for n in rest] for b, c, *rest in db.session.execute(query)}


def _codes(survey: Survey) -> dict[Cell, list[int]]:
    counted = or_(CodeBatch.is_void.is_(False), AccessCode.is_used.is_(True))
    if not survey.is_test_mode:
        counted = and_(counted, not_(CodeBatch.is_test))
    return _grouped(
        select(
            AccessCode.branch_id,
            AccessCode.category_id,
            func.sum(case((counted, 1), else_=0)),
            func.sum(case((and_(counted, AccessCode.is_used.is_(True)), 1), else_=0)),
        )
        .join(CodeBatch, CodeBatch.id == AccessCode.batch_id)
        .where(AccessCode.survey_id == survey.id)
        .group_by(AccessCode.branch_id, AccessCode.category_id)
    )


def _by_source(model, count, survey: Survey) -> dict[Cell, dict[Source, int]]:
    """Counted (tally) or sealed ballots per cell and source."""
    rows = db.session.execute(
        select(model.branch_id, model.category_id, model.source, count)
        .where(model.survey_id == survey.id)
        .group_by(model.branch_id, model.category_id, model.source)
    ).all()
    found: dict[Cell, dict[Source, int]] = {}
    for branch, category, source, number in rows:
        found.setdefault((branch, category), {})[Source(source)] = int(number or 0)
    return found


def cell_counts(survey: Survey) -> dict[Cell, Counts]:
    """Every branch and category with codes, handouts or ballots, and its counts."""
    codes = _codes(survey)
    counted = _by_source(RespondentTally, func.sum(RespondentTally.count), survey)
    sealed = _by_source(SealedBallot, func.count(), survey)
    handed = _grouped(
        select(PaperHandout.branch_id, PaperHandout.category_id, PaperHandout.count).where(
            PaperHandout.survey_id == survey.id
        )
    )
    cells = {}
    for cell in set(codes) | set(counted) | set(sealed) | set(handed):
        issued, used = codes.get(cell, (0, 0))
        done, box = counted.get(cell, {}), sealed.get(cell, {})
        paper = done.get(Source.PAPER, 0) + box.get(Source.PAPER, 0)
        web = done.get(Source.WEB, 0) + box.get(Source.WEB, 0)
        handed_out = handed.get(cell, [0])[0]
        cells[cell] = _cell(issued, used, handed_out, paper, web, sum(box.values()))
    return cells


def survey_turnout(survey: Survey, branch_id: int | None = None) -> SurveyTurnout:
    """Per-branch turnout of the campaign's active branches and every branch with codes,
    handouts or responses, each split by category.

    ``branch_id`` limits the branch list (not the total) to one branch, for branch viewers.
    """
    cells = cell_counts(survey)
    involved = {branch for branch, _category in cells}
    branches = survey_branches(survey, select(Branch.id).where(Branch.id.in_(involved)))
    categories = list(survey.categories)
    rows = []
    for branch in branches:
        split = [cells.get((branch.id, c.id), Counts()) for c in categories]
        rows.append(_row(branch.code, branch.name, categories, split))
    totals = [
        sum((cells.get((b.id, c.id), Counts()) for b in branches), Counts()) for c in categories
    ]
    total = _row(None, None, categories, totals)
    if branch_id is not None:
        rows = [row for row, b in zip(rows, branches, strict=True) if b.id == branch_id]
    return SurveyTurnout(branches=rows, total=total)


def _row(
    code: str | None,
    name: str | None,
    categories: list[RespondentCategory],
    split: Iterable[Counts],
) -> BranchTurnout:
    split = list(split)
    whole = sum(split, Counts())
    return BranchTurnout(
        code=code,
        name=name,
        codes_issued=whole.codes_issued,
        codes_used=whole.codes_used,
        paper_ballots=whole.paper_ballots,
        web_responses=whole.web_responses,
        turnout_rate=_rate(whole.reached, whole.asked),
        waiting=whole.waiting,
        paper_handed_out=whole.paper_handed_out,
        categories=[
            CategoryTurnout(
                key=category.key,
                label=category.label,
                codes_issued=counts.codes_issued,
                codes_used=counts.codes_used,
                paper_handed_out=counts.paper_handed_out,
                paper_ballots=counts.paper_ballots,
                web_responses=counts.web_responses,
                turnout_rate=_rate(counts.reached, counts.asked),
            )
            for category, counts in zip(categories, split, strict=True)
        ],
    )


def turnout(survey: Survey) -> list[BranchTurnout]:
    """Per-branch turnout (see :func:`survey_turnout` for the total as well)."""
    return survey_turnout(survey).branches
