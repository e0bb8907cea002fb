"""The floor: a bare Flask endpoint that inserts one row, served like Ceping.

Its throughput is the most this machine, gunicorn setup and database can give a web request that
writes: one HTTP request, one transaction, one INSERT, a tiny response. Ceping's submission
throughput is reported as a fraction of it. It uses Ceping's own engine settings
(``survey.db.make_engine``: WAL, busy timeout and ``BEGIN IMMEDIATE`` on SQLite; the same pool on
PostgreSQL), so the comparison measures Ceping's work per submission, not a different database
configuration.

Served by gunicorn as ``benchmarks.floor_app:app`` with ``FLOOR_DATABASE_URL`` set.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from survey.db import make_engine

metadata = MetaData()

#: One row per request; the payload stands in for a response's few columns.
floor_row = Table(
    "bench_floor_row",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)


def create_schema(database_url: str) -> None:
    """Create the floor table (empty) in ``database_url``."""
    engine = make_engine(database_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()


def count_rows(database_url: str) -> int:
    """How many rows the floor endpoint has inserted."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(floor_row)).scalar_one()
    engine.dispose()
    return count


def create_floor_app(database_url: str) -> Flask:
    """A Flask app with ``POST /insert`` (one row, one transaction) and ``GET /`` (readiness)."""
    app = Flask(__name__)
    engine = make_engine(database_url)

    @app.post("/insert")
    def insert_row():
        """Insert one row in its own transaction."""
        with engine.begin() as connection:
            connection.execute(
                insert(floor_row).values(id=secrets.token_hex(16), value=secrets.randbelow(4))
            )
        return "ok", 201

    @app.get("/")
    def ready():
        """Answer without touching the database (readiness probe)."""
        return "floor"

    return app


def _app_from_environment() -> Flask | None:
    url = os.environ.get("FLOOR_DATABASE_URL")
    return create_floor_app(url) if url else None


#: The WSGI app gunicorn serves (``benchmarks.floor_app:app``).
app = _app_from_environment()
