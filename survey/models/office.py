"""The office's side: accounts, sessions, API tokens, back-off counters and the audit trail."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, enum_column

if TYPE_CHECKING:
    from survey.models.branches import Branch


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    BRANCH_VIEWER = "branch_viewer"
    #: Keys paper ballots and sees nothing else (no results, no codes, no accounts).
    DATA_ENTRY = "data_entry"


class User(Base):
    """A member of the campaign office or the supervision group. Never a respondent."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(
            "role <> 'branch_viewer' OR branch_id IS NOT NULL", name="branch_viewer_has_branch"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    #: argon2id hash.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    #: The one branch a branch viewer may read.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_on: Mapped[date] = mapped_column(Date, default=date.today)

    branch: Mapped[Branch | None] = relationship()


class ApiToken(Base):
    """A revocable token for ``/api/v1``; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_on: Mapped[date] = mapped_column(Date, default=date.today)
    revoked_on: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship()


class UserSession(Base):
    """A signed-in session, so that signing out (or a password reset) ends it on the server.

    The cookie holds the random token; only its hash is stored.
    """

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Throttle(Base):
    """Failure counts for back-off on logins and code entry, shared by every app server.

    Keys are keyed hashes (of a username, or of a client address for code guessing) and rows
    expire with their window; nothing here concerns a successful respondent. Times are kept to
    the minute only.
    """

    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who did what in the office, and when. Never anything about respondents."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: Kept as text so the entry survives the user's deletion.
    username: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    #: Shown on the supervisors' oversight page: an office action that could be used against
    #: anonymity (codes beyond a cell's members or during an open survey, a reopened survey).
    is_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
