"""Schema migrations (Alembic), run by ``flask --app wsgi init-db``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent


def alembic_config(engine: Engine, connection=None) -> Config:
    """An Alembic configuration bound to ``engine`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision; harmless when already current."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(engine, connection), "head")


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision from the models (a developer's command)."""
    with engine.begin() as connection:
        command.revision(alembic_config(engine, connection), message=message, autogenerate=True)
