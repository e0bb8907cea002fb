"""Who is asking, and what they may see: the signed-in user, roles, API tokens.

Views declare access with :func:`require_roles`; branch-level access with
:func:`can_view_branch`. The API also accepts ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, g, redirect, request, session, url_for
from sqlalchemy import select

from survey.db import db
from survey.models import ApiToken, Branch, Role, User


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


def load_user() -> None:
    """Set ``g.user`` from the session, or for the API from a bearer token."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        user = db.session.get(User, user_id)
        # A password change bumps the session version, signing out every other session.
        if user is not None and user.is_active and session.get("auth") == session_marker(user):
            g.user = user
    if g.user is None and request.path.startswith("/api/"):
        g.user = _user_from_token()


def session_marker(user: User) -> str:
    """A value tied to the user's current password hash, stored in the session at sign-in."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


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
