"""Who is asking, and what they may see: the signed-in user, roles, API tokens.

Views declare access with :func:`require_roles`; branch-level access with
:func:`can_view_branch`. The API also accepts ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from survey.db import db
from survey.models import ApiToken, Branch, Role, User, UserSession

#: Key of the signed-in session's token in the session cookie.
SESSION_KEY = "sid"


def token_hash(token: str) -> str:
    """The stored form of an API token (tokens are long random strings, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _user_from_token() -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    if not token:
        return None
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == token_hash(token), ApiToken.revoked_on.is_(None)
        )
    )
    if row is None or not row.user.is_active:
        return None
    return row.user


def session_lifetime() -> timedelta:
    """How long a signed-in session lasts (``CEPING_SESSION_SECONDS``)."""
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=int(lifetime))


def _user_from_session() -> User | None:
    """The user whose server-side session the cookie names, if it is still open.

    Signing out, a password change or reset, and deactivation delete the server-side row, so a
    copied cookie stops working at once.
    """
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        return None
    since = datetime.now(UTC).replace(tzinfo=None) - session_lifetime()
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == token_hash(token), UserSession.created_at > since)
    )
    return user if user is not None and user.is_active else None


def load_user() -> None:
    """Set ``g.user`` from the session, or for the API from a bearer token."""
    g.user = _user_from_session()
    if g.user is None and request.path.startswith("/api/"):
        g.user = _user_from_token()


def require_roles(*roles: Role) -> Callable:
    """Allow a view only to signed-in users with one of ``roles`` (any role when none given)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
                if request.path.startswith("/api/"):
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_view_branch(user: User | None, branch: Branch) -> bool:
    """Admins and supervisors read every branch; a branch viewer only its own."""
    if user is None:
        return False
    if user.role is Role.BRANCH_VIEWER:
        return user.branch_id == branch.id
    return True


def init_app(app: Flask) -> None:
    """Load the user before each request."""
    app.before_request(load_user)
