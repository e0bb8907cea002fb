"""Deleting what was never used, archiving what is finished.

A draft survey that has never had a code, an answer or a keyed paper ballot can be deleted:
nothing anyone printed or answered refers to it. Anything else is evidence of a measurement and
is never deleted; once closed it can be *archived* instead: hidden from the office's default
lists, kept intact (its results, codes and audit trail), and brought back at any time. A
campaign is deleted only with all its surveys (each of them deletable) and archived only when
every survey of it is closed. Every step is audited.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from survey.db import db
from survey.models import (
    BallotDraft,
    Campaign,
    CodeBatch,
    Response,
    SealedBallot,
    Survey,
    SurveyState,
    User,
)
from survey.refusals import Conflict
from survey.services import audit


def deletion_problems(survey: Survey) -> list[str]:
    """Why the survey cannot be deleted (empty: it can)."""
    problems = []
    if survey.state is not SurveyState.DRAFT or survey.is_test_mode:
        problems.append(
            _(
                "%(title)s is not a draft: a survey that has been open is kept (archive it "
                "once it is closed).",
                title=survey.title,
            )
        )
    used = any(
        db.session.scalar(select(column).where(column == survey.id).limit(1)) is not None
        for column in (
            CodeBatch.survey_id,
            Response.survey_id,
            SealedBallot.survey_id,
            BallotDraft.survey_id,
        )
    )
    if used:
        problems.append(
            _(
                "%(title)s has codes, answers or keyed paper ballots, so it is kept.",
                title=survey.title,
            )
        )
    return problems


def _delete_survey_row(survey: Survey) -> None:
    session = db.session
    # Items of later stages paired with this one's lose the pairing (ON DELETE SET NULL).
    session.delete(survey)
    session.flush()


def delete_survey(actor: User | None, survey: Survey) -> None:
    """Delete a draft survey that has no codes, answers or keyed ballots; audited."""
    with db.transaction():
        db.lock_survey(survey.id, exclusive=True)
        problems = deletion_problems(survey)
        if problems:
            raise Conflict(problems)
        slug = survey.slug
        _delete_survey_row(survey)
        audit.record("survey.delete", f"survey={slug}", user=actor)


def delete_campaign(actor: User | None, campaign: Campaign) -> None:
    """Delete a campaign and its surveys, when every one of them could be deleted; audited."""
    with db.transaction() as session:
        problems = [p for s in campaign.surveys for p in deletion_problems(s)]
        if problems:
            raise Conflict(problems)
        slugs = [s.slug for s in campaign.surveys]
        for survey in list(campaign.surveys):
            _delete_survey_row(survey)
        session.delete(campaign)
        detail = f"campaign={campaign.slug} surveys={','.join(slugs) or '-'}"
        audit.record("campaign.delete", detail, user=actor)


def set_survey_archived(actor: User | None, survey: Survey, archived: bool) -> None:
    """Archive a closed survey (hidden from the default lists, kept intact) or bring it back."""
    with db.transaction():
        if archived and survey.state is not SurveyState.CLOSED:
            raise Conflict(_("Only a closed survey can be archived."))
        if survey.is_archived != archived:
            survey.is_archived = archived
            action = "survey.archive" if archived else "survey.unarchive"
            audit.record(action, f"survey={survey.slug}", user=actor)


def set_campaign_archived(actor: User | None, campaign: Campaign, archived: bool) -> None:
    """Archive a campaign whose surveys are all closed, or bring it back; audited."""
    with db.transaction():
        if archived and any(s.state is not SurveyState.CLOSED for s in campaign.surveys):
            raise Conflict(
                _("Only a campaign whose surveys are all closed can be archived: close them first.")
            )
        if campaign.is_archived != archived:
            campaign.is_archived = archived
            action = "campaign.archive" if archived else "campaign.unarchive"
            audit.record(action, f"campaign={campaign.slug}", user=actor)
