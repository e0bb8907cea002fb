"""The public page of plans (公示) and the masses' feedback on them.

Plans are published to the masses and revised after their opinions (向羣眾公佈，接受羣眾監督).
The page shows filed plans only: a draft or a plan returned for revision is never public.

Feedback takes the anonymous path of an open-link survey: no sign-in, no code, nothing from the
request stored (no address, no time, no browser), a random id, and on SQLite no rowid. A signed
cookie in the sender's own browser, not the server, limits how many a browser leaves. The office
later takes the waiting feedback in as opinions, in shuffled order, and the feedback rows are
deleted, so not even the order of arrival survives.
"""

from __future__ import annotations

import random

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from survey.db import db
from survey.models import Campaign, Opinion, OpinionSource, Plan, PlanState, PublicFeedback, User
from survey.refusals import Conflict, Invalid, NotFound
from survey.services import audit
from survey.services.lookup import first_or_404
from survey.services.rectification.opinions import TEXT_LIMIT
from survey.services.rectification.plans import plans_of

#: Feedback one browser may leave per campaign (kept in its own signed cookie).
FEEDBACK_PER_BROWSER = 5
FEEDBACK_LIMIT = 1000


def public_campaign(slug: str) -> Campaign:
    """A campaign whose public page is on; otherwise the page does not exist."""
    campaign = first_or_404(
        select(Campaign).where(Campaign.slug == slug),
        _("This page does not exist."),
    )
    if not campaign.plans_are_public:
        raise NotFound(_("This page does not exist."))
    return campaign


def public_plans(campaign: Campaign) -> list[Plan]:
    """The filed plans, committee first: all the public page may show."""
    return plans_of(campaign, filed_only=True)


def set_public(actor: User | None, campaign: Campaign, public: bool) -> None:
    """Switch the campaign's public page on or off; audited."""
    with db.transaction():
        campaign.plans_are_public = public
        audit.record("plans.public", f"campaign={campaign.slug} public={public}", actor)


def leave_feedback(campaign: Campaign, plan_id: int | None, text: str) -> None:
    """Store one feedback from the public page: the text and what it is about, nothing else."""
    text = (text or "").strip()
    if not text:
        raise Invalid(_("Write your opinion."), field="text")
    if len(text) > FEEDBACK_LIMIT:
        raise Invalid(
            _("An opinion may be %(limit)d characters long at most.", limit=FEEDBACK_LIMIT),
            field="text",
        )
    if plan_id is not None:
        plan = db.session.get(Plan, plan_id)
        if plan is None or plan.campaign_id != campaign.id or plan.state is not PlanState.FILED:
            raise Invalid(_("Choose one of the plans on this page."), field="plan")
    with db.transaction():
        db.session.add(PublicFeedback(campaign_id=campaign.id, plan_id=plan_id, text=text))


def waiting_feedback(campaign: Campaign) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(PublicFeedback)
        .where(PublicFeedback.campaign_id == campaign.id)
    )


def take_in_feedback(actor: User | None, campaign: Campaign) -> int:
    """Turn the waiting feedback into opinions (about the plan's branch), shuffled; the
    feedback rows are deleted in the same transaction. Refused when none is waiting."""
    with db.transaction():
        rows = list(
            db.session.scalars(
                select(PublicFeedback).where(PublicFeedback.campaign_id == campaign.id)
            )
        )
        if not rows:
            raise Conflict(_("No feedback is waiting."))
        random.SystemRandom().shuffle(rows)
        branch_of = {p.id: p.branch_id for p in plans_of(campaign)}
        for row in rows:
            db.session.add(
                Opinion(
                    campaign_id=campaign.id,
                    branch_id=branch_of.get(row.plan_id),
                    plan_id=row.plan_id,
                    source=OpinionSource.PUBLIC_FEEDBACK,
                    text=row.text[:TEXT_LIMIT],
                    count=1,
                )
            )
        db.session.execute(delete(PublicFeedback).where(PublicFeedback.campaign_id == campaign.id))
        audit.record(
            "opinion.feedback", f"campaign={campaign.slug} opinions={len(rows)}", user=actor
        )
    return len(rows)
