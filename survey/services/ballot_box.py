"""The ballot box: a sealed waiting room between using a code and counting its answers.

Why it exists. Using a code and storing its answers in one transaction pairs them below the
schema: one SQLite WAL commit, one PostgreSQL ``xmin``, neighbouring rows in a page. So the
transaction that uses a code stores only a *sealed* ballot here, and a *mix* later moves ballots
into ``response``, ``answer``, ``comment`` and the tallies, in a transaction of its own, in
batches of at least the survey's threshold k drawn at random and written in random order. What
the storage keeps then links a code to a batch of at least k ballots, never to one.

Sealing. A ballot (item id → option id, and the comment) is serialised, padded with zeros to one
size per survey (every item answered and the longest comment allowed, in UTF-8), and encrypted
with AES-256-GCM under a key derived from ``SECRET_KEY`` by HKDF-SHA256. The nonce is random and
the group (survey, branch, category, source) is the associated data, so a ballot cannot be moved
to another group. Neither content nor length is readable in the stored data; whoever also holds
``SECRET_KEY`` can read the ballots still waiting (see the README's anonymity section).

Groups. Ballots are mixed within a group: one branch × respondent category (a code's scope) and
one source. Web and paper are mixed apart because paper ballots can be told from web ones (they
may leave items blank), which would shrink a mixed batch to its web part.

When a group is mixed (``k`` is the survey's threshold):

* **open survey**: while the group holds at least 2k ballots, k drawn at random are counted, so
  a batch is never simply "the last k";
* **closed survey**: everything waiting is counted, unless the survey's results have been
  published before and fewer than k wait: those stay sealed ("held back"), because counting them
  would change a published figure (the cell, its branch and the whole survey) by fewer than k
  people. Reopening lets them be counted with later ballots.

So every published count, per cell, branch and overall, moves by 0 or by at least k between any
two reports. Mixes are triggered after a submission's commit, when a survey closes (in the same
transaction as the close), after paper ballots are stored, and by ``flask mix-ballots``. They are
safe with many workers and app servers at once: SQLite serialises writers (``BEGIN IMMEDIATE``);
PostgreSQL mixers lock the group's ballots with ``FOR UPDATE SKIP LOCKED`` and order themselves
against state changes with an advisory lock (:meth:`survey.db.Database.lock_survey`).
"""

from __future__ import annotations

import functools
import secrets
import struct
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import Table, bindparam, delete, exists, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from survey.db import db
from survey.models import (
    Answer,
    AnswerTally,
    Comment,
    RespondentTally,
    Response,
    SealedBallot,
    Source,
    Survey,
    SurveyState,
    TotalTally,
    random_id,
)
from survey.services.questionnaires import Questionnaire, load_questionnaire, refreshed

#: Format version of a sealed ballot (first byte of the stored value).
VERSION = 1
#: AES-GCM nonce length in bytes.
NONCE_BYTES = 12
#: Bytes of the serialised ballot before the comment: version, answer count.
_HEAD = struct.Struct(">BH")
#: One answer: item id, option id.
_ANSWER = struct.Struct(">II")
#: The comment's length in bytes.
_LENGTH = struct.Struct(">I")
#: Longest UTF-8 encoding of one character.
_UTF8_MAX = 4

#: Picks ballots and shuffles batches: the operating system's randomness, never a seeded one.
_RANDOM = secrets.SystemRandom()


class BoxUnreadable(Exception):
    """A sealed ballot that this server's key cannot open.

    ``SECRET_KEY`` differs from the one the ballot was sealed with (servers configured apart,
    or the key changed while ballots were waiting). The ballot is left in the box untouched.
    """


@dataclass(frozen=True, slots=True)
class Group:
    """Where a sealed ballot waits and with which others it is mixed."""

    survey_id: int
    branch_id: int
    category_id: int
    source: Source

    @property
    def associated_data(self) -> bytes:
        """The group as bound to the ciphertext, so a ballot cannot change group unnoticed."""
        return f"{self.survey_id}/{self.branch_id}/{self.category_id}/{self.source}".encode()


@dataclass(frozen=True, slots=True)
class Ballot:
    """An opened ballot: item id → option id (unanswered items absent) and the comment."""

    answers: Mapping[int, int]
    comment: str | None


