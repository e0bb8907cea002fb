"""`init-db` builds the schema the models describe, through Alembic, and is harmless to repeat."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from survey import create_app
from survey.db import db
from survey.models import Base
from tests.conftest import require_postgres, worker_schema

#: The migration check's own schema, named after this test process, so that two suites running
#: at once on one server never drop each other's.
MIGRATION_SCHEMA = f"migration_{worker_schema()}"


def _fresh_postgres_url() -> str:
    """A PostgreSQL URL on an empty schema of its own."""
    base = require_postgres()
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {MIGRATION_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {MIGRATION_SCHEMA}"))
    engine.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{MIGRATION_SCHEMA}"


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
            connection.execute(text(f"DROP SCHEMA IF EXISTS {MIGRATION_SCHEMA} CASCADE"))
        engine.dispose()


def test_the_ballot_box_migration_keeps_and_seals_what_exists(tmp_path):
    """Upgrading a database of the previous revision with data in it: nothing is lost, a threshold
    below 3 is raised to 3, closed surveys count as published, and a paper draft kept in clear
    comes out sealed and readable."""
    from alembic import command

    from survey import migrations
    from survey.services.ballot_drafts import payload

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "migration-key", "TESTING": True})
    draft = '{"origin": "grid", "source": "keyed", "first": [{"branch": "b01"}], "second": null}'
    with app.app_context():
        with db.engine.begin() as connection:
            command.upgrade(migrations.alembic_config(db.engine, connection), "b7d2c41e9a10")
            connection.execute(
                text(
                    "INSERT INTO campaign (id, slug, title, created_on) "
                    "VALUES (1, 'c', 'C', '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO survey (id, campaign_id, slug, title, kind, state, access, "
                    "threshold, results_visibility, allows_comments, comment_max_length, "
                    "min_rank_respondents, is_test_mode) VALUES "
                    "(1, 1, 'old', 'Old', 'evaluation', 'closed', 'codes', 1, 'after_close', "
                    "0, 2000, 30, 0)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO ballot_draft (id, survey_id, payload, created_at) "
                    "VALUES (1, 1, :payload, '2026-01-01 10:00:00')"
                ),
                {"payload": draft},
            )
            connection.execute(
                text(
                    "INSERT INTO item (id, survey_id, key, text, position) "
                    "VALUES (1, 1, 'q1', 'Q', 0)"
                )
            )
        migrations.upgrade(db.engine)
        # Rebuilding the survey table must not cascade into the tables that refer to it.
        assert db.session.execute(text("SELECT key FROM item")).scalars().all() == ["q1"]
        row = db.session.execute(text("SELECT threshold, is_published FROM survey")).one()
        assert tuple(row) == (3, 1)
        from survey.models import BallotDraft

        stored = db.session.get(BallotDraft, 1)
        assert b"b01" not in stored.sealed_payload
        assert payload(stored)["first"] == [{"branch": "b01"}]
        db.session.close()
        db.engine.dispose()
