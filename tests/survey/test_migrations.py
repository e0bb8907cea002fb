"""`init-db` builds the schema the models describe, through Alembic, and is harmless to repeat."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from survey import create_app
from survey.db import db
from survey.models import Base
from tests.conftest import require_postgres


def _fresh_postgres_url() -> str:
    """A PostgreSQL URL on an empty schema of its own."""
    base = require_postgres()
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_check"))
    engine.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3Dmigration_check"


def _check(url: str) -> None:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    with app.app_context():
        for _ in range(2):
            result = runner.invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
            assert "up to date" in result.output
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_init_db_on_sqlite_matches_models_and_repeats(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    _check(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        ddl = dict(connection.execute(text("SELECT name, sql FROM sqlite_master")).all())
    engine.dispose()
    for table in ("response", "answer", "comment"):
        assert "WITHOUT ROWID" in ddl[table]


def test_init_db_on_postgresql_matches_models_and_repeats():
    url = _fresh_postgres_url()
    try:
        _check(url)
    finally:
        engine = create_engine(require_postgres())
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        engine.dispose()
