"""Storing responses: code consumption, answers, comments and tallies in one transaction.

Every path that stores a response (web with a code, open link, paper ballots) goes through
:func:`record_response`, so the tallies that reports read always agree with the answer rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import (
    Float,
    Integer,
    Numeric,
    Table,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from survey.db import db
from survey.models import (
    AccessCode,
    Answer,
    AnswerTally,
    CodeBatch,
    Comment,
    RespondentTally,
    Response,
    ScaleOption,
    Source,
    Survey,
    SurveyState,
    TotalTally,
    random_id,
)
from survey.services.codes import code_hash, looks_like_code
from survey.services.questionnaires import Questionnaire, load_questionnaire, refreshed


class Refusal(Exception):
    """A submission that Ceping turns away; ``reason`` selects the message shown."""

    status = 400
    reason = "refused"


class UnknownCode(Refusal):
    status = 404
    reason = "unknown_code"


class CodeAlreadyUsed(Refusal):
    status = 409
    reason = "code_used"


class SurveyNotOpen(Refusal):
    status = 403

    def __init__(self, survey: Survey | Questionnaire):
        super().__init__(survey.slug)
        self.survey = survey
        self.reason = "not_yet_open" if survey.state is SurveyState.DRAFT else "closed"


@dataclass(frozen=True, slots=True)
class CodeScope:
    """What a valid, unused code gives access to."""

    survey: Questionnaire
    branch_id: int
    category_id: int


@cache
def _code_statements():
    """Looking a code up, and using it: built once (building costs more than running them)."""
    digest = bindparam("entered_hash")
    look_up = (
        select(
            AccessCode.is_used,
            AccessCode.survey_id,
            AccessCode.branch_id,
            AccessCode.category_id,
        )
        .join(CodeBatch, CodeBatch.id == AccessCode.batch_id)
        .where(AccessCode.code_hash == digest, CodeBatch.is_void.is_(False))
    )
    use = (
        update(AccessCode)
        .where(
            AccessCode.code_hash == digest,
            AccessCode.is_used.is_(False),
            AccessCode.batch_id.in_(select(CodeBatch.id).where(CodeBatch.is_void.is_(False))),
        )
        .values(is_used=True)
        .returning(AccessCode.survey_id, AccessCode.branch_id, AccessCode.category_id)
        .execution_options(synchronize_session=False)
    )
    return look_up, use


def check_code(entered: str) -> CodeScope:
    """Look a typed code up without using it; raise the refusal a respondent should see."""
    row = None
    if looks_like_code(entered):
        row = db.session.execute(
            _code_statements()[0], {"entered_hash": code_hash(entered)}
        ).first()
    if row is None:
        raise UnknownCode()
    if row.is_used:
        raise CodeAlreadyUsed()
    survey = load_questionnaire(row.survey_id)
    if not survey.is_open:
        raise SurveyNotOpen(survey)
    return CodeScope(survey, row.branch_id, row.category_id)


def submit_with_code(
    entered: str,
    answers: Mapping[int, int],
    comment: str | None,
    survey: Questionnaire | None = None,
) -> CodeScope:
    """Use the code and store its response atomically: both happen, or neither does.

    The code is consumed with a conditional UPDATE checked by what it returns, which stays correct
    when many requests race on one code (check-then-update stored 7× too many in the brief's
    test). ``survey`` is the questionnaire the answers were checked against, if already read.
    The survey's state is read again in the same transaction: one closed in the meantime refuses
    the answer, and the rollback leaves the code unused.
    """
    with db.transaction() as session:
        used = session.execute(_code_statements()[1], {"entered_hash": code_hash(entered)}).first()
        if used is None:
            check_code(entered)  # raises the refusal that fits: unknown, used, or not open
            raise CodeAlreadyUsed()  # pragma: no cover - check_code always raises here
        if survey is None or survey.id != used.survey_id:
            survey = load_questionnaire(used.survey_id)
        else:
            survey = refreshed(survey)
        if not survey.is_open:
            raise SurveyNotOpen(survey)
        record_response(survey, used.branch_id, used.category_id, answers, comment)
    return CodeScope(survey, used.branch_id, used.category_id)


def record_response(
    survey: Survey | Questionnaire,
    branch_id: int,
    category_id: int,
    answers: Mapping[int, int],
    comment: str | None,
    source: Source = Source.WEB,
) -> None:
    """Add one response with its answers (item id → option id), comment and tallies.

    Runs inside the caller's transaction. Nothing from the request is passed in, so nothing from
    it can be stored: no address, agent, referrer or time finer than the day. The rows are
    written with plain INSERTs rather than through the ORM's unit of work, which cost more
    than the rest of a submission.
    """
    session = db.session
    session.flush()  # anything the caller added goes first, in its own order
    response_id = random_id()
    is_test = survey.is_test_mode
    session.execute(
        insert(Response.__table__).values(
            id=response_id,
            survey_id=survey.id,
            branch_id=branch_id,
            category_id=category_id,
            submitted_on=date.today(),
            source=source,
            is_test=is_test,
        )
    )
    if answers:
        session.execute(
            insert(Answer.__table__),
            [
                {"response_id": response_id, "item_id": item_id, "option_id": option_id}
                for item_id, option_id in answers.items()
            ],
        )
    if comment and comment.strip():
        session.execute(
            insert(Comment.__table__).values(
                id=random_id(),
                survey_id=survey.id,
                branch_id=branch_id,
                text=comment.strip(),
                is_test=is_test,
            )
        )
    _add_to_tallies(survey, branch_id, category_id, source, answers)


def _add_to_tallies(
    survey: Survey | Questionnaire,
    branch_id: int,
    category_id: int,
    source: Source,
    answers: Mapping[int, int],
    delta: int = 1,
) -> None:
    """Count one response into the tallies. Keys are sorted so concurrent PostgreSQL
    transactions lock tally rows in the same order and cannot deadlock."""
    weights = {o.id: o.weight for o in survey.options}
    is_complete = len(answers) == len(survey.items)
    group = {"survey_id": survey.id, "branch_id": branch_id, "category_id": category_id}
    if answers:
        _increment(
            AnswerTally,
            [
                {**group, "item_id": item, "option_id": option, "is_complete": is_complete}
                for item, option in sorted(answers.items())
            ],
            delta,
        )
    if is_complete and answers:
        total = round(sum(weights[o] for o in answers.values()), 6)
        _increment(TotalTally, [{**group, "total": total}], delta)
    _increment(RespondentTally, [{**group, "source": source}], delta)


@cache
def _upsert(table: Table, dialect: str):
    """``INSERT … ON CONFLICT (key) DO UPDATE SET count = count + excluded.count`` for
    ``table``, built once per process (building it costs more than running it)."""
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={"count": table.c.count + statement.excluded.count},
    )


def _increment(model, keys: list[dict], delta: int) -> None:
    """Upsert ``count = count + delta`` for each key (INSERT … ON CONFLICT DO UPDATE)."""
    session = db.session
    statement = _upsert(model.__table__, session.get_bind().dialect.name)
    session.execute(statement, [{**key, "count": delta} for key in keys])


def delete_responses(survey: Survey, only_test: bool = False) -> int:
    """Delete a survey's responses and comments (all, or the test ones) and rebuild its tallies."""
    session = db.session
    condition = [Response.survey_id == survey.id]
    comment_condition = [Comment.survey_id == survey.id]
    if only_test:
        condition.append(Response.is_test.is_(True))
        comment_condition.append(Comment.is_test.is_(True))
    ids = select(Response.id).where(*condition)
    session.execute(delete(Answer).where(Answer.response_id.in_(ids)))
    removed = session.execute(delete(Response).where(*condition)).rowcount
    session.execute(delete(Comment).where(*comment_condition))
    rebuild_tallies(survey)
    return removed