# --------------------------------------------------------------------------- sealing


@functools.cache
def _cipher(secret: str) -> AESGCM:
    """The ballot box's AES-GCM key, derived from ``SECRET_KEY`` (HKDF-SHA256, RFC 5869)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ceping", info=b"ballot box v1").derive(
        secret.encode("utf-8")
    )
    return AESGCM(key)


def cipher() -> AESGCM:
    """The current app's ballot box cipher."""
    return _cipher(current_app.config["SECRET_KEY"])


def padded_size(survey: Survey) -> int:
    """Bytes every serialised ballot of ``survey`` is padded to: the largest one possible."""
    comment = _UTF8_MAX * survey.comment_max_length if survey.allows_comments else 0
    return _HEAD.size + _ANSWER.size * len(survey.items) + _LENGTH.size + comment


def _serialise(survey: Survey, ballot: Ballot) -> bytes:
    comment = (ballot.comment or "").encode("utf-8")
    parts = [_HEAD.pack(VERSION, len(ballot.answers))]
    parts += [_ANSWER.pack(item, option) for item, option in sorted(ballot.answers.items())]
    parts += [_LENGTH.pack(len(comment)), comment]
    plain = b"".join(parts)
    size = padded_size(survey)
    if len(plain) > size:
        # Checked input never gets here (items and comment length are validated first).
        raise ValueError("a ballot is larger than its survey allows")
    return plain + bytes(size - len(plain))


def _deserialise(plain: bytes) -> Ballot:
    version, count = _HEAD.unpack_from(plain, 0)
    if version != VERSION:
        raise BoxUnreadable(f"unknown ballot format {version}")
    offset = _HEAD.size
    answers = {}
    for _ in range(count):
        item, option = _ANSWER.unpack_from(plain, offset)
        answers[item] = option
        offset += _ANSWER.size
    (length,) = _LENGTH.unpack_from(plain, offset)
    offset += _LENGTH.size
    comment = plain[offset : offset + length].decode("utf-8")
    return Ballot(answers, comment or None)


def seal(survey: Survey, group: Group, ballot: Ballot) -> bytes:
    """The stored form of ``ballot``: version, nonce and the AES-GCM ciphertext of its padding."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = cipher().encrypt(nonce, _serialise(survey, ballot), group.associated_data)
    return bytes([VERSION]) + nonce + sealed


def unseal(group: Group, stored: bytes) -> Ballot:
    """Open a sealed ballot of ``group``; raise :class:`BoxUnreadable` if the key does not fit."""
    if not stored or stored[0] != VERSION:
        raise BoxUnreadable("unknown sealed ballot format")
    nonce = stored[1 : 1 + NONCE_BYTES]
    try:
        plain = cipher().decrypt(nonce, stored[1 + NONCE_BYTES :], group.associated_data)
    except InvalidTag:
        raise BoxUnreadable("a sealed ballot does not open with this SECRET_KEY") from None
    return _deserialise(plain)


def seal_bytes(data: bytes, purpose: bytes) -> bytes:
    """Seal other data kept until it is counted (paper drafts) with the ballot box's key."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return bytes([VERSION]) + nonce + cipher().encrypt(nonce, data, purpose)


def unseal_bytes(stored: bytes, purpose: bytes) -> bytes:
    """Open data sealed by :func:`seal_bytes` for the same ``purpose``."""
    if not stored or stored[0] != VERSION:
        raise BoxUnreadable("unknown sealed data format")
    try:
        return cipher().decrypt(stored[1 : 1 + NONCE_BYTES], stored[1 + NONCE_BYTES :], purpose)
    except InvalidTag:
        raise BoxUnreadable("sealed data does not open with this SECRET_KEY") from None


# --------------------------------------------------------------------------- dropping


def _group_filter(group: Group):
    return (
        SealedBallot.survey_id == group.survey_id,
        SealedBallot.branch_id == group.branch_id,
        SealedBallot.category_id == group.category_id,
        SealedBallot.source == group.source,
    )


