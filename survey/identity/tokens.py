"""Session and API tokens: long random secrets of which only a hash is stored.

A signed-in session's cookie and an API client's ``Authorization: Bearer`` header each carry a
token; the database keeps its SHA-256 (the tokens are random, so a plain hash suffices) and
answers which active user it belongs to.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from survey.db import db
from survey.models import ApiToken, User, UserSession


def new_token() -> str:
    """A fresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def session_lifetime() -> timedelta:
    """How long a signed-in session lasts (``CEPING_SESSION_SECONDS``)."""
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=int(lifetime))


def now() -> datetime:
    """The current time as stored (UTC, naive)."""
    return datetime.now(UTC).replace(tzinfo=None)


def session_user(token: str) -> User | None:
    """The active user whose server-side session ``token`` names, if it is still open.

    Signing out, a password change or reset, and deactivation delete the session's row, so a
    copied cookie stops working at once.
    """
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == token_hash(token),
            UserSession.created_at > now() - session_lifetime(),
        )
    )
    return user if user is not None and user.is_active else None


def api_token_user(token: str) -> User | None:
    """The active user a live (unrevoked) API token belongs to."""
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == token_hash(token), ApiToken.revoked_on.is_(None)
        )
    )
    if row is None or not row.user.is_active:
        return None
    return row.user
