"""Helpers shared by the report benchmarks: databases, a synthetic survey, result rows.

The synthetic survey is written with bulk inserts straight into the response and answer tables
(``executemany`` on SQLite, ``COPY`` on PostgreSQL), not through HTTP, and its tallies are then
counted by the set-based ``rebuild_tallies``, so a million responses take minutes, not hours.
"""

from __future__ import annotations

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

#: The four-level evaluation scale of the domain brief: key, label, weight, favourable.
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
def database(database_url: str | None, prefix: str = "bench") -> Iterator[str]:
    """A fresh, empty database with Ceping's schema: a temporary SQLite file when the URL is
    None, else a throw-away schema on that PostgreSQL server. Removed afterwards."""
    from survey.models import Base

    if database_url is None:
        directory = Path(tempfile.mkdtemp(prefix=f"ceping-{prefix}-"))
        url = f"sqlite:///{directory / 'ceping.sqlite3'}"
        try:
            engine = create_engine(url)
            Base.metadata.create_all(engine)
            engine.dispose()
            yield url
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in database_url else "?"
    url = f"{database_url}{separator}options=-csearch_path%3D{schema}"
    try:
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
    finally:
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


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
    categories split 60/40 and 3 % of items are skipped. Runs inside the app context.
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
    from survey.services.responses import rebuild_tallies

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
    ids = sorted(uuid.UUID(bytes=secrets.token_bytes(16)) for _ in range(responses))
    postgres = db.engine.dialect.name == "postgresql"
    started = time.perf_counter()
    today = date.today()
    connection = session.connection()
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
        response_rows = [
            (
                rid if postgres else rid.hex,
                survey.id,
                int(branch_ids[b]),
                int(category_ids[c]),
                today if postgres else today.isoformat(),
                "web",
                False,
            )
            for rid, b, c in zip(chunk, branch.tolist(), category.tolist(), strict=True)
        ]
        r_index, i_index = np.nonzero(answered)
        option_of = option_ids[chosen[r_index, i_index]].tolist()
        answer_rows = [
            (chunk[r] if postgres else chunk[r].hex, int(item_ids[i]), o)
            for r, i, o in zip(r_index.tolist(), i_index.tolist(), option_of, strict=True)
        ]
        _bulk(
            connection,
            postgres,
            "response",
            ("id", "survey_id", "branch_id", "category_id", "submitted_on", "source", "is_test"),
            response_rows,
        )
        _bulk(connection, postgres, "answer", ("response_id", "item_id", "option_id"), answer_rows)
        if progress:
            progress(f"{slug}: {start + size:,} of {responses:,} responses inserted")
    if comments:
        words = ["徵求意見廣泛", "談心活動深入", "整改措施落實", "領導帶頭作用", "服務基層羣眾"]
        comment_branches = rng.choice(branch_ids.size, size=comments, p=shares)
        rows = [
            (
                uuid.UUID(bytes=secrets.token_bytes(16)) if postgres else secrets.token_hex(16),
                survey.id,
                int(branch_ids[b]),
                "，".join(rng.choice(words, size=8).tolist()) + "。",
                False,
            )
            for b in comment_branches.tolist()
        ]
        _bulk(
            connection,
            postgres,
            "comment",
            ("id", "survey_id", "branch_id", "text", "is_test"),
            rows,
        )
    if postgres:
        # What autovacuum would do after a load this size; without it the planner assumes
        # an empty table.
        for table in ("response", "answer", "comment"):
            connection.exec_driver_sql(f"ANALYZE {table}")
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


def _bulk(connection, postgres: bool, table: str, columns: tuple[str, ...], rows: list) -> None:
    """Insert many rows at once: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    names = ", ".join(columns)
    if postgres:
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()
        return
    marks = ", ".join("?" * len(columns))
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


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