@functools.cache
def _statements(dialect: str):
    """The box's hot statements, built once per dialect (building costs more than running).

    ``drop`` inserts the sealed ballot only if the survey is still open, read in the same
    statement: the statement's snapshot is taken after the survey lock the code's UPDATE took,
    so a close that committed meanwhile is seen and the ballot refused. On PostgreSQL the
    statement also returns the group's other waiting ballots (one round trip for both).
    """
    columns = ("id", "survey_id", "branch_id", "category_id", "source", "sealed")
    values = [bindparam(name, type_=SealedBallot.__table__.c[name].type) for name in columns]
    still_open = exists().where(
        Survey.id == bindparam("survey_id"), Survey.state == SurveyState.OPEN
    )
    in_group = (
        SealedBallot.survey_id == bindparam("survey_id"),
        SealedBallot.branch_id == bindparam("branch_id"),
        SealedBallot.category_id == bindparam("category_id"),
        SealedBallot.source == bindparam("source"),
    )
    drop_if_open = insert(SealedBallot.__table__).from_select(
        list(columns), select(*values).where(still_open)
    )
    waiting = select(func.count()).where(*in_group)
    if dialect == "postgresql":
        drop_if_open = drop_if_open.returning(waiting.scalar_subquery() + 1)
    return insert(SealedBallot.__table__), drop_if_open, waiting


def _row(survey: Survey | Questionnaire, group: Group, ballot: Ballot) -> dict:
    return {
        "id": random_id(),
        "survey_id": group.survey_id,
        "branch_id": group.branch_id,
        "category_id": group.category_id,
        "source": group.source,
        "sealed": seal(survey, group, ballot),
    }


def drop(survey: Survey | Questionnaire, group: Group, ballot: Ballot) -> int | None:
    """Put one sealed ballot in the box if the survey is still open, inside the caller's
    transaction (the one that uses the code). Returns how many ballots its group now holds, or
    None when the survey is no longer open (nothing was stored)."""
    session = db.session
    dialect = session.get_bind().dialect.name
    drop_if_open = _statements(dialect)[1]
    row = _row(survey, group, ballot)
    result = db.execute(drop_if_open, row)
    if dialect == "postgresql":
        count = result.scalar()
        return None if count is None else int(count)
    if result.rowcount != 1:
        return None
    return waiting_in(group)


def waiting_in(group: Group) -> int:
    """Ballots of one group in the box."""
    waiting = _statements(db.session.get_bind().dialect.name)[2]
    return int(
        db.execute(
            waiting,
            {
                "survey_id": group.survey_id,
                "branch_id": group.branch_id,
                "category_id": group.category_id,
                "source": group.source,
            },
        ).scalar_one()
    )


def ready_to_mix(survey: Survey | Questionnaire, waiting: int) -> bool:
    """Whether a group holding ``waiting`` ballots of an open survey can have some counted."""
    return waiting >= 2 * survey.threshold


def drop_many(survey: Survey, ballots: Iterable[tuple[Group, Ballot]]) -> None:
    """Put several sealed ballots in the box (paper), inside the caller's transaction."""
    rows = [_row(survey, group, ballot) for group, ballot in ballots]
    if rows:
        db.session.execute(_statements(db.session.get_bind().dialect.name)[0], rows)


def discard(survey: Survey) -> int:
    """Delete every ballot waiting for ``survey``, inside the caller's transaction (going live
    wipes the test ballots); returns how many."""
    return db.session.execute(
        delete(SealedBallot)
        .where(SealedBallot.survey_id == survey.id)
        .execution_options(synchronize_session=False)
    ).rowcount


