"""Account commands: creating office users from the command line (the first administrator)."""

from __future__ import annotations

import sys

import click
from flask_babel import gettext as _
from sqlalchemy import select

from survey.auth.passwords import MIN_LENGTH
from survey.db import db
from survey.models import Branch, Role
from survey.services.users import UserRefused, create_user, username_taken

#: Longest username the user table holds.
USERNAME_LENGTH = 80


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin for scripts, else typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(
        _("Password"), hide_input=True, confirmation_prompt=_("Repeat the password")
    )


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role", type=click.Choice([role.value for role in Role]), required=True, help="What they do."
)
@click.option("--branch", "branch_code", help="The branch a branch_viewer may read.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input."
)
def create_user_command(
    username: str, role: str, branch_code: str | None, password_stdin: bool
) -> None:
    """Create an office account (admin, supervisor or branch_viewer) with an argon2id password."""
    username = username.strip()
    role = Role(role)
    errors = []
    if not username or len(username) > USERNAME_LENGTH or any(ch.isspace() for ch in username):
        errors.append(
            _("a username has 1 to %(limit)d characters and no spaces", limit=USERNAME_LENGTH)
        )
    elif username_taken(username):
        errors.append(_('the username "%(username)s" is already taken', username=username))
    branch = None
    if role is Role.BRANCH_VIEWER and not branch_code:
        errors.append(_("a branch_viewer needs --branch CODE"))
    elif role is not Role.BRANCH_VIEWER and branch_code:
        errors.append(_("--branch applies only to the branch_viewer role"))
    elif branch_code:
        branch = db.session.scalar(select(Branch).where(Branch.code == branch_code))
        if branch is None:
            errors.append(_('unknown branch "%(code)s"', code=branch_code))
    if errors:
        for error in errors:
            click.echo(error, err=True)
        raise click.exceptions.Exit(1)
    password = _read_password(password_stdin)
    if len(password) < MIN_LENGTH:
        raise click.ClickException(
            _("the password needs at least %(length)d characters", length=MIN_LENGTH)
        )
    try:
        user = create_user(None, username, password, role, branch)
    except UserRefused as refused:
        raise click.ClickException(f"{username}: {refused.message}") from None
    click.echo(_("User %(username)s created (%(role)s).", username=user.username, role=role.value))


COMMANDS = (create_user_command,)
