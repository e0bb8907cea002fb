"""Database engine and per-request session, set up by ``db.init_app(app)``.

SQLite is tuned for many concurrent writers on one host: WAL journal, a busy timeout, and every
transaction begun with ``BEGIN IMMEDIATE``. Python's sqlite3 driver would otherwise start a
deferred transaction that fails with "database is locked" at once when it later tries to write,
without waiting out the busy timeout. The exceptions are explicit reads
that never write: :meth:`Database.begin_read` (the respondent path) and
:meth:`Database.reading` (exports), which begin deferred and take no lock.

What the storage engine keeps must not undo the ballot box (:mod:`survey.services.ballot_box`):
SQLite files are created readable by their owner only and run with ``secure_delete``, so a
counted ballot's sealed copy and an erased draft are overwritten with zeros rather than left in
free space; :meth:`Database.truncate_wal` empties the write-ahead log after a mix. Statement
parameters (a comment's text) never appear in an error message or log (``hide_parameters``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, before_render_template, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: Seconds a writer waits for the SQLite lock before giving up (a hall submitting at once
#: queues for it; a few seconds would turn a busy minute into errors).
SQLITE_BUSY_TIMEOUT = 15
#: Execution option of the read-only connections handed out by ``Database.reading``.
READ_ONLY_OPTION = "ceping_read_only"
#: Mode of the SQLite database file; SQLite gives its -wal and -shm files the same mode.
SQLITE_FILE_MODE = 0o600
#: First key of the PostgreSQL advisory locks that order submissions against state changes.
SURVEY_LOCK_CLASS = 0x63_65_70  # "cep"


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the connection settings Ceping relies on."""
    if url.startswith("sqlite"):
        _restrict_sqlite_files(url)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True
    )


