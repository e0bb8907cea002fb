"""Helpers shared by the report benchmarks: databases, a synthetic survey, result rows.

The synthetic survey is written with bulk inserts straight into the response and answer tables
(an ``INSERT … SELECT`` a batch on SQLite, binary ``COPY`` on PostgreSQL), not through HTTP, and
its tallies are then counted by the set-based ``rebuild_tallies``, so a million responses take
about a minute, not hours.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from flask import Flask
from sqlalchemy import create_engine, select, text

#: The four-level evaluation scale (好 / 比較好 / 一般 / 差): key, label, weight, favourable.
FOUR_LEVEL = (
    ("good", "好", 100.0, True),
    ("fairly_good", "比較好", 80.0, True),
    ("average", "一般", 60.0, False),
    ("poor", "差", 0.0, False),
)
#: Respondent categories: key, label, share of respondents, weight in the composite.
CATEGORIES = (("member", "黨員", 0.6, 0.5), ("public", "羣眾", 0.4, 0.5))
#: Share of items a respondent leaves unanswered.
SKIP_RATE = 0.03
#: Rows per bulk insert.
BATCH = 50_000


def figure(name: str, value, unit: str, target: str, passed: bool | None) -> dict:
    """One row of the benchmark table (the format ``benchmarks.run`` collects)."""
    return {"figure": name, "value": value, "unit": unit, "target": target, "passed": passed}


@contextmanager
def postgres_schema(base_url: str, prefix: str = "bench") -> Iterator[str]:
    """A fresh PostgreSQL schema for one run; yields a URL whose search_path is that schema.
    The schema is dropped afterwards."""
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(base_url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        engine = create_engine(base_url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@contextmanager
def _sqlite_file(prefix: str) -> Iterator[str]:
    """A URL for a SQLite file in a temporary folder, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix=f"ceping-{prefix}-"))
    try:
        yield f"sqlite:///{directory / 'ceping.sqlite3'}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def database(database_url: str | None, prefix: str = "bench") -> Iterator[str]:
    """A fresh, empty database with Ceping's schema: a temporary SQLite file when the URL is
    None, else a throw-away schema on that PostgreSQL server. Removed afterwards."""
    from survey.models import Base

    place = _sqlite_file(prefix) if database_url is None else postgres_schema(database_url, prefix)
    with place as url:
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


def make_app(database_url: str) -> Flask:
    """A Ceping app on ``database_url`` (fixed secret key: nothing is signed that matters)."""
    from survey import create_app

    return create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "benchmark-only-" + secrets.token_hex(8)}
    )


def make_branches(count: int) -> None:
    """Create ``count`` active branches b0000, b0001, … (in the app context's session)."""
    from survey.db import db
    from survey.models import Branch

    with db.transaction() as session:
        session.add_all(Branch(code=f"b{n:04d}", name=f"第{n + 1}支部") for n in range(count))


@dataclass(frozen=True, slots=True)
class Built:
    """What :func:`build_survey` made and how long the steps took."""

    slug: str
    responses: int
    insert_seconds: float
    rebuild_seconds: float


