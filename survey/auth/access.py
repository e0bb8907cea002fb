"""Who is asking, and what they may see: the signed-in user, roles, API tokens.

Views declare access with :func:`require_roles`; branch-level access with
:func:`can_view_branch`. The API also accepts ``Authorization: Bearer <token>``.

A data-entry account keys paper ballots and sees nothing else: no results, no turnout, no
codes, no accounts, no API. ``require_roles()`` without roles therefore means "any role that
reads", and the manage area lets it through only to :data:`KEYING_ENDPOINTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_babel import gettext as _

from survey.identity.tokens import api_token_user, session_user
from survey.models import Branch, Role, User
from survey.refusals import Forbidden

#: Key of the signed-in session's token in the session cookie.
SESSION_KEY = "sid"

#: Every role that reads results: all but data entry.
READERS = (Role.ADMIN, Role.SUPERVISOR, Role.BRANCH_VIEWER)

#: The only manage-area pages a data-entry account opens: the surveys it may key, a survey's
#: batches, the grid, a batch, the blind second keying and settling disagreements (and
#: discarding a batch of its own). Uploading a file is not keying: it stores ballots that no
#: second person typed, so it stays with the office.
KEYING_ENDPOINTS = frozenset(
    {
        "manage.list_keying",
        "manage.list_ballots",
        "manage.key_ballots",
        "manage.show_draft",
        "manage.verify_ballots",
        "manage.resolve_ballots",
        "manage.discard_ballots",
    }
)


def is_data_entry(user: User | None) -> bool:
    """Whether ``user`` is a data-entry account (keys paper ballots, nothing else)."""
    return user is not None and user.role is Role.DATA_ENTRY


def refuse_data_entry() -> Forbidden:
    """The refusal a data-entry account gets anywhere but the keying pages."""
    return Forbidden(
        _("A data-entry account can only key in paper ballots; this page is not open to it.")
    )


def home_endpoint(user: User | None) -> str:
    """Where a signed-in user starts: the keying list for data entry, the results otherwise."""
    return "manage.list_keying" if is_data_entry(user) else "results.list_campaigns"


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
    """Allow a view only to signed-in users with one of ``roles`` (any of :data:`READERS` when
    none given); a data-entry account turned away is told why."""
    allowed = roles or READERS

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
                if request.path.startswith("/api/"):
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path))
            if user.role not in allowed:
                if is_data_entry(user):
                    raise refuse_data_entry()
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_view_branch(user: User | None, branch: Branch) -> bool:
    """Admins and supervisors read every branch; a branch viewer only its own; data entry
    none."""
    if user is None or is_data_entry(user):
        return False
    if user.role is Role.BRANCH_VIEWER:
        return user.branch_id == branch.id
    return True


def init_app(app: Flask) -> None:
    """Load the user before each request."""
    app.before_request(load_user)
