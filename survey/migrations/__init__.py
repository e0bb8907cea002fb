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
    """Create or migrate the schema to the newest revision; harmless when already current.

    On SQLite, foreign keys are switched off while migrating (which needs a moment outside any
    transaction): a migration that changes a table rebuilds it, and dropping the old table
    would otherwise cascade into every table that refers to it, deleting their rows. The keys
    are checked once the migration is done, before it commits.
    """
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                command.upgrade(alembic_config(engine, connection), "head")
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision from the models (a developer's command)."""
    with engine.begin() as connection:
        command.revision(alembic_config(engine, connection), message=message, autogenerate=True)
