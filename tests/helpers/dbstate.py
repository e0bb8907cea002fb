"""A snapshot of every table, to prove that a refused command left the database unchanged."""

from __future__ import annotations

from sqlalchemy import select

from survey.db import db
from survey.models import Base


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order (ids included, so nothing may move)."""
    session = db.session
    session.expire_all()
    return {
        table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
        for table in Base.metadata.sorted_tables
    }
