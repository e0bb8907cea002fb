"""``flask create-token``: an API token for an office account, printed once."""

from __future__ import annotations

import click

from survey.services import accounts


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
def create_token_command(username: str, name: str) -> None:
    """Create an API token for USERNAME and print it once; only its hash is stored."""
    user = accounts.find_user(username)
    if user is None:
        raise click.ClickException(f"No account named {username!r}.")
    if not user.is_active:
        raise click.ClickException(f"The account {username!r} is disabled.")
    name = name.strip()
    if not name or len(name) > 100:
        raise click.BadParameter("give a name of 1 to 100 characters", param_hint="--name")
    created = accounts.create_token(user, name, from_cli=True)
    click.echo(created.plain)
    click.echo(
        f"Token {created.token.id} ({created.token.name}) for {user.username}. "
        "Copy it now: it cannot be shown again.",
        err=True,
    )


#: Commands registered by ``survey.cli.init_app``.
COMMANDS = (create_token_command,)