def _restrict_sqlite_files(url: str) -> None:
    """Create the database file readable by its owner only, or make an existing one so.

    SQLite creates the -wal and -shm files with the mode of the database file, so this covers
    them too once they are next created; existing ones are restricted here as well.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, SQLITE_FILE_MODE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists():
            os.chmod(name, SQLITE_FILE_MODE)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """Take transaction control away from the driver; switch on WAL, foreign keys and
    ``secure_delete`` (deleted rows are overwritten, not left in free pages)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_on_begin(connection) -> None:
    """Start every transaction as a writer, so it queues on the busy timeout instead of failing.

    Connections from :meth:`Database.reading` begin a deferred transaction instead: a long
    read (an export) then holds a WAL snapshot and never the write lock.
    """
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The app's engine and a session per application context."""

    def init_app(self, app: Flask) -> None:
        """Create the engine for the app and close the session at the end of each request."""
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["ceping.db"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.teardown_appcontext(self._close_session)
        before_render_template.connect(self._end_read_transaction, app)

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return current_app.extensions["ceping.db"].kw["bind"]

    @property
    def session(self) -> Session:
        """The session of the current application context, created on first use."""
        if "db_session" not in g:
            g.db_session = current_app.extensions["ceping.db"]()
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    @staticmethod
    def _end_read_transaction(_app: Flask, **_extra) -> None:
        """Finish a read-only transaction before a page is rendered.

        On SQLite every transaction holds the write lock (``BEGIN IMMEDIATE``), so a view that
        only read must not keep it while its template renders. Lazy loads during rendering start
        short transactions of their own.
        """
        session = g.get("db_session")
        if (
            session is not None
            and session.in_transaction()
            and not (session.new or session.dirty or session.deleted)
        ):
            session.commit()

    def begin_read(self, *, then_write: bool = False) -> Session:
        """Begin the session's transaction as a read that takes no lock, and return the session.

        On SQLite an ordinary transaction begins IMMEDIATE and holds the write lock from its
        first statement, so every read queues behind every writer. The respondent path reads
        before it writes (the code, the survey, the back-off counter); begun here, those reads
        see a WAL snapshot instead and leave the lock to the writers. A later
        :meth:`transaction` ends such a read before it begins its own write. No-op when a
        transaction has already begun.

        On PostgreSQL, where reads never block writers, a read that may be followed by a write
        (``then_write``) is an ordinary transaction that the write continues (one connection
        check-out, one BEGIN); any other read runs in autocommit mode: no BEGIN and COMMIT
        round trips for a request that only reads.
        """
        session = self.session
        if not session.in_transaction():
            options: dict = {READ_ONLY_OPTION: True}
            if session.get_bind().dialect.name == "postgresql":
                options = {} if then_write else {**options, "isolation_level": "AUTOCOMMIT"}
            session.connection(execution_options=options)
        return session

    def _in_read(self, session: Session) -> bool:
        return session.in_transaction() and bool(
            session.connection().get_execution_options().get(READ_ONLY_OPTION)
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Run a block in one transaction: commit on success, roll back on any error.

        A read begun by :meth:`begin_read` is committed first, so the block writes in a
        transaction of its own (a deferred SQLite read cannot safely become a write).
        """
        session = self.session
        if self._in_read(session):
            session.commit()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A separate connection for a long read-only query, such as streaming an export.

        On SQLite its transaction is deferred, so it never blocks respondents' writes however
        long the reader takes (an ordinary transaction begins IMMEDIATE and holds the write
        lock until it ends). It sees the database as of its first read.
        """
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY_OPTION: True})
            try:
                yield connection
            finally:
                connection.rollback()

    def execute(self, statement, parameters=None):
        """Run a Core statement on the session's connection, in its transaction.

        The respondent path's statements go through here rather than ``Session.execute``: they
        involve no ORM objects, and skipping the ORM's execution layer saves about a tenth of a
        millisecond a statement, a few per submission.
        """
        return self.session.connection().execute(statement, parameters)

    @property
    def is_sqlite(self) -> bool:
        """Whether the current app stores its data in SQLite."""
        return self.engine.dialect.name == "sqlite"

    def lock_survey(self, survey_id: int, *, exclusive: bool = False) -> None:
        """Order this transaction against other writers of one survey's ballots (PostgreSQL).

        Submissions and mixes take the lock shared, so they never wait for each other; a state
        change (closing, going live) takes it exclusively, so it waits for the submissions in
        flight and no submission lands after a close has mixed the box. A transaction-level
        advisory lock writes nothing to the survey's row. On SQLite every write transaction is
        already exclusive (``BEGIN IMMEDIATE``), so there is nothing to do. The submission takes
        the same shared lock inside its first statement (:func:`survey_lock_condition`), which
        saves it a round trip.
        """
        session = self.session
        if session.get_bind().dialect.name != "postgresql":
            return
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(
            text(f"SELECT {function}(:kind, :survey)"),
            {"kind": SURVEY_LOCK_CLASS, "survey": survey_id},
        )

    @staticmethod
    def survey_lock_condition(survey_id):
        """A WHERE condition that takes :meth:`lock_survey`'s shared lock on PostgreSQL when it is
        evaluated (the function returns void, which is not NULL)."""
        return func.pg_advisory_xact_lock_shared(SURVEY_LOCK_CLASS, survey_id).is_not(None)

    def truncate_wal(self, *, wait: bool = False) -> bool:
        """Copy SQLite's write-ahead log into the database and empty it; True when done.

        Run after a mix: the log holds earlier versions of the pages a mix rewrote. A checkpoint
        that truncates must wait for every reader of the log; under load that could hold a
        worker for seconds, so unless ``wait`` it gives up at once and the next mix tries again
        (the log restarts from its beginning anyway once it is fully checkpointed). A no-op on
        PostgreSQL.
        """
        if not self.is_sqlite:
            return True
        with self.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            cursor = raw.cursor()
            try:
                if not wait:
                    cursor.execute("PRAGMA busy_timeout=0")
                busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
                cursor.close()
        return busy == 0


db = Database()
