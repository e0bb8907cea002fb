"""Command-line interface: ``flask --app wsgi <command>``.

One module per area: ``data`` (branches, surveys, codes, paper ballots, demo), ``accounts``
(users and API tokens) and ``reports`` (the JSON and spreadsheet report). Commands parse their
arguments and call the same service functions as the office's pages and the API; they never
open a transaction for domain work of their own. Every command that reads a file validates all
of it first and reports every error with file, line and field, and a refused operation changes
nothing: :func:`refused` prints the service's messages and exits with status 1.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import import_module
from typing import NoReturn

import click
from flask import Flask, current_app
from flask_babel import force_locale, ngettext

from survey import migrations
from survey.db import db
from survey.refusals import Refusal

#: Modules whose ``COMMANDS`` tuple is added to the CLI.
AREAS = ("survey.cli.data", "survey.cli.accounts", "survey.cli.reports")


def fail(problems: Iterable[object]) -> NoReturn:
    """Print every problem to stderr and stop with status 1; nothing has been written."""
    problems = list(problems)
    for problem in problems:
        click.echo(str(problem), err=True)
    message = ngettext(
        "Nothing was changed (%(num)d problem).",
        "Nothing was changed (%(num)d problems).",
        len(problems),
    )
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)


def refused(refusal: Refusal) -> NoReturn:
    """The command line's answer to a service's refusal: its messages, then status 1."""
    fail(refusal.messages)


def _answering_refusals(command: click.Command) -> click.Command:
    """Let ``command`` speak the configured ``CLI_LANGUAGE`` (``CEPING_CLI_LANGUAGE``), and
    answer a :class:`~survey.refusals.Refusal` with :func:`refused`.

    A refusal's messages are translated where it is raised, inside the command, so the whole
    run is under that language, not only the printing.
    """
    callback = command.callback
    if getattr(callback, "answers_refusals", False):
        return command  # already wrapped by an earlier app

    @functools.wraps(callback)
    def run(*args, **kwargs):
        with force_locale(current_app.config.get("CLI_LANGUAGE", "en")):
            try:
                return callback(*args, **kwargs)
            except Refusal as refusal:
                refused(refusal)

    run.answers_refusals = True  # type: ignore[attr-defined]
    command.callback = run
    return command


@click.command("init-db")
def init_db_command() -> None:
    """Create the schema, or migrate it to the newest version. Running it again is harmless."""
    migrations.upgrade(db.engine)
    click.echo("Database is up to date.")


def init_app(app: Flask) -> None:
    """Register every command on the app's CLI."""
    app.cli.add_command(init_db_command)
    for name in AREAS:
        for command in import_module(name).COMMANDS:
            app.cli.add_command(_answering_refusals(command))
