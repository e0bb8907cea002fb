"""Command-line interface: ``flask --app wsgi <command>``.

One module per area: ``data`` (branches, surveys, codes, paper ballots, demo), ``accounts``
(users and API tokens) and ``reports`` (the JSON and spreadsheet report). Every command that reads
a file validates all of it first and reports every error with file, line and field; it then writes
in one transaction, so a failed command changes nothing.
"""

from __future__ import annotations

from importlib import import_module

import click
from flask import Flask

from survey import migrations
from survey.db import db

#: Modules whose ``COMMANDS`` tuple is added to the CLI.
AREAS = ("survey.cli.data", "survey.cli.accounts", "survey.cli.tokens", "survey.cli.reports")


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
            app.cli.add_command(command)