def build_survey(
    slug: str,
    responses: int,
    *,
    items: int = 10,
    comments: int = 0,
    seed: int = 20050101,
    state: str = "closed",
    progress: Callable[[str], None] | None = None,
) -> Built:
    """A closed evaluation survey over every branch with ``responses`` synthetic responses.

    Branch sizes vary (gamma-distributed shares), each branch has its own answer profile,
    categories split 60/40 and 3 % of items are skipped. Everything but the ids follows from
    ``seed``; the ids are random 128-bit values, as the app's are. Runs inside the app context.

    The rows are drawn with numpy a batch at a time and written in id order, so that the
    primary keys grow at their right edge: on SQLite by an ``INSERT … SELECT`` a batch on the
    app's own connection and settings (see :class:`_SQLiteWriter`), on PostgreSQL by binary
    ``COPY`` of buffers laid out by numpy.

    On PostgreSQL, when the load at least doubles the tables, their foreign keys are dropped
    for it and added back with their names and definitions before the commit, as ``pg_restore``
    does: adding a key checks every row in one join, where checking row by row took ten times
    the load itself (a small load into big tables keeps its keys, as re-checking is then dearer).

    ``insert_seconds`` covers drawing the ids and the rows, writing them, ``ANALYZE`` and
    checking the keys; ``rebuild_seconds`` is the app's own ``rebuild_tallies``.
    """
    from survey.db import db
    from survey.models import (
        Branch,
        Campaign,
        Item,
        RespondentCategory,
        ScaleOption,
        Survey,
        SurveyKind,
        SurveyState,
    )
    from survey.services.recount import rebuild_tallies

    session = db.session
    with db.transaction():
        campaign = session.scalar(select(Campaign).where(Campaign.slug == "bench"))
        if campaign is None:
            campaign = Campaign(slug="bench", title="保持共產黨員先進性教育活動")
        survey = Survey(
            campaign=campaign,
            slug=slug,
            title=f"分析評議階段測評 ({responses:,})",
            kind=SurveyKind.EVALUATION,
            state=SurveyState(state),
            threshold=5,
            allows_comments=comments > 0,
        )
        survey.options = [
            ScaleOption(key=k, label=label, weight=w, is_favourable=f, position=i)
            for i, (k, label, w, f) in enumerate(FOUR_LEVEL)
        ]
        survey.categories = [
            RespondentCategory(key=k, label=label, weight=w, position=i)
            for i, (k, label, _share, w) in enumerate(CATEGORIES)
        ]
        survey.items = [
            Item(key=f"q{i + 1}", text=f"測評項目第{i + 1}項", position=i) for i in range(items)
        ]
        session.add(survey)
    branch_ids = np.array(session.scalars(select(Branch.id).order_by(Branch.code)).all())
    option_ids = np.array([o.id for o in survey.options])
    category_ids = np.array([c.id for c in survey.categories])
    item_ids = np.array([i.id for i in survey.items])

    rng = np.random.default_rng(seed)
    shares = rng.gamma(2.0, size=branch_ids.size)
    shares /= shares.sum()
    # Each branch favours the better options to its own degree.
    profiles = rng.dirichlet([4.0, 3.0, 2.0, 1.0], size=branch_ids.size)
    postgres = db.engine.dialect.name == "postgresql"
    started = time.perf_counter()
    ids = _random_ids(responses)
    connection = session.connection()
    writer = _PostgresWriter(connection, responses) if postgres else _SQLiteWriter(connection)
    with writer:
        for start in range(0, responses, BATCH):
            chunk = ids[start : start + BATCH]
            size = len(chunk)
            branch = rng.choice(branch_ids.size, size=size, p=shares)
            category = rng.choice(category_ids.size, size=size, p=[c[2] for c in CATEGORIES])
            cumulative = profiles[branch].cumsum(axis=1)
            draws = rng.random((size, item_ids.size))
            chosen = (draws[:, :, None] > cumulative[:, None, :]).sum(axis=2)
            chosen = np.minimum(chosen, option_ids.size - 1)
            answered = rng.random((size, item_ids.size)) >= SKIP_RATE
            # Row-major: a response's answers together, in item order, as the key sorts them.
            r_index, i_index = np.nonzero(answered)
            writer.responses(chunk, survey.id, branch_ids[branch], category_ids[category])
            writer.answers(chunk[r_index], item_ids[i_index], option_ids[chosen[r_index, i_index]])
            if progress:
                progress(f"{slug}: {start + size:,} of {responses:,} responses inserted")
        if comments:
            words = ["徵求意見廣泛", "談心活動深入", "整改措施落實", "領導帶頭作用", "服務基層羣眾"]
            comment_branches = rng.choice(branch_ids.size, size=comments, p=shares)
            texts = ["，".join(rng.choice(words, size=8).tolist()) + "。" for _ in range(comments)]
            writer.comments(_random_ids(comments), survey.id, branch_ids[comment_branches], texts)
    session.commit()
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    with db.transaction():
        rebuild_tallies(survey)
    rebuilt = time.perf_counter() - started
    if postgres:
        with db.transaction() as session:
            for table in ("answer_tally", "total_tally", "respondent_tally"):
                session.connection().exec_driver_sql(f"ANALYZE {table}")
    if progress:
        progress(f"{slug}: inserted in {inserted:.1f} s, tallies rebuilt in {rebuilt:.1f} s")
    return Built(slug, responses, inserted, rebuilt)


