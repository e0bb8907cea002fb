"""Back-off after repeated failures (password guessing, code guessing), shared by all workers.

Counters live in the ``throttle`` table, not in process memory: a per-worker limiter with
``gunicorn -w 5`` would let 5 × the limit through (one count per worker;
``tests/survey/concurrency/test_backoff_workers.py`` runs several workers). Keys are keyed
hashes, so a client address is never stored in the clear, and only failed attempts are counted.

A client address is kept as a *short* keyed hash: 16 bits, so every key stands for about 65,536
addresses and even someone who holds ``SECRET_KEY`` cannot turn a row back into one address of
the Internet (inside a small intranet it narrows less). Times are kept to the minute (a block may
end up to a minute early), and rows disappear once their window and block are over.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from survey.db import db
from survey.models import Throttle


@dataclass(frozen=True, slots=True)
class Policy:
    """How many failures are allowed within ``window``, and how long a block then lasts."""

    limit: int
    window: timedelta
    block: timedelta


#: Sign-in: 5 wrong passwords per account within 15 minutes, then 15 minutes of refusal.
LOGIN = Policy(limit=5, window=timedelta(minutes=15), block=timedelta(minutes=15))
#: Code entry: unknown codes per client address within 10 minutes, then 10 minutes of refusal.
#: The limit is generous because a whole hall may reach the server through one NAT address, and
#: typos there must not lock everyone out; 74-bit codes, not this limit, make guessing hopeless.
CODE_ENTRY = Policy(limit=60, window=timedelta(minutes=10), block=timedelta(minutes=10))


def code_entry_policy() -> Policy:
    """The code-entry policy with the limit configured by ``CEPING_CODE_ATTEMPTS``."""
    limit = current_app.config.get("CEPING_CODE_ATTEMPTS", CODE_ENTRY.limit)
    return Policy(limit=limit, window=CODE_ENTRY.window, block=CODE_ENTRY.block)


#: Hex digits of the keyed hash kept for a client address (16 bits: many addresses per key).
ADDRESS_DIGITS = 4
#: Hex digits kept for a username (usernames are not secret; collisions must not happen).
NAME_DIGITS = 40


def _now() -> datetime:
    """Now, to the minute (naive UTC): the table never holds a finer time."""
    return datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)


def key_for(kind: str, value: str, *, digits: int = NAME_DIGITS) -> str:
    """A throttle key for ``value`` (a username or client address), hashed with the secret and
    cut to ``digits`` hex digits."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:digits]}"


def address_key(kind: str, address: str) -> str:
    """The throttle key of a client address: a 16-bit keyed hash, shared by many addresses."""
    return key_for(kind, address, digits=ADDRESS_DIGITS)


#: Built once: the respondent path asks on every code it is sent.
_BLOCKED_UNTIL = select(Throttle.blocked_until).where(Throttle.key == bindparam("key"))


def blocked_for(key: str, now: datetime | None = None) -> timedelta | None:
    """How much longer ``key`` is refused, or None if it may try now."""
    return remaining(db.session.scalar(_BLOCKED_UNTIL, {"key": key}), now)


def remaining(blocked_until: datetime | None, now: datetime | None = None) -> timedelta | None:
    """How much of a block that lasts ``blocked_until`` is left, or None if it is over."""
    now = now or _now()
    if blocked_until is None or blocked_until <= now:
        return None
    return blocked_until - now


def record_failure(key: str, policy: Policy, now: datetime | None = None) -> bool:
    """Count one failure in its own transaction; return True if ``key`` is now blocked.

    The row is locked while it is updated (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on
    PostgreSQL), so concurrent failures from several workers are all counted.
    """
    now = now or _now()
    with db.transaction() as session:
        # Create the row if missing without failing when another worker just did (a plain
        # INSERT raced to a unique violation on PostgreSQL), then lock and re-read it: an
        # earlier read in this session must not leave a stale count in the identity map.
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
        session.execute(
            insert(Throttle)
            .values(key=key, failures=0, window_started_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = session.get(Throttle, key, with_for_update=True, populate_existing=True)
        if now - row.window_started_at > policy.window:
            row.failures, row.window_started_at, row.blocked_until = 0, now, None
        row.failures += 1
        if row.failures >= policy.limit:
            row.blocked_until = now + policy.block
        blocked = row.blocked_until is not None and row.blocked_until > now
        # Forget stale counters as we go, so the table only holds recent failures.
        session.execute(
            delete(Throttle).where(
                Throttle.window_started_at < now - max(policy.window, policy.block) * 2,
                # Another kind of key may have a longer block: keep it while it lasts.
                or_(Throttle.blocked_until.is_(None), Throttle.blocked_until <= now),
                Throttle.key != key,
            )
        )
    return blocked


def reset(key: str) -> None:
    """Forget the failures of ``key`` (after a successful sign-in)."""
    with db.transaction() as session:
        session.execute(delete(Throttle).where(Throttle.key == key))
