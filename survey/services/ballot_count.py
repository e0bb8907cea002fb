"""Counting a mixed batch of opened ballots into the results: responses, answers, comments and
the three tallies, inside the mix's transaction (:mod:`survey.services.ballot_box`).

The responses are inserted in a random order, and the comments in another, so neither the
storage order nor a comment's place in it tells which ballot came when or which ratings a
comment went with. On PostgreSQL the whole batch is one statement.
"""

from __future__ import annotations

import functools
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Table, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from survey.db import db
from survey.models import (
    Answer,
    AnswerTally,
    Comment,
    RespondentTally,
    Response,
    Source,
    Survey,
    TotalTally,
    random_id,
)
from survey.services.ballot_seal import Ballot
from survey.services.questionnaires import Questionnaire

#: Picks ballots and shuffles batches: the operating system's randomness, never a seeded one.
_RANDOM = secrets.SystemRandom()


@dataclass(frozen=True, slots=True)
class _Rows:
    """A batch's rows, in the order they are written, and its tally increments."""

    responses: list[dict]
    answers: list[dict]
    comments: list[dict]
    answer_counts: list[dict]
    total_counts: list[dict]
    respondents: dict


def count_batch(
    survey: Survey | Questionnaire,
    branch_id: int,
    category_id: int,
    source: Source,
    ballots: Sequence[Ballot],
    *,
    rng=_RANDOM,
) -> None:
    """Write a batch of opened ballots into the results, inside the caller's transaction.

    The responses are inserted in a random order, and the comments in another, so neither the
    storage order nor a comment's place in it tells which ballot came when or which ratings a
    comment went with. Every row of the batch carries the same day (the mix's), and the tallies
    change once for the whole batch. Nothing from the request reaches here.
    """
    if not ballots:
        return
    session = db.session
    session.flush()  # anything the caller added goes first, in its own order
    rows = _rows(survey, branch_id, category_id, source, ballots, rng)
    if session.get_bind().dialect.name == "postgresql":
        db.execute(_POSTGRES_BATCH, _postgres_parameters(rows))
        return
    session.execute(insert(Response.__table__), rows.responses)
    if rows.answers:
        session.execute(insert(Answer.__table__), rows.answers)
    if rows.comments:
        session.execute(insert(Comment.__table__), rows.comments)
    if rows.answer_counts:
        _increment(AnswerTally, rows.answer_counts)
    if rows.total_counts:
        _increment(TotalTally, rows.total_counts)
    _increment(RespondentTally, [rows.respondents])


def _rows(
    survey: Survey | Questionnaire,
    branch_id: int,
    category_id: int,
    source: Source,
    ballots: Sequence[Ballot],
    rng,
) -> _Rows:
    """The batch's rows: responses shuffled, comments shuffled apart, and its tallies."""
    order = list(ballots)
    rng.shuffle(order)
    today = date.today()
    group = {"survey_id": survey.id, "branch_id": branch_id, "category_id": category_id}
    responses, answers = [], []
    for ballot in order:
        response_id = random_id()
        responses.append(
            {
                **group,
                "id": response_id,
                "submitted_on": today,
                "source": source,
                "is_test": survey.is_test_mode,
            }  # fmt: skip
        )
        answers += [
            {"response_id": response_id, "item_id": item, "option_id": option}
            for item, option in ballot.answers.items()
        ]
    texts = [b.comment.strip() for b in ballots if b.comment and b.comment.strip()]
    rng.shuffle(texts)
    comments = [
        {
            "id": random_id(),
            "survey_id": survey.id,
            "branch_id": branch_id,
            "text": text,
            "is_test": survey.is_test_mode,
        }  # fmt: skip
        for text in texts
    ]
    answer_counts, total_counts = _tallies(survey, group, ballots)
    return _Rows(
        responses,
        answers,
        comments,
        answer_counts,
        total_counts,
        {**group, "source": source, "count": len(ballots)},
    )


def _tallies(survey, group: dict, ballots: Sequence[Ballot]) -> tuple[list[dict], list[dict]]:
    """The batch's increments of the answer and total tallies, keys sorted (so concurrent
    PostgreSQL transactions lock tally rows in one order and cannot deadlock)."""
    weights = {o.id: o.weight for o in survey.options}
    items = len(survey.items)
    by_answer: Counter = Counter()
    by_total: Counter = Counter()
    for ballot in ballots:
        is_complete = bool(ballot.answers) and len(ballot.answers) == items
        for item, option in ballot.answers.items():
            by_answer[(item, option, is_complete)] += 1
        if is_complete:
            by_total[round(sum(weights[o] for o in ballot.answers.values()), 6)] += 1
    return (
        [
            {**group, "item_id": i, "option_id": o, "is_complete": c, "count": n}
            for (i, o, c), n in sorted(by_answer.items())
        ],
        [{**group, "total": t, "count": n} for t, n in sorted(by_total.items())],
    )