def rebuild_tallies(survey: Survey) -> None:
    """Recount a survey's tallies from its answer rows (after deletions, or to verify them).

    Set-based: three ``INSERT … SELECT … GROUP BY`` statements, so a million responses are
    recounted inside the database instead of being loaded one by one. A per-response subquery
    gives each response's number of answers (complete = every item answered) and its total score.
    """
    session = db.session
    for model in (AnswerTally, TotalTally, RespondentTally):
        session.execute(delete(model).where(model.survey_id == survey.id))
    item_count = len(survey.items)
    total = func.sum(ScaleOption.weight)
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL has round(numeric, int) only; the tallies keep Python's round(total, 6).
        total = cast(func.round(cast(total, Numeric), 6), Float)
    else:
        total = func.round(total, 6)
    per_response = (
        select(
            Answer.response_id.label("response_id"),
            (func.count() == item_count).label("is_complete"),
            total.label("total"),
        )
        .join(Response, Response.id == Answer.response_id)
        .join(ScaleOption, ScaleOption.id == Answer.option_id)
        .where(Response.survey_id == survey.id)
        .group_by(Answer.response_id)
        .subquery()
    )
    survey_id = literal(survey.id, Integer)
    answers = (
        select(
            survey_id,
            Response.branch_id,
            Response.category_id,
            Answer.item_id,
            Answer.option_id,
            per_response.c.is_complete,
            func.count(),
        )
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .join(per_response, per_response.c.response_id == Answer.response_id)
        .where(Response.survey_id == survey.id)
        .group_by(
            Response.branch_id,
            Response.category_id,
            Answer.item_id,
            Answer.option_id,
            per_response.c.is_complete,
        )
    )
    totals = (
        select(
            survey_id, Response.branch_id, Response.category_id, per_response.c.total, func.count()
        )
        .select_from(per_response)
        .join(Response, Response.id == per_response.c.response_id)
        .where(per_response.c.is_complete)
        .group_by(Response.branch_id, Response.category_id, per_response.c.total)
    )
    respondents = (
        select(survey_id, Response.branch_id, Response.category_id, Response.source, func.count())
        .where(Response.survey_id == survey.id)
        .group_by(Response.branch_id, Response.category_id, Response.source)
    )
    group = ("survey_id", "branch_id", "category_id")
    for model, query, columns in (
        (AnswerTally, answers, (*group, "item_id", "option_id", "is_complete", "count")),
        (TotalTally, totals, (*group, "total", "count")),
        (RespondentTally, respondents, (*group, "source", "count")),
    ):
        session.execute(insert(model).from_select(list(columns), query))


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
