"""The office's audit trail: who did what, and when. Never anything about respondents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, true

from survey.db import db
from survey.models import AuditEntry, User


def record(
    action: str, detail: str = "", user: User | None = None, *, flagged: bool = False
) -> AuditEntry:
    """Add an audit entry inside the caller's transaction (``user`` None: the command line).

    ``flagged`` entries also appear on the supervisors' oversight page: office actions that
    could be turned against anonymity.
    """
    entry = AuditEntry(
        # Naive UTC: the column has no time zone on either backend.
        at=datetime.now(UTC).replace(tzinfo=None),
        user_id=user.id if user is not None else None,
        username=user.username if user is not None else None,
        action=action,
        detail=detail,
        is_flagged=flagged,
    )
    db.session.add(entry)
    return entry


#: Longer texts are cut to this many characters in a change's detail.
SHOWN_TEXT = 40


def shown(value: Any) -> str:
    """A value as an audit detail holds it: ``-`` for none, an enum's value, a (UTC) time to
    the minute, a text on one line and cut when long; quoted (``repr``) when it holds spaces,
    so the pair stays one."""
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):  # stored times are naive UTC
        value = value.isoformat(sep=" ", timespec="minutes") + " UTC"
    text = " ".join(str(getattr(value, "value", value)).split())
    if len(text) > SHOWN_TEXT:
        text = text[: SHOWN_TEXT - 1] + "…"
    return repr(text) if any(c.isspace() or c in "'\"" for c in text) else text


def change(name: str, before: Any, after: Any) -> str:
    """One changed value for an entry's detail: ``name=before->after`` (see :func:`shown`)."""
    return f"{name}={shown(before)}->{shown(after)}"


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the audit log, newest first, with what the pager needs."""

    entries: list[AuditEntry]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the whole log fills (at least one)."""
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """1-based position of the first entry on this page."""
        return (self.number - 1) * self.size + 1 if self.entries else 0

    @property
    def last(self) -> int:
        """1-based position of the last entry on this page."""
        return (self.number - 1) * self.size + len(self.entries)

    @property
    def has_newer(self) -> bool:
        """Whether a page of newer entries comes before this one."""
        return self.number > 1

    @property
    def has_older(self) -> bool:
        """Whether a page of older entries follows this one."""
        return self.number < self.pages


def page_of_entries(number: int, size: int = 50, *, flagged_only: bool = False) -> AuditPage:
    """Page ``number`` (from 1) of the audit log, newest first, for the admins' audit page; with
    ``flagged_only``, of the flagged entries, for the supervisors' oversight page."""
    number = max(1, number)
    condition = AuditEntry.is_flagged.is_(True) if flagged_only else true()
    total = db.session.scalar(select(func.count()).select_from(AuditEntry).where(condition)) or 0
    entries = db.session.scalars(
        select(AuditEntry)
        .where(condition)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(size)
        .offset((number - 1) * size)
    ).all()
    return AuditPage(list(entries), number, size, total)