def _random_ids(count: int) -> np.ndarray:
    """``count`` random 128-bit ids as rows of 16 bytes, in the order both databases sort
    them (bytewise, which is also the order of their hex text)."""
    halves = np.frombuffer(secrets.token_bytes(16 * count), dtype=">u8").reshape(count, 2)
    halves = halves[np.lexsort((halves[:, 1], halves[:, 0]))]
    return halves.view(np.uint8).reshape(count, 16)


#: ASCII digits: ids are stored on SQLite as 32 lowercase hex digits (``uuid.UUID.hex``).
_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
#: Width of an integer spelled out in decimal digits for SQLite (any int32 fits).
_INT_WIDTH = 10


def _hex_digits(ids: np.ndarray) -> np.ndarray:
    """Rows of 16 bytes as rows of 32 ASCII lowercase hex digits."""
    digits = np.empty((len(ids), 32), dtype=np.uint8)
    digits[:, 0::2] = _DIGITS[ids >> 4]
    digits[:, 1::2] = _DIGITS[ids & 15]
    return digits


def _decimal_digits(values: np.ndarray) -> np.ndarray:
    """Non-negative integers as rows of ``_INT_WIDTH`` ASCII decimal digits, zero-padded."""
    powers = 10 ** np.arange(_INT_WIDTH - 1, -1, -1, dtype=np.int64)
    return _DIGITS[(values.astype(np.int64)[:, None] // powers) % 10]


class _SQLiteWriter:
    """One ``INSERT … SELECT`` a batch on the app's connection, with its settings (foreign keys
    on). The batch is bound as one blob of fixed-width ASCII records, which the ``SELECT`` cuts
    into rows with ``substr``: the same rows as ``executemany`` would insert, in the same order,
    but without a Python tuple per row (binding those cost more than SQLite spent storing them).
    """

    def __init__(self, connection) -> None:
        self.connection = connection
        self.today = date.today().isoformat()

    def __enter__(self) -> _SQLiteWriter:
        return self

    def __exit__(self, *_exc) -> None:
        pass

    def _insert(self, table: str, columns: dict[str, object]) -> None:
        """Insert one row per element of the numpy arrays in ``columns`` (ids as rows of 16
        bytes, stored as hex text; or integers); other values are the same in every row."""
        fields, selects, params, width = [], [], {}, 0
        for name, value in columns.items():
            if not isinstance(value, np.ndarray):
                params[name] = value
                selects.append(f":{name}")
                continue
            if value.ndim == 2:
                digits, kind = _hex_digits(value), "TEXT"
            else:
                digits, kind = _decimal_digits(value), "INTEGER"
            selects.append(f"CAST(substr(:rows, k + {width + 1}, {digits.shape[1]}) AS {kind})")
            fields.append(digits)
            width += digits.shape[1]
        records = np.concatenate(fields, axis=1)
        count = len(records)
        if not count:
            return
        params["rows"] = records.tobytes()
        # Record offsets from a square of two short counts (cheaper than a recursive CTE a row).
        side = math.isqrt(count - 1) + 1
        number = f"n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < {side - 1})"
        record = (
            f"record(k) AS (SELECT (hi.v * {side} + lo.v) * {width}"
            f" FROM n AS hi CROSS JOIN n AS lo WHERE hi.v * {side} + lo.v < {count})"
        )
        self.connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) WITH RECURSIVE {number}, {record}"
            f" SELECT {', '.join(selects)} FROM record",
            params,
        )

    def responses(self, ids, survey_id: int, branches, categories) -> None:
        columns = {
            "id": ids,
            "survey_id": survey_id,
            "branch_id": branches,
            "category_id": categories,
            "submitted_on": self.today,
            "source": "web",
            "is_test": False,
        }
        self._insert("response", columns)

    def answers(self, response_ids, items, options) -> None:
        self._insert(
            "answer", {"response_id": response_ids, "item_id": items, "option_id": options}
        )

    def comments(self, ids, survey_id: int, branches, texts: list[str]) -> None:
        # Texts vary in length: a tuple a row (there are few comments).
        hex_ids = _hex_digits(ids).view("S32").ravel().astype("U32").tolist()
        rows = [
            (rid, survey_id, branch, text_, False)
            for rid, branch, text_ in zip(hex_ids, branches.tolist(), texts, strict=True)
        ]
        self.connection.exec_driver_sql(
            "INSERT INTO comment (id, survey_id, branch_id, text, is_test) VALUES (?, ?, ?, ?, ?)",
            rows,
        )


