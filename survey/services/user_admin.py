"""Other people's office accounts, managed by an administrator (or ``create-user``): create,
change role or branch, deactivate, reset the password. (The signed-in user's own account:
:mod:`own_account`.)

Every change is audited in the same transaction as the change itself. Two rules keep the office
from locking itself out: an administrator cannot deactivate or demote their own account, and the
last active administrator stays an active administrator.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from survey.db import db
from survey.identity.passwords import MIN_LENGTH, hash_password
from survey.models import Branch, Role, User
from survey.refusals import Conflict, Invalid
from survey.services import audit
from survey.services.own_account import end_sessions, revoke_all_tokens

#: Longest username the user table holds.
USERNAME_LENGTH = 80


def list_users() -> list[User]:
    """Every account, active ones first, by username."""
    return list(db.session.scalars(select(User).order_by(User.is_active.desc(), User.username)))


def username_taken(username: str, except_id: int | None = None) -> bool:
    """Whether another account already uses this username."""
    query = select(User.id).where(User.username == username.strip())
    if except_id is not None:
        query = query.where(User.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def _active_admins(except_id: int | None = None) -> int:
    query = select(func.count(User.id)).where(User.role == Role.ADMIN, User.is_active.is_(True))
    if except_id is not None:
        query = query.where(User.id != except_id)
    return db.session.scalar(query) or 0


def _branch_for(role: Role, branch: Branch | None) -> Branch | None:
    """Only a branch viewer has a branch; the database refuses a branch viewer without one."""
    if role is Role.BRANCH_VIEWER:
        if branch is None:
            raise Invalid(_("A branch viewer needs a branch."), field="branch")
        return branch
    return None


def create_user(
    actor: User, username: str, password: str, role: Role, branch: Branch | None = None
) -> User:
    """Create an account with an argon2id password hash; audited."""
    username = username.strip()
    if not username or len(username) > USERNAME_LENGTH or any(ch.isspace() for ch in username):
        raise Invalid(
            _("A username has 1 to %(limit)d characters and no spaces.", limit=USERNAME_LENGTH),
            field="username",
        )
    if username_taken(username):
        raise Invalid(_("This username is already taken."), field="username")
    if len(password) < MIN_LENGTH:
        raise Invalid(
            _("The password needs at least %(length)d characters.", length=MIN_LENGTH),
            field="password",
        )
    branch = _branch_for(role, branch)
    with db.transaction() as session:
        user = User(
            username=username,
            password_hash=hash_password(password),
            role=role,
            branch_id=branch.id if branch is not None else None,
        )
        session.add(user)
        session.flush()
        audit.record(
            "user.create",
            f"user={user.username} role={role.value}"
            + (f" branch={branch.code}" if branch is not None else ""),
            user=actor,
        )
    return user


def update_user(actor: User, user: User, role: Role, branch: Branch | None) -> None:
    """Change an account's role and branch; audited. Refuses to demote the actor or last admin."""
    if user.id == actor.id and role is not Role.ADMIN:
        raise Invalid(_("You cannot take the administrator role from yourself."), field="role")
    if (
        user.role is Role.ADMIN
        and role is not Role.ADMIN
        and user.is_active
        and _active_admins(except_id=user.id) == 0
    ):
        raise Invalid(_("Ceping needs at least one active administrator."), field="role")
    branch = _branch_for(role, branch)
    with db.transaction():
        before = f"{user.role.value}/{user.branch.code if user.branch else '-'}"
        user.role = role
        user.branch_id = branch.id if branch is not None else None
        user.branch = branch
        after = f"{role.value}/{branch.code if branch else '-'}"
        if before != after:
            audit.record("user.update", f"user={user.username} {before} -> {after}", user=actor)


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (sign-in refused, sessions end) or reactivate an account; audited."""
    if not active and user.id == actor.id:
        raise Conflict(_("You cannot deactivate your own account."))
    if not active and user.role is Role.ADMIN and _active_admins(except_id=user.id) == 0:
        raise Conflict(_("Ceping needs at least one active administrator."))
    if user.is_active == active:
        return
    with db.transaction():
        user.is_active = active
        if not active:
            end_sessions(user)
        audit.record(
            "user.activate" if active else "user.deactivate", f"user={user.username}", user=actor
        )


def reset_password(actor: User, user: User, password: str) -> None:
    """Set a new password chosen by an administrator. Whoever knew the old one may have made
    sessions or API tokens with it: every session ends and every token is revoked."""
    with db.transaction():
        user.password_hash = hash_password(password)
        end_sessions(user)
        revoked = revoke_all_tokens(user)
        audit.record(
            "user.reset_password", f"user={user.username} tokens_revoked={revoked}", user=actor
        )