#: The whole batch in one PostgreSQL statement (one round trip instead of six): responses,
#: answers and comments inserted in the given order (WITH ORDINALITY … ORDER BY), then the three
#: tallies. The answers' foreign key is checked at the end of the statement, after the
#: responses are in.
_POSTGRES_BATCH = text(
    """
WITH new_responses AS (
    INSERT INTO response (id, survey_id, branch_id, category_id, submitted_on, source, is_test)
    SELECT r.id, :survey_id, :branch_id, :category_id, :day, :source, :is_test
    FROM unnest(CAST(:response_id AS uuid[])) WITH ORDINALITY AS r(id, n)
    ORDER BY r.n
), new_answers AS (
    INSERT INTO answer (response_id, item_id, option_id)
    SELECT a.response_id, a.item_id, a.option_id
    FROM unnest(
        CAST(:answer_response_id AS uuid[]), CAST(:answer_item_id AS integer[]),
        CAST(:answer_option_id AS integer[])
    ) WITH ORDINALITY AS a(response_id, item_id, option_id, n)
    ORDER BY a.n
), new_comments AS (
    INSERT INTO comment (id, survey_id, branch_id, text, is_test)
    SELECT c.id, :survey_id, :branch_id, c.text, :is_test
    FROM unnest(CAST(:comment_id AS uuid[]), CAST(:comment_text AS text[]))
        WITH ORDINALITY AS c(id, text, n)
    ORDER BY c.n
), answer_counts AS (
    INSERT INTO answer_tally
        (survey_id, branch_id, category_id, item_id, option_id, is_complete, count)
    SELECT :survey_id, :branch_id, :category_id, t.item_id, t.option_id, t.is_complete, t.count
    FROM unnest(
        CAST(:tally_item_id AS integer[]), CAST(:tally_option_id AS integer[]),
        CAST(:tally_is_complete AS boolean[]), CAST(:tally_count AS integer[])
    ) WITH ORDINALITY AS t(item_id, option_id, is_complete, count, n)
    ORDER BY t.n
    ON CONFLICT (survey_id, branch_id, category_id, item_id, option_id, is_complete)
    DO UPDATE SET count = answer_tally.count + excluded.count
), total_counts AS (
    INSERT INTO total_tally (survey_id, branch_id, category_id, total, count)
    SELECT :survey_id, :branch_id, :category_id, t.total, t.count
    FROM unnest(CAST(:total_total AS double precision[]), CAST(:total_count AS integer[]))
        WITH ORDINALITY AS t(total, count, n)
    ORDER BY t.n
    ON CONFLICT (survey_id, branch_id, category_id, total)
    DO UPDATE SET count = total_tally.count + excluded.count
)
INSERT INTO respondent_tally (survey_id, branch_id, category_id, source, count)
VALUES (:survey_id, :branch_id, :category_id, :source, :respondents)
ON CONFLICT (survey_id, branch_id, category_id, source)
DO UPDATE SET count = respondent_tally.count + excluded.count
"""
)


def _arrays(prefix: str, rows: list[dict], columns: tuple[str, ...]) -> dict[str, list]:
    """One parameter per column, ``<prefix>_<column>``: the column's values in row order."""
    return {f"{prefix}_{column}": [row[column] for row in rows] for column in columns}


def _postgres_parameters(rows: _Rows) -> dict:
    """The parameters of :data:`_POSTGRES_BATCH`: the group, then one array per column."""
    first = rows.responses[0]
    return {
        "survey_id": first["survey_id"],
        "branch_id": first["branch_id"],
        "category_id": first["category_id"],
        "day": first["submitted_on"],
        "source": str(first["source"]),
        "is_test": first["is_test"],
        **_arrays("response", rows.responses, ("id",)),
        **_arrays("answer", rows.answers, ("response_id", "item_id", "option_id")),
        **_arrays("comment", rows.comments, ("id", "text")),
        **_arrays("tally", rows.answer_counts, ("item_id", "option_id", "is_complete", "count")),
        **_arrays("total", rows.total_counts, ("total", "count")),
        "respondents": rows.respondents["count"],
    }


@functools.cache
def _upsert(table: Table, dialect: str):
    """``INSERT … ON CONFLICT (key) DO UPDATE SET count = count + excluded.count`` for
    ``table``, built once per process (building it costs more than running it)."""
    insert_ = sqlite_insert if dialect == "sqlite" else pg_insert
    statement = insert_(table)
    return statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={"count": table.c.count + statement.excluded.count},
    )


def _increment(model, rows: list[dict]) -> None:
    """Upsert ``count = count + row count`` for each row (INSERT … ON CONFLICT DO UPDATE)."""
    session = db.session
    session.execute(_upsert(model.__table__, session.get_bind().dialect.name), rows)
