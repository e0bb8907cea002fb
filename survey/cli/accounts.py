"""Account commands: office users (the first administrator) and API tokens."""

from __future__ import annotations

import sys

import click
from flask_babel import gettext as _

from survey.models import Role
from survey.refusals import Conflict, NotFound
from survey.services import own_account
from survey.services.lookup import find_branch
from survey.services.user_admin import create_user


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
    """Create an office account (admin, supervisor, branch_viewer, or data_entry: keys paper
    ballots only) with an argon2id password."""
    role = Role(role)
    branch = find_branch(branch_code) if branch_code else None
    user = create_user(None, username, _read_password(password_stdin), role, branch)
    click.echo(_("User %(username)s created (%(role)s).", username=user.username, role=role.value))


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
def create_token_command(username: str, name: str) -> None:
    """Create an API token for USERNAME and print it once; only its hash is stored."""
    user = own_account.find_user(username)
    if user is None:
        raise NotFound(_('There is no account called "%(name)s".', name=username))
    if not user.is_active:
        raise Conflict(_('The account "%(name)s" is deactivated.', name=username))
    created = own_account.create_token(user, name, from_cli=True)
    click.echo(created.plain)
    click.echo(
        _(
            "Token %(id)d (%(name)s) for %(user)s. Copy it now: it cannot be shown again.",
            id=created.token.id,
            name=created.token.name,
            user=user.username,
        ),
        err=True,
    )


COMMANDS = (create_user_command, create_token_command)
