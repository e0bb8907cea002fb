"""The respondent's operations: checking a code, opening an open link, and submitting answers
with a code or an open link. (The office's recount of results: :mod:`survey.services.recount`.)

A submission never writes the results: it uses the code and drops the sealed ballot into the
ballot box in one short transaction (:mod:`survey.services.ballot_box`), and a mix counts it
later in a batch of at least the survey's threshold. Every path that stores answers (web with a
code, open link, paper ballots) goes through the box, so the tallies that reports read always
agree with the answer rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import (
    bindparam,
    literal,
    select,
    true,
    update,
)

from survey.db import db
from survey.models import (
    Access,
    AccessCode,
    Branch,
    CodeBatch,
    Source,
    Survey,
    SurveyState,
    Throttle,
)
from survey.refusals import Conflict, Forbidden, NotFound, TooManyAttempts
from survey.services import ballot_box, throttle
from survey.services.ballot_box import Ballot, Group
from survey.services.codes import code_hash, looks_like_code
from survey.services.questionnaires import (
    SURVEY_COLUMNS,
    Questionnaire,
    definition_columns,
    definitions,
    joins_definitions,
    load_questionnaire,
    questionnaire_from_row,
    questionnaire_from_rows,
    refreshed,
)


class UnknownCode(NotFound):
    """A code that does not exist, or whose batch was voided."""

    def __init__(self):
        super().__init__(
            _(
                "We do not know this code. Please check it against your slip and type it again "
                "(capital or small letters, spaces and dashes do not matter)."
            ),
            field="code",
            title=_("Code not found"),
        )


class CodeAlreadyUsed(Conflict):
    """A code whose answers are already stored."""

    def __init__(self):
        super().__init__(
            _(
                "This code has already been used. Each code can be used only once, and the "
                "answers given with it have been stored."
            ),
            title=_("Code already used"),
        )


class TooManyCodeAttempts(TooManyAttempts):
    """This client entered too many unknown or used codes: it must wait ``wait``."""

    def __init__(self, wait: timedelta):
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        super().__init__(
            ngettext(
                "Too many codes that do not exist were entered from your network. "
                "Please wait %(num)d minute and try again.",
                "Too many codes that do not exist were entered from your network. "
                "Please wait %(num)d minutes and try again.",
                minutes,
            ),
            wait,
            title=_("Please wait"),
        )


class LinkNotFound(NotFound):
    """An open link whose survey, access mode or branch is gone or was never valid."""

    def __init__(self):
        super().__init__(_("This page does not exist."))


class SurveyNotOpen(Forbidden):
    """A survey that does not take answers now: not open yet, or closed."""

    def __init__(self, survey: Survey | Questionnaire):
        if survey.state is SurveyState.DRAFT:
            message = _("This survey is not open yet. Please try again once it has opened.")
            title = _("Not open yet")
        else:
            message = _("This survey is closed. Answers are no longer accepted.")
            title = _("Survey closed")
        super().__init__(message, title=title)
        self.survey = survey


@dataclass(frozen=True, slots=True)
class CodeScope:
    """What a valid, unused code gives access to."""

    survey: Questionnaire
    branch_id: int
    category_id: int
    branch_name: str = ""


@cache
def _code_statements(dialect: str):
    """Looking a code up, and using it: built once (building costs more than running them).

    The look-up reads, in one statement, the client's back-off (if a throttle key is given),
    the code, its branch's name and its survey's row: the respondent path's hottest read. The
    survey's items, scale and categories follow in one more. On PostgreSQL, using the code also
    takes the survey's shared lock (:meth:`survey.db.Database.lock_survey`) in the same
    statement.
    """
    digest = bindparam("entered_hash")
    code = (
        select(
            AccessCode.is_used,
            AccessCode.branch_id,
            AccessCode.category_id,
            Branch.name.label("branch_name"),
            *SURVEY_COLUMNS,
        )
        .join(CodeBatch, CodeBatch.id == AccessCode.batch_id)
        .join(Branch, Branch.id == AccessCode.branch_id)
        .join(Survey, Survey.id == AccessCode.survey_id)
        .where(AccessCode.code_hash == digest, CodeBatch.is_void.is_(False))
        .subquery("code")
    )
    blocked = (
        select(Throttle.blocked_until)
        .where(Throttle.key == bindparam("throttle_key"))
        .scalar_subquery()
    )
    one = select(literal(1).label("one")).subquery("one")
    look_up = select(blocked.label("blocked_until"), code).select_from(one.outerjoin(code, true()))
    if dialect == "postgresql":  # and the survey's definition (see questionnaires)
        definition = definitions()
        look_up = (
            select(blocked.label("blocked_until"), code, *definition_columns(definition))
            .select_from(
                one.outerjoin(code, true()).outerjoin(
                    definition, definition.c.survey_id == code.c.id
                )
            )
            .order_by(definition.c.kind, definition.c.position)
        )
    conditions = [
        AccessCode.code_hash == digest,
        AccessCode.survey_id == bindparam("code_survey"),
        AccessCode.is_used.is_(False),
        AccessCode.batch_id.in_(select(CodeBatch.id).where(CodeBatch.is_void.is_(False))),
    ]
    if dialect == "postgresql":
        conditions.append(db.survey_lock_condition(bindparam("code_survey")))
    use = (
        update(AccessCode)
        .where(*conditions)
        .values(is_used=True)
        .returning(AccessCode.branch_id, AccessCode.category_id)
        .execution_options(synchronize_session=False)
    )
    return look_up, use


def _look_up(entered: str, throttle_key: str | None) -> list:
    """The look-up's rows: ``blocked_until`` and the code's columns (None if unknown), and on
    PostgreSQL one row per item, option and category of its survey."""
    digest = code_hash(entered) if looks_like_code(entered) else ""
    statement = _code_statements(db.session.get_bind().dialect.name)[0]
    result = db.execute(statement, {"entered_hash": digest, "throttle_key": throttle_key})
    return [row._mapping for row in result]


def _scope(rows: list) -> CodeScope:
    """What the looked-up code gives access to, or the refusal a respondent should see."""
    row = rows[0]
    if row["branch_id"] is None:
        raise UnknownCode()
    if row["is_used"]:
        raise CodeAlreadyUsed()
    joined = joins_definitions()
    survey = questionnaire_from_rows(rows) if joined else questionnaire_from_row(row)
    if not survey.is_open:
        raise SurveyNotOpen(survey)
    return CodeScope(survey, row["branch_id"], row["category_id"], row["branch_name"])


def check_code(entered: str) -> CodeScope:
    """Look a typed code up without using it; raise the refusal a respondent should see."""
    return _scope(_look_up(entered, None))


def enter_code(entered: str, client_key: str, *, then_submit: bool = False) -> CodeScope:
    """A respondent's code, checked with the back-off against guessing, in one read.

    Raises :class:`TooManyCodeAttempts` while the client (``client_key``, see
    :func:`survey.services.throttle.address_key`) is backed off. An unknown code counts as a
    failure, and so does a used one entered on the start page: nobody needs to ask many times
    whether a code has been used, and an insider who does is slowed down. (A used code sent with
    answers is a double submission, often many at once from one hall's address: it is refused but
    not counted.) The failure that reaches the limit is itself refused with
    :class:`TooManyCodeAttempts`, so concurrent guesses that all passed the check before any was
    counted still cannot learn more than the limit allows. Otherwise raises the refusal that
    fits, or returns the code's scope. Begins the request's read
    (:meth:`survey.db.Database.begin_read`; ``then_submit`` when the request goes on to
    :func:`submit_with_code`).
    """
    db.begin_read(then_write=then_submit)
    rows = _look_up(entered, client_key)
    wait = throttle.remaining(rows[0]["blocked_until"])
    if wait is not None:
        raise TooManyCodeAttempts(wait)
    counted = (UnknownCode,) if then_submit else (UnknownCode, CodeAlreadyUsed)
    try:
        return _scope(rows)
    except counted:
        policy = throttle.code_entry_policy()
        if throttle.record_failure(client_key, policy):
            raise TooManyCodeAttempts(throttle.blocked_for(client_key) or policy.block) from None
        raise


def submit_with_code(
    entered: str,
    answers: Mapping[int, int],
    comment: str | None,
    survey: Questionnaire | None = None,
) -> CodeScope:
    """Use the code and drop its sealed ballot into the box, atomically: both, or neither.

    The code is consumed with a conditional UPDATE checked by what it returns, which stays correct
    when many requests race on one code (a check, then an update, stores several answers per
    code under the race in ``tests/survey/concurrency/test_race.py``). ``survey`` is the
    questionnaire the
    answers were checked against, if already read. The ballot is stored only if the survey is
    still open, read by the statement that stores it (after the survey lock): one closed in the
    meantime refuses the answer, and the rollback leaves the code unused. The ballot is
    acknowledged once this transaction commits; a mix of
    its group may follow in a transaction of its own.
    """
    if survey is None:
        survey = check_code(entered).survey
    with db.transaction() as session:
        used = db.execute(
            _code_statements(session.get_bind().dialect.name)[1],
            {"entered_hash": code_hash(entered), "code_survey": survey.id},
        ).first()
        if used is None:
            check_code(entered)  # raises the refusal that fits: unknown, used, or not open
            raise CodeAlreadyUsed()  # pragma: no cover - check_code always raises here
        group = Group(survey.id, used.branch_id, used.category_id, Source.WEB)
        waiting = ballot_box.drop(survey, group, Ballot(answers, comment))
        if waiting is None:
            raise SurveyNotOpen(refreshed(survey) or survey)
    if ballot_box.ready_to_mix(survey, waiting):
        _mix_after_submission(survey, group)
    return CodeScope(survey, used.branch_id, used.category_id)


@dataclass(frozen=True, slots=True)
class LinkScope:
    """What an open link gives access to: its survey and branch (the category is chosen)."""

    survey: Questionnaire
    branch_id: int
    branch_name: str


def open_link(survey_slug: str, branch_code: str) -> LinkScope:
    """The open-link survey and active branch that a link names, in the request's read.

    Raises :class:`LinkNotFound` when the survey does not exist, is not an open-link survey or
    has no category, or the branch does not exist or is inactive; :class:`SurveyNotOpen` when the
    survey does not take answers now.
    """
    db.begin_read()
    survey = load_questionnaire(slug=survey_slug)
    if survey is None or survey.access is not Access.LINK or not survey.categories:
        raise LinkNotFound()
    branch = db.execute(
        select(Branch.id, Branch.name).where(Branch.code == branch_code, Branch.is_active)
    ).first()
    if branch is None:
        raise LinkNotFound()
    if not survey.is_open:
        raise SurveyNotOpen(survey)
    return LinkScope(survey, branch.id, branch.name)


def submit_open_link(
    survey: Questionnaire,
    branch_id: int,
    category_id: int,
    answers: Mapping[int, int],
    comment: str | None,
) -> None:
    """Drop an open-link ballot into the box, re-checking in the write transaction that the
    survey still takes open-link answers and the branch is still active."""
    with db.transaction() as session:
        db.lock_survey(survey.id)
        branch = session.get(Branch, branch_id, populate_existing=True)
        if branch is None or not branch.is_active:
            raise LinkNotFound()
        current = refreshed(survey)
        if current is None or current.access is not Access.LINK:
            raise LinkNotFound()
        group = Group(current.id, branch_id, category_id, Source.WEB)
        waiting = ballot_box.drop(current, group, Ballot(answers, comment))
        if waiting is None:
            raise SurveyNotOpen(current)
    if ballot_box.ready_to_mix(current, waiting):
        _mix_after_submission(current, group)


def _mix_after_submission(survey: Questionnaire, group: Group) -> None:
    """Mix the group a submission went to. The submission is already stored and acknowledged,
    so a failure here only leaves ballots sealed for the next mix; it is logged, never raised."""
    try:
        ballot_box.mix_group(survey, group)
    except Exception:  # noqa: BLE001 - the answer is safe in the box; the next mix retries
        current_app.logger.exception("Mixing the ballot box failed; its ballots stay sealed.")


def resolve_answers(
    survey: Survey | Questionnaire, by_key: Mapping[str, str]
) -> tuple[dict[int, int], dict[str, str]]:
    """Turn {item key: option key or label} into {item id: option id}; unknown values are errors.

    Returns the answers and a mapping of item key → the offending value. Blank values are
    unanswered items.
    """
    items = {i.key: i for i in survey.items}
    options = {}
    for option in survey.options:
        options[option.key] = option
        options.setdefault(option.label, option)
    answers: dict[int, int] = {}
    errors: dict[str, str] = {}
    for key, value in by_key.items():
        value = (value or "").strip()
        if key not in items or not value:
            continue
        option = options.get(value)
        if option is None:
            errors[key] = value
        else:
            answers[items[key].id] = option.id
    return answers, errors
