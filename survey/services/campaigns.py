"""The branches a campaign measures.

A campaign chooses its branches (``campaign_branch``). Its reports, turnout and code minting
list those branches (and any other branch that has answers, so nothing answered is ever left
out), which is what keeps a branch list imported for a new campaign out of the report of a
campaign that closed years ago. A new campaign starts with every active branch.

A branch added without naming a campaign (the branches page, the branch import of the branches
page, ``import-branches`` without ``--campaign``) joins every *running* campaign: one that is
not archived and has a survey that is not closed, or no survey yet. A campaign whose surveys
are all closed is finished and keeps the list it was measured with. An import made from a
campaign's page (or ``import-branches --campaign``) adds its branches to that campaign only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import select, union
from sqlalchemy.orm import selectinload

from survey.db import db
from survey.models import (
    Branch,
    Campaign,
    CodeBatch,
    RespondentTally,
    SealedBallot,
    Survey,
    SurveyState,
    User,
)
from survey.refusals import Conflict, Invalid
from survey.services import audit


def is_running(campaign: Campaign) -> bool:
    """Whether the campaign is still under way: not archived, and not every survey closed."""
    if campaign.is_archived:
        return False
    return not campaign.surveys or any(s.state is not SurveyState.CLOSED for s in campaign.surveys)


def running_campaigns() -> list[Campaign]:
    """The campaigns a branch added without naming a campaign joins (see the module)."""
    campaigns = db.session.scalars(
        select(Campaign)
        .where(Campaign.is_archived.is_(False))
        .options(selectinload(Campaign.surveys), selectinload(Campaign.branches))
        .order_by(Campaign.id)
    )
    return [c for c in campaigns if is_running(c)]


def add_branches(campaign: Campaign, branches: Iterable[Branch]) -> list[Branch]:
    """Add ``branches`` to the campaign's list, inside the caller's transaction; the added."""
    present = {b.id for b in campaign.branches}
    added = [b for b in branches if b.id not in present]
    campaign.branches.extend(added)
    return added


def join_campaigns(branches: Sequence[Branch], campaign: Campaign | None) -> None:
    """Add new or imported branches to ``campaign`` only, or (None) to every running campaign;
    inside the caller's transaction, one audit entry per campaign that gained branches."""
    targets = [campaign] if campaign is not None else running_campaigns()
    for target in targets:
        added = add_branches(target, branches)
        if added:
            codes = " ".join(b.code for b in added)
            audit.record("campaign.branches", f"campaign={target.slug} added={codes}")


def _answered_or_coded(campaign: Campaign) -> set[int]:
    """Branch ids with codes or answers in any survey of the campaign (they stay listed)."""
    surveys = select(Survey.id).where(Survey.campaign_id == campaign.id)
    query = union(
        select(CodeBatch.branch_id).where(CodeBatch.survey_id.in_(surveys)),
        select(RespondentTally.branch_id).where(RespondentTally.survey_id.in_(surveys)),
        select(SealedBallot.branch_id).where(SealedBallot.survey_id.in_(surveys)),
    )
    return set(db.session.scalars(query))


def set_branches(actor: User | None, campaign: Campaign, branch_ids: Iterable[int]) -> None:
    """Make the campaign measure exactly these branches; audited.

    A branch that already has codes or answers in one of the campaign's surveys stays (its
    slips are printed and its answers counted), and an unknown id is refused.
    """
    wanted = set(branch_ids)
    with db.transaction() as session:
        found = list(session.scalars(select(Branch).where(Branch.id.in_(wanted))))
        if len(found) != len(wanted):
            raise Invalid(_("One of the chosen branches does not exist."), field="branches")
        kept = _answered_or_coded(campaign)
        leaving = [b for b in campaign.branches if b.id not in wanted and b.id in kept]
        if leaving:
            raise Conflict(
                _(
                    "These branches already have codes or answers in this campaign, so they "
                    "stay: %(codes)s.",
                    codes=", ".join(b.code for b in leaving),
                ),
                field="branches",
            )
        before = {b.id for b in campaign.branches}
        campaign.branches = sorted(found, key=lambda b: b.code)
        added = sorted(b.code for b in found if b.id not in before)
        removed = sorted(b.code for b in session.scalars(select(Branch)) if b.id in before - wanted)
        if added or removed:
            detail = f"campaign={campaign.slug} added={' '.join(added) or '-'}"
            audit.record(
                "campaign.branches", f"{detail} removed={' '.join(removed) or '-'}", user=actor
            )
