"""Turnout: how many codes were issued and used, and how many responses came in, per branch.

Counts only, never answers, so turnout is shown even while results are sealed and for
suppressed branches (turnout is not an answer). Three grouped queries: over ``access_code``,
``respondent_tally`` (counted ballots) and ``sealed_ballot`` (ballots still in the ballot box);
the cost follows branches, not codes or responses.

* **Responses** count every ballot received, counted or not: turnout moves with each answer,
  while results move only when the ballot box mixes a batch. **Waiting** is the part still
  sealed in the box (held back, once the survey is closed).

* **Issued** codes exclude the unused codes of voided batches (they can no longer be used);
  a code that was used before its batch was voided stays issued. Codes of test batches count
  only while the survey is in test mode.
* **Turnout rate** is codes used / codes issued; None when no code was issued (open-link or
  paper-only surveys), since the number of people asked is then unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select

from survey.db import db
from survey.models import AccessCode, Branch, CodeBatch, RespondentTally, Source, Survey
from survey.services import ballot_box


@dataclass(frozen=True, slots=True)
class BranchTurnout:
    """Codes and responses of one branch (or, with code None, of the whole survey)."""

    code: str | None
    name: str | None
    codes_issued: int
    codes_used: int
    paper_ballots: int
    web_responses: int
    turnout_rate: float | None
    #: Received but still sealed in the ballot box (included in the two counts above).
    waiting: int = 0

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
    return {**asdict(row), "responses": row.responses}


def _rate(used: int, issued: int) -> float | None:
    return used / issued if issued > 0 else None


def survey_turnout(survey: Survey, branch_id: int | None = None) -> SurveyTurnout:
    """Per-branch turnout of every active branch and every branch with codes or responses.

    ``branch_id`` limits the branch list (not the total) to one branch, for branch viewers.
    """
    session = db.session
    counted = or_(CodeBatch.is_void.is_(False), AccessCode.is_used.is_(True))
    if not survey.is_test_mode:
        counted = and_(counted, not_(CodeBatch.is_test))
    code_rows = session.execute(
        select(
            AccessCode.branch_id,
            func.sum(case((counted, 1), else_=0)),
            func.sum(case((and_(counted, AccessCode.is_used.is_(True)), 1), else_=0)),
        )
        .join(CodeBatch, CodeBatch.id == AccessCode.batch_id)
        .where(AccessCode.survey_id == survey.id)
        .group_by(AccessCode.branch_id)
    ).all()
    codes = {branch: (int(issued or 0), int(used or 0)) for branch, issued, used in code_rows}
    response_rows = session.execute(
        select(RespondentTally.branch_id, RespondentTally.source, func.sum(RespondentTally.count))
        .where(RespondentTally.survey_id == survey.id)
        .group_by(RespondentTally.branch_id, RespondentTally.source)
    ).all()
    responses: dict[int, dict[Source, int]] = {}
    for branch, source, count in response_rows:
        responses.setdefault(branch, {})[Source(source)] = int(count or 0)
    sealed = ballot_box.waiting_by_branch(survey)
    involved = set(codes) | set(responses) | set(sealed)
    branches = session.scalars(
        select(Branch)
        .where(or_(Branch.is_active.is_(True), Branch.id.in_(involved)))
        .order_by(Branch.code)
    ).all()
    rows = [
        _row(b, codes.get(b.id, (0, 0)), responses.get(b.id, {}), sealed.get(b.id, {}))
        for b in branches
    ]
    total = _total(rows)
    if branch_id is not None:
        rows = [row for row, b in zip(rows, branches, strict=True) if b.id == branch_id]
    return SurveyTurnout(branches=rows, total=total)


def _row(
    branch: Branch,
    codes: tuple[int, int],
    counted: dict[Source, int],
    sealed: dict[Source, int],
) -> BranchTurnout:
    issued, used = codes
    return BranchTurnout(
        code=branch.code,
        name=branch.name,
        codes_issued=issued,
        codes_used=used,
        paper_ballots=counted.get(Source.PAPER, 0) + sealed.get(Source.PAPER, 0),
        web_responses=counted.get(Source.WEB, 0) + sealed.get(Source.WEB, 0),
        turnout_rate=_rate(used, issued),
        waiting=sum(sealed.values()),
    )


def _total(rows: Iterable[BranchTurnout]) -> BranchTurnout:
    rows = list(rows)
    issued = sum(r.codes_issued for r in rows)
    used = sum(r.codes_used for r in rows)
    return BranchTurnout(
        code=None,
        name=None,
        codes_issued=issued,
        codes_used=used,
        paper_ballots=sum(r.paper_ballots for r in rows),
        web_responses=sum(r.web_responses for r in rows),
        turnout_rate=_rate(used, issued),
        waiting=sum(r.waiting for r in rows),
    )


def turnout(survey: Survey) -> list[BranchTurnout]:
    """Per-branch turnout (see :func:`survey_turnout` for the total as well)."""
    return survey_turnout(survey).branches
