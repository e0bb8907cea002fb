"""The ballot box: a sealed waiting room between using a code and counting its answers.

Why it exists. Using a code and storing its answers in one transaction pairs them below the
schema: one SQLite WAL commit, one PostgreSQL ``xmin``, neighbouring rows in a page. So the
transaction that uses a code stores only a *sealed* ballot here, and a *mix* later moves ballots
into ``response``, ``answer``, ``comment`` and the tallies, in a transaction of its own, in
batches of at least the survey's threshold k drawn at random and written in random order. What
the storage keeps then links a code to a batch of at least k ballots, never to one.

Sealing (:mod:`survey.services.ballot_seal`): a ballot is padded to one size per survey and
encrypted under a key derived from ``SECRET_KEY``, bound to its group. Counting a mixed batch
into the results is :mod:`survey.services.ballot_count`.

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
from collections.abc import Iterable

from sqlalchemy import bindparam, delete, exists, func, insert, select

from survey.db import db
from survey.models import (
    SealedBallot,
    Source,
    Survey,
    SurveyState,
    random_id,
)
from survey.services.ballot_count import count_batch
from survey.services.ballot_seal import (
    Ballot,
    BoxUnreadable,
    Group,
    seal,
    seal_bytes,
    unseal,
    unseal_bytes,
)
from survey.services.questionnaires import Questionnaire, load_questionnaire, refreshed

#: Sealing and counting live in their own modules; callers reach them through the box.
__all__ = [
    "Ballot",
    "BoxUnreadable",
    "Group",
    "count_batch",
    "discard",
    "drop",
    "drop_many",
    "mix_for_close",
    "mix_group",
    "mix_survey",
    "ready_to_mix",
    "seal_bytes",
    "unreadable",
    "unseal_bytes",
    "waiting",
    "waiting_by_branch",
    "waiting_groups",
    "waiting_in",
]

#: Picks ballots and shuffles batches: the operating system's randomness, never a seeded one.
_RANDOM = secrets.SystemRandom()


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