# --------------------------------------------------------------------------- counting


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
    """The batch's rows: responses shuffled, comments shuffled apart, tally keys sorted (so
    concurrent PostgreSQL transactions lock tally rows in one order and cannot deadlock)."""
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
    return _Rows(
        responses,
        answers,
        comments,
        [
            {**group, "item_id": i, "option_id": o, "is_complete": c, "count": n}
            for (i, o, c), n in sorted(by_answer.items())
        ],
        [{**group, "total": t, "count": n} for t, n in sorted(by_total.items())],
        {**group, "source": source, "count": len(ballots)},
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
    FROM unnest(CAST(:response_ids AS uuid[])) WITH ORDINALITY AS r(id, n)
    ORDER BY r.n
), new_answers AS (
    INSERT INTO answer (response_id, item_id, option_id)
    SELECT a.response_id, a.item_id, a.option_id
    FROM unnest(
        CAST(:answer_responses AS uuid[]), CAST(:answer_items AS integer[]),
        CAST(:answer_options AS integer[])
    ) WITH ORDINALITY AS a(response_id, item_id, option_id, n)
    ORDER BY a.n
), new_comments AS (
    INSERT INTO comment (id, survey_id, branch_id, text, is_test)
    SELECT c.id, :survey_id, :branch_id, c.text, :is_test
    FROM unnest(CAST(:comment_ids AS uuid[]), CAST(:comment_texts AS text[]))
        WITH ORDINALITY AS c(id, text, n)
    ORDER BY c.n
), answer_counts AS (
    INSERT INTO answer_tally
        (survey_id, branch_id, category_id, item_id, option_id, is_complete, count)
    SELECT :survey_id, :branch_id, :category_id, t.item_id, t.option_id, t.is_complete, t.count
    FROM unnest(
        CAST(:tally_items AS integer[]), CAST(:tally_options AS integer[]),
        CAST(:tally_complete AS boolean[]), CAST(:tally_counts AS integer[])
    ) WITH ORDINALITY AS t(item_id, option_id, is_complete, count, n)
    ORDER BY t.n
    ON CONFLICT (survey_id, branch_id, category_id, item_id, option_id, is_complete)
    DO UPDATE SET count = answer_tally.count + excluded.count
), total_counts AS (
    INSERT INTO total_tally (survey_id, branch_id, category_id, total, count)
    SELECT :survey_id, :branch_id, :category_id, t.total, t.count
    FROM unnest(CAST(:totals AS double precision[]), CAST(:total_counts AS integer[]))
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


def _postgres_parameters(rows: _Rows) -> dict:
    """The parameters of :data:`_POSTGRES_BATCH`: one array per column."""
    first = rows.responses[0]
    return {
        "survey_id": first["survey_id"],
        "branch_id": first["branch_id"],
        "category_id": first["category_id"],
        "day": first["submitted_on"],
        "source": str(first["source"]),
        "is_test": first["is_test"],
        "response_ids": [r["id"] for r in rows.responses],
        "answer_responses": [a["response_id"] for a in rows.answers],
        "answer_items": [a["item_id"] for a in rows.answers],
        "answer_options": [a["option_id"] for a in rows.answers],
        "comment_ids": [c["id"] for c in rows.comments],
        "comment_texts": [c["text"] for c in rows.comments],
        "tally_items": [t["item_id"] for t in rows.answer_counts],
        "tally_options": [t["option_id"] for t in rows.answer_counts],
        "tally_complete": [t["is_complete"] for t in rows.answer_counts],
        "tally_counts": [t["count"] for t in rows.answer_counts],
        "totals": [t["total"] for t in rows.total_counts],
        "total_counts": [t["count"] for t in rows.total_counts],
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


# --------------------------------------------------------------------------- mixing


def _how_many(waiting: int, threshold: int, *, final: bool, published: bool) -> int:
    """How many of a group's ``waiting`` ballots a mix counts now (see the module docstring).

    Open: the largest multiple of k that leaves at least k waiting, once 2k are there.
    Closed: all of them, unless results were published before and fewer than k wait.
    """
    if not final:
        return threshold * ((waiting - threshold) // threshold) if waiting >= 2 * threshold else 0
    if waiting == 0 or (published and waiting < threshold):
        return 0
    return waiting


def _mix(survey: Survey | Questionnaire, group: Group, *, final: bool, published: bool) -> int:
    """Count what the rule allows of one group, inside the caller's transaction.

    A ballot that this server's key cannot open (sealed by a server with another
    ``SECRET_KEY``) is left in the box untouched and does not block the others; it is counted
    among the group's waiting ballots only once a server with its key mixes it.
    """
    session = db.session
    query = select(SealedBallot.id, SealedBallot.sealed).where(*_group_filter(group))
    if session.get_bind().dialect.name == "postgresql":
        # A submission-triggered mix skips ballots another mixer holds; a close waits for them.
        query = query.with_for_update(skip_locked=not final)
    readable = []
    for key, stored in db.execute(query):
        try:
            readable.append((key, unseal(group, stored)))
        except BoxUnreadable:
            continue
    take = _how_many(len(readable), survey.threshold, final=final, published=published)
    if take == 0:
        return 0
    chosen = readable if take == len(readable) else _RANDOM.sample(readable, take)
    db.execute(delete(SealedBallot).where(SealedBallot.id.in_([key for key, _ballot in chosen])))
    count_batch(survey, group.branch_id, group.category_id, group.source, [b for _k, b in chosen])
    return len(chosen)


def unreadable(survey: Survey) -> int:
    """Ballots of ``survey`` in the box that this server's key cannot open."""
    count = 0
    for group in waiting_groups(survey.id):
        for stored in db.session.scalars(select(SealedBallot.sealed).where(*_group_filter(group))):
            try:
                unseal(group, stored)
            except BoxUnreadable:
                count += 1
    return count


def waiting_groups(survey_id: int) -> list[Group]:
    """The groups of a survey that have ballots in the box."""
    rows = db.session.execute(
        select(SealedBallot.branch_id, SealedBallot.category_id, SealedBallot.source)
        .where(SealedBallot.survey_id == survey_id)
        .group_by(SealedBallot.branch_id, SealedBallot.category_id, SealedBallot.source)
        .order_by(SealedBallot.branch_id, SealedBallot.category_id, SealedBallot.source)
    ).all()
    return [Group(survey_id, b, c, Source(s)) for b, c, s in rows]


def mix_group(survey: Survey | Questionnaire, group: Group) -> int:
    """Mix one group in a transaction of its own (after a submission); returns ballots counted.

    The survey's state, test mode, threshold and publication are read again inside the
    transaction, after the lock that orders mixes against a close, so they are current.
    """
    with db.transaction():
        db.lock_survey(group.survey_id)
        current = refreshed(_snapshot(survey))
        if current is None or current.state is SurveyState.DRAFT:
            return 0
        counted = _mix(
            current,
            group,
            final=current.state is SurveyState.CLOSED,
            published=current.is_published,
        )
    if counted:
        db.truncate_wal()
    return counted


def mix_survey(survey: Survey | Questionnaire) -> int:
    """Mix every group of a survey that has ballots waiting, each in its own transaction;
    returns the ballots counted (``flask mix-ballots``, and after paper ballots are stored)."""
    return sum(mix_group(survey, group) for group in waiting_groups(survey.id))


def mix_for_close(survey: Survey) -> int:
    """Count the box's remainder of a survey that is closing, inside the close's transaction.

    One transaction with the state change, so that no report can be read between the close and
    the last group counted. Returns the ballots counted; what stays is held back.
    """
    published = survey.is_published
    db.session.flush()
    return sum(
        _mix(survey, group, final=True, published=published) for group in waiting_groups(survey.id)
    )


def _snapshot(survey: Survey | Questionnaire) -> Questionnaire:
    if isinstance(survey, Questionnaire):
        return survey
    snapshot = load_questionnaire(survey.id)
    assert snapshot is not None
    return snapshot


def waiting(survey: Survey, branch_id: int | None = None) -> int:
    """Ballots of ``survey`` (of one branch) still sealed in the box: waiting to be counted while
    the survey is open, held back once it is closed."""
    query = select(func.count()).where(SealedBallot.survey_id == survey.id)
    if branch_id is not None:
        query = query.where(SealedBallot.branch_id == branch_id)
    return db.session.scalar(query) or 0


def waiting_by_branch(survey: Survey) -> dict[int, dict[Source, int]]:
    """Sealed ballots per branch and source (turnout counts them as received)."""
    rows = db.session.execute(
        select(SealedBallot.branch_id, SealedBallot.source, func.count())
        .where(SealedBallot.survey_id == survey.id)
        .group_by(SealedBallot.branch_id, SealedBallot.source)
    ).all()
    found: dict[int, dict[Source, int]] = {}
    for branch_id, source, count in rows:
        found.setdefault(branch_id, {})[Source(source)] = int(count)
    return found
