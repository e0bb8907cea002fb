"""The session's transactions on SQLite: reads begun with ``begin_read`` never take the write
lock, and a write after such a read gets a transaction of its own."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey.db import db
from survey.models import Branch
from tests.helpers.sqlite_writer import write_from_elsewhere


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_read_begun_with_begin_read_leaves_the_lock_to_writers(app: Flask):
    with app.test_request_context():
        db.begin_read()
        assert db.session.scalar(select(func.count()).select_from(Branch)) == 0
        # The read is still open, yet another writer goes straight through.
        assert write_from_elsewhere(app, "during-read") == "written"
        db.session.rollback()

        db.session.scalar(select(func.count()).select_from(Branch))  # BEGIN IMMEDIATE
        assert write_from_elsewhere(app, "during-session") == "database is locked"
        db.session.rollback()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_write_after_a_read_that_went_stale_gets_its_own_transaction(app: Flask):
    """A deferred read whose snapshot another writer has moved past cannot be upgraded to a
    write (SQLite answers SQLITE_BUSY at once); ``transaction`` ends the read first."""
    with app.test_request_context():
        db.begin_read()
        assert db.session.scalar(select(func.count()).select_from(Branch)) == 0
        assert write_from_elsewhere(app, "meanwhile") == "written"
        with db.transaction() as session:
            session.add(Branch(code="after-read", name="after-read"))
        codes = db.session.scalars(select(Branch.code).order_by(Branch.code)).all()
        db.session.rollback()
    assert codes == ["after-read", "meanwhile"]


def test_begin_read_then_transaction_works_on_every_backend(app: Flask):
    with app.test_request_context():
        db.begin_read()
        db.session.scalar(select(func.count()).select_from(Branch))
        with db.transaction() as session:
            session.add(Branch(code="b1", name="b1"))
        assert db.session.scalar(select(func.count()).select_from(Branch)) == 1
        db.session.rollback()
