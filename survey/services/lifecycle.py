"""Moving surveys through their lifecycle: open, close, reopen, test mode and going live.

The web's state buttons and the command line's ``open-survey`` and ``close-survey`` both call
:func:`change_state`, so they check the same readiness, take the same lock and leave the same
audit entry. The allowed moves, labels and confirmations are :class:`survey.models.Action`'s.

Closing counts what waits in the ballot box, in the same transaction as the state change
(:func:`survey.services.ballot_box.mix_for_close`), so no report can be read between the two;
from then on the survey's results count as published, and later closes hold back groups of
fewer than k new ballots.

Test mode: a survey can be tried out before the real sitting. It is switched on from draft (so
no real response exists yet) and opens the survey; codes minted meanwhile belong to test batches
and responses are marked as test. Going live deletes the test responses and comments, voids
every test batch (testers saw those codes), and clears the used flag of codes from ordinary
batches that testers used (no real respondent can have used them: the survey accepted nothing
but test responses until then), so every printed slip works once the survey is live.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, update

from survey.db import db
from survey.models import (
    AccessCode,
    Action,
    CodeBatch,
    ResultsVisibility,
    Survey,
    SurveyState,
    User,
)
from survey.refusals import Conflict
from survey.services import audit, ballot_box
from survey.services.recount import delete_responses


@dataclass(frozen=True, slots=True)
class StateChange:
    """What a lifecycle action did: the audit entry's detail, and ballots held back at closing."""

    detail: str
    held_back: int


def readiness_problems(survey: Survey) -> list[str]:
    """What must be fixed before the survey can be answered."""
    problems = []
    if not survey.items:
        problems.append(_("The questionnaire has no items yet."))
    if len(survey.options) < 2:
        problems.append(_("The scale needs at least two options."))
    if not survey.categories:
        problems.append(_("The survey needs at least one respondent category."))
    return problems


def available_actions(survey: Survey) -> list[Action]:
    """The lifecycle actions that make sense in the survey's current state."""
    return Action.available(survey.state, survey.is_test_mode)


def change_state(actor: User | None, survey: Survey, action: Action | str) -> StateChange:
    """Take a lifecycle action; audited. ``actor`` None is the command line.

    The survey is locked and read again first, so two people changing it at once cannot both
    act on what they saw. Raises :class:`~survey.models.InvalidTransition` when the state does
    not allow the action, :class:`~survey.refusals.Conflict` when the survey is not ready.
    """
    action = Action(action)
    with db.transaction() as session:
        db.lock_survey(survey.id, exclusive=True)
        session.refresh(survey)
        before = survey.state
        if action.target is SurveyState.OPEN and action is not Action.GO_LIVE:
            problems = readiness_problems(survey)
            if problems and action.allowed(survey.state, survey.is_test_mode):
                raise Conflict(problems)
        survey.move(action)
        extra = ""
        held_back = 0
        if action in (Action.OPEN, Action.START_TEST):
            survey.is_test_mode = action is Action.START_TEST
            survey.is_published = survey.results_visibility is ResultsVisibility.LIVE
        elif action is Action.CLOSE:
            counted = ballot_box.mix_for_close(survey)
            survey.is_published = True
            held_back = ballot_box.waiting(survey)
            extra = f" counted={counted} held_back={held_back}"
        elif action is Action.GO_LIVE:
            extra = " " + _go_live(survey)
        detail = f"survey={survey.slug} state={before}->{survey.state}{extra}"
        audit.record(f"survey.{action}", detail, user=actor, flagged=action is Action.REOPEN)
    db.truncate_wal(wait=True)
    return StateChange(detail, held_back)


def _go_live(survey: Survey) -> str:
    """Wipe the test, void the test batches, and free the ordinary codes testers used."""
    session = db.session
    removed = ballot_box.discard(survey) + delete_responses(survey, only_test=True)
    voided = session.execute(
        update(CodeBatch)
        .where(
            CodeBatch.survey_id == survey.id,
            CodeBatch.is_test.is_(True),
            CodeBatch.is_void.is_(False),
        )
        .values(is_void=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    ordinary = select(CodeBatch.id).where(
        CodeBatch.survey_id == survey.id, CodeBatch.is_test.is_(False)
    )
    freed = session.execute(
        update(AccessCode)
        .where(AccessCode.batch_id.in_(ordinary), AccessCode.is_used.is_(True))
        .values(is_used=False)
        .execution_options(synchronize_session=False)
    ).rowcount
    survey.is_test_mode = False
    survey.is_published = survey.results_visibility is ResultsVisibility.LIVE
    session.flush()
    # The bulk updates bypassed the identity map: reload batches and codes when next read.
    session.expire_all()
    return f"test_responses_deleted={removed} test_batches_voided={voided} codes_freed={freed}"
