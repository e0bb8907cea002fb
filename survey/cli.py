"""Command-line interface: ``flask --app wsgi <command>``.

Every command that reads a file validates all of it first and reports every error with file,
line and field; it then writes in one transaction, so a failed command changes nothing.
"""

from __future__ import annotations

import click
from flask import Flask

from survey import migrations
from survey.db import db


@click.command("init-db")
def init_db_command() -> None:
    """Create the schema, or migrate it to the newest version. Running it again is harmless."""
    migrations.upgrade(db.engine)
    click.echo("Database is up to date.")


def init_app(app: Flask) -> None:
    """Register the commands on the app's CLI."""
    for command in (init_db_command,):
        app.cli.add_command(command)
