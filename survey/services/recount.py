"""Recounting results: deleting counted responses and rebuilding a survey's tallies.

Reports read the tallies, which each mix keeps up to date (:mod:`survey.services.ballot_count`).
After responses are deleted (the test answers, when a survey goes live), or to verify the
tallies, they are recounted here from the answer rows, set-based: three
``INSERT … SELECT … GROUP BY`` statements, so a million responses are recounted inside the
database instead of being loaded one by one.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, Numeric, cast, delete, func, insert, literal, select

from survey.db import db
from survey.models import (
    Answer,
    AnswerTally,
    Comment,
    RespondentTally,
    Response,
    ScaleOption,
    Survey,
    TotalTally,
)


def delete_responses(survey: Survey, only_test: bool = False) -> int:
    """Delete a survey's counted responses and comments (all, or the test ones) and rebuild its
    tallies, inside the caller's transaction."""
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


def _per_response(survey: Survey):
    """Each response's answer count (complete = every item answered) and total score."""
    total = func.sum(ScaleOption.weight)
    if db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL has round(numeric, int) only; the tallies keep Python's round(total, 6).
        total = cast(func.round(cast(total, Numeric), 6), Float)
    else:
        total = func.round(total, 6)
    return (
        select(
            Answer.response_id.label("response_id"),
            (func.count() == len(survey.items)).label("is_complete"),
            total.label("total"),
        )
        .join(Response, Response.id == Answer.response_id)
        .join(ScaleOption, ScaleOption.id == Answer.option_id)
        .where(Response.survey_id == survey.id)
        .group_by(Answer.response_id)
        .subquery()
    )


def rebuild_tallies(survey: Survey) -> None:
    """Recount a survey's tallies from its answer rows (after deletions, or to verify them)."""
    session = db.session
    for model in (AnswerTally, TotalTally, RespondentTally):
        session.execute(delete(model).where(model.survey_id == survey.id))
    per_response = _per_response(survey)
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
