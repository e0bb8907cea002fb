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

Schedule: a survey may be given an opening and a closing time (``opens_at``, ``closes_at``,
naive UTC; the office enters them in the configured ``TIME_ZONE``). The survey takes these
steps by itself through :func:`change_state`, audited with ``by=schedule``: a draft opens at
``opens_at`` (if it is ready), an open survey closes at ``closes_at``. Nothing runs in the
background: the step is taken when the survey is next read (:func:`apply_schedule`, called by
:mod:`survey.services.lookup` for every page, API call and command that names a survey), by
:func:`apply_due_schedules` at most every :data:`SCHEDULE_INTERVAL` seconds per server process
(so respondents find a survey open even if no office page was read), and by the command
``flask apply-schedule`` for cron. A survey in test mode is left alone (going live deletes the
test answers: the office does that by hand). Reopening by hand after the closing time clears it,
so the schedule does not close the survey again at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

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
from survey.refusals import Conflict, Refusal
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


def change_state(
    actor: User | None, survey: Survey, action: Action | str, *, scheduled: bool = False
) -> StateChange:
    """Take a lifecycle action; audited. ``actor`` None is the command line, or the schedule
    when ``scheduled`` (the audit entry then says ``by=schedule``).

    The survey is locked and read again first, so two people changing it at once cannot both
    act on what they saw. Raises :class:`~survey.models.InvalidTransition` when the state does
    not allow the action, :class:`~survey.refusals.Conflict` when the survey is not ready.
    """
    action = Action(action)
    with db.transaction() as session:
        db.lock_survey(survey.id, exclusive=True)
        session.refresh(survey)
        if scheduled and due_action(survey, utc_now()) is not action:
            raise Conflict(_("The survey changed meanwhile; the schedule did nothing."))
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
        if action.target is SurveyState.OPEN and not scheduled and _passed(survey.closes_at):
            survey.closes_at = None  # reopened by hand after its closing time
            extra += " closes_at=cleared"
        if scheduled:
            extra += " by=schedule"
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


# ---- schedule ---------------------------------------------------------------------------------

#: Longest wait, in seconds, between two checks of every survey's schedule in one process.
SCHEDULE_INTERVAL = 30


def utc_now() -> datetime:
    """Now, as the naive UTC the schedule columns hold."""
    return datetime.now(UTC).replace(tzinfo=None)


def _passed(moment: datetime | None) -> bool:
    return moment is not None and moment <= utc_now()


def time_zone() -> ZoneInfo:
    """The zone the office enters and reads times in (``TIME_ZONE``, default Asia/Shanghai)."""
    return ZoneInfo(current_app.config.get("TIME_ZONE", "Asia/Shanghai"))


def to_utc(local: datetime | None) -> datetime | None:
    """A wall-clock time of the configured zone as naive UTC (None stays None)."""
    if local is None:
        return None
    return local.replace(tzinfo=time_zone()).astimezone(UTC).replace(tzinfo=None)


def to_local(utc: datetime | None) -> datetime | None:
    """A naive UTC time as the configured zone's wall-clock time (naive; None stays None)."""
    if utc is None:
        return None
    return utc.replace(tzinfo=UTC).astimezone(time_zone()).replace(tzinfo=None)


def due_action(survey: Survey, now: datetime) -> Action | None:
    """The step the schedule owes the survey at ``now``: open a draft whose opening time has
    come (unless its closing time has passed too), close an open survey whose closing time has
    come; None otherwise, and always in test mode."""
    if survey.is_test_mode:
        return None
    if survey.state is SurveyState.DRAFT and survey.opens_at and survey.opens_at <= now:
        return None if survey.closes_at and survey.closes_at <= now else Action.OPEN
    if survey.state is SurveyState.OPEN and survey.closes_at and survey.closes_at <= now:
        return Action.CLOSE
    return None


def apply_schedule(survey: Survey) -> Action | None:
    """Take the step the schedule owes the survey, if any; the step taken, or None (also when
    the survey is not ready to open: its page says why)."""
    action = due_action(survey, utc_now())
    if action is None:
        return None
    try:
        change_state(None, survey, action, scheduled=True)
    except Refusal:
        return None
    return action


def due_surveys() -> list[Survey]:
    """Surveys whose schedule owes a step now (read on a connection of its own)."""
    now = utc_now()
    due = or_(
        and_(Survey.state == SurveyState.DRAFT, Survey.opens_at <= now),
        and_(Survey.state == SurveyState.OPEN, Survey.closes_at <= now),
    )
    with db.reading() as connection:
        ids = list(connection.scalars(select(Survey.id).where(due, Survey.is_test_mode.is_(False))))
    return [db.session.get(Survey, survey_id) for survey_id in ids]


def apply_due_schedules() -> list[tuple[Survey, Action]]:
    """Take every step the schedule owes now, for every survey; the steps taken."""
    taken = []
    for survey in due_surveys():
        action = apply_schedule(survey)
        if action is not None:
            taken.append((survey, action))
    return taken


def apply_due_schedules_now_and_then() -> None:
    """:func:`apply_due_schedules`, at most every :data:`SCHEDULE_INTERVAL` seconds in this
    app (called before requests, so no page waits for more than one cheap query)."""
    state = current_app.extensions.setdefault("ceping.schedule", {"checked": 0.0})
    if time.monotonic() - state["checked"] < SCHEDULE_INTERVAL:
        return
    state["checked"] = time.monotonic()
    apply_due_schedules()
