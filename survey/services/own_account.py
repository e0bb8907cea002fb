"""The signed-in user's own account: signing in with back-off, sessions, password changes
and API tokens. (Administrators managing other people's accounts: :mod:`user_admin`.)

Views and CLI commands call these functions; they record the audit entries themselves, so every
way in (web page, CLI) leaves the same trail. Nothing here ever concerns a respondent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from flask_babel import format_timedelta
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from survey.db import db
from survey.identity.passwords import hash_password, needs_rehash, verify_password
from survey.identity.tokens import new_token, now, session_lifetime, token_hash
from survey.models import ApiToken, Role, User, UserSession
from survey.refusals import Forbidden, Invalid, TooManyAttempts
from survey.services import audit, throttle

#: Longest name of an API token (the column holds 100).
TOKEN_NAME_LENGTH = 100
#: Longest username kept in an audit entry for a failed sign-in (the column holds 80).
_AUDIT_NAME_LENGTH = 80


class LoginBlocked(TooManyAttempts):
    """Too many recent failures for this username: refuse even a right password for ``wait``."""

    def __init__(self, wait: timedelta):
        in_words = format_timedelta(
            max(wait, timedelta(minutes=1)), granularity="minute", threshold=1
        )
        super().__init__(
            _(
                "Too many failed sign-ins for this username. Please try again in %(wait)s.",
                wait=in_words,
            ),
            wait,
            title=_("Sign-in paused"),
        )


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly created API token; ``plain`` exists only here and is shown once."""

    token: ApiToken
    plain: str


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so both failures take as long."""
    return hash_password(secrets.token_urlsafe(16))


def _login_key(username: str) -> str:
    """The throttle key of a username, the same however it was capitalised."""
    return throttle.key_for("login", username.strip().lower())


def find_user(username: str) -> User | None:
    """The account with exactly this username (surrounding spaces ignored), or None."""
    return db.session.scalar(select(User).where(User.username == username.strip()))


def authenticate(username: str, password: str) -> User | None:
    """Check a sign-in; return the user, None on a wrong username or password.

    Raises :class:`LoginBlocked` while the username is backed off, and when this failure is the
    one that starts the block. The counters live in the database, so every worker sees them.
    An unknown user and a wrong password cost the same time and leave the same audit action.
    """
    key = _login_key(username)
    wait = throttle.blocked_for(key)
    if wait is not None:
        # Not audited again: a script hammering a blocked account would fill the log.
        raise LoginBlocked(wait)
    user = find_user(username)
    stored = user.password_hash if user is not None else _dummy_hash()
    matches = verify_password(stored, password)
    if user is None or not matches or not user.is_active:
        attempted = f"username={username.strip()[:_AUDIT_NAME_LENGTH]}"
        _record("auth.login_failed", attempted)
        if throttle.record_failure(key, throttle.LOGIN):
            _record("auth.login_blocked", attempted)
            raise LoginBlocked(throttle.blocked_for(key) or throttle.LOGIN.block)
        return None
    throttle.reset(key)
    with db.transaction():
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        audit.record("auth.login", "", user=user)
    return user


def open_session(user: User) -> str:
    """Start a server-side session for ``user``; returns the token the cookie carries (its hash
    is all that is stored). Sessions past their lifetime are forgotten on the way."""
    token = new_token()
    with db.transaction() as session:
        session.execute(
            delete(UserSession).where(UserSession.created_at < now() - session_lifetime())
        )
        session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now()))
    return token


def end_sessions(user: User, keep: str | None = None) -> None:
    """End every session of ``user`` (but the one whose token is ``keep``), inside the caller's
    transaction."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.token_hash != token_hash(keep))
    db.session.execute(query.execution_options(synchronize_session=False))


def revoke_all_tokens(user: User) -> int:
    """Revoke every live API token of ``user``, inside the caller's transaction; returns how
    many."""
    return db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_on.is_(None))
        .values(revoked_on=date.today())
        .execution_options(synchronize_session=False)
    ).rowcount


def logout(user: User | None, token: str | None) -> None:
    """End the session whose token is ``token`` on the server, and audit the sign-out."""
    with db.transaction() as session:
        if token:
            session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
        if user is not None:
            audit.record("auth.logout", "", user=user)


def change_password(user: User, new_password: str, keep_session: str | None = None) -> None:
    """Set a new password; every other session of the user ends."""
    with db.transaction():
        user.password_hash = hash_password(new_password)
        end_sessions(user, keep=keep_session)
        audit.record("auth.password_change", "", user=user)


def list_tokens(user: User) -> list[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_on.is_not(None), ApiToken.id.desc())
        )
    )


def create_token(user: User, name: str, from_cli: bool = False) -> NewToken:
    """Create an API token for ``user``; only its hash is stored, the plain value returned once.

    ``from_cli``: made on the command line, so the audit entry names no signed-in actor.
    """
    if user.role is Role.DATA_ENTRY:
        raise Forbidden(_("A data-entry account keys paper ballots only and holds no API token."))
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_LENGTH:
        raise Invalid(
            _("Give the token a name of 1 to %(limit)d characters.", limit=TOKEN_NAME_LENGTH),
            field="name",
        )
    plain = new_token()
    with db.transaction() as session:
        token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(plain))
        session.add(token)
        session.flush()
        audit.record(
            "token.create",
            f"token={token.id} name={token.name} owner={user.username}",
            user=None if from_cli else user,
        )
    return NewToken(token, plain)


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when it is not theirs (or does not exist)."""
    with db.transaction() as session:
        token = session.scalar(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
        )
        if token is None:
            return None
        if token.revoked_on is None:
            token.revoked_on = date.today()
            audit.record("token.revoke", f"token={token.id} name={token.name}", user=user)
    return token


def _record(action: str, detail: str, user: User | None = None) -> None:
    """One audit entry in its own transaction."""
    with db.transaction():
        audit.record(action, detail, user=user)