#: Start and end of a binary COPY stream: signature, flags, header extension; field count -1.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"


class _PostgresWriter:
    """Binary ``COPY`` of buffers built by numpy; foreign keys dropped until the end of a
    load that at least doubles the tables."""

    TABLES = ("response", "answer", "comment")

    def __init__(self, connection, responses: int) -> None:
        self.cursor = connection.connection.driver_connection.cursor()
        self.responses_to_load = responses
        #: The binary format of a date: days since 2000-01-01.
        self.today = (date.today() - date(2000, 1, 1)).days
        self.keys: list[tuple[str, str, str]] = []

    def __enter__(self) -> _PostgresWriter:
        self.cursor.execute("SELECT count(*) FROM response")
        (existing,) = self.cursor.fetchone()
        if self.responses_to_load < existing:
            return self
        for table in self.TABLES:
            self.cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY conname",
                (table,),
            )
            self.keys += [(table, name, definition) for name, definition in self.cursor]
        for table, name, _definition in self.keys:
            self.cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        try:
            if exc_type is None:
                # What autovacuum would do after a load this size; without it the planner
                # assumes empty tables (also when checking the keys below).
                for table in self.TABLES:
                    self.cursor.execute(f"ANALYZE {table}")
                for table, name, definition in self.keys:
                    self.cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        finally:
            self.cursor.close()

    def _copy(self, table: str, columns: dict[str, np.ndarray]) -> None:
        """COPY one row per element of the arrays in ``columns``, all of one length, whose
        fixed-width items are already in PostgreSQL's binary format (big-endian)."""
        layout = [("fields", ">i2")]
        for n, array in enumerate(columns.values()):
            layout += [(f"length{n}", ">i4"), (f"value{n}", array.dtype)]
        rows = np.empty(len(next(iter(columns.values()))), dtype=layout)
        rows["fields"] = len(columns)
        for n, array in enumerate(columns.values()):
            rows[f"length{n}"] = array.dtype.itemsize
            rows[f"value{n}"] = array
        names = ", ".join(columns)
        with self.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_COPY_HEADER)
            copy.write(rows.data)
            copy.write(_COPY_TRAILER)

    def responses(self, ids, survey_id: int, branches, categories) -> None:
        count = len(ids)
        columns = {
            "id": ids.view("V16").ravel(),
            "survey_id": np.full(count, survey_id, ">i4"),
            "branch_id": branches.astype(">i4"),
            "category_id": categories.astype(">i4"),
            "submitted_on": np.full(count, self.today, ">i4"),
            "source": np.full(count, b"web", "S3"),
            "is_test": np.zeros(count, "?"),
        }
        self._copy("response", columns)

    def answers(self, response_ids, items, options) -> None:
        columns = {
            "response_id": response_ids.view("V16").ravel(),
            "item_id": items.astype(">i4"),
            "option_id": options.astype(">i4"),
        }
        self._copy("answer", columns)

    def comments(self, ids, survey_id: int, branches, texts: list[str]) -> None:
        # Texts vary in length: row by row (there are few comments).
        names = "id, survey_id, branch_id, text, is_test"
        with self.cursor.copy(f"COPY comment ({names}) FROM STDIN") as copy:
            for raw, branch, text_ in zip(ids, branches.tolist(), texts, strict=True):
                copy.write_row((uuid.UUID(bytes=raw.tobytes()), survey_id, branch, text_, False))


def median_seconds(action: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of ``repeat`` runs of ``action``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_coroutine(coroutine):
    """Run a coroutine to completion in a thread of its own, so that it works even where an
    event loop already runs in this thread (Playwright's, in a test worker that ran browser
    tests), which ``asyncio.run`` refuses."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
