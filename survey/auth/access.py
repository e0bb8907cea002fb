"""Who is asking, and what they may see: the signed-in user, roles, API tokens.

Views declare access with :func:`require_roles`; branch-level access with
:func:`can_view_branch`. The API also accepts ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, g, redirect, request, session, url_for

from survey.identity.tokens import api_token_user, session_user
from survey.models import Branch, Role, User

#: Key of the signed-in session's token in the session cookie.
SESSION_KEY = "sid"


def _user_from_token() -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    return api_token_user(token) if token else None


def _user_from_session() -> User | None:
    token = session.get(SESSION_KEY)
    return session_user(token) if isinstance(token, str) and token else None


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
