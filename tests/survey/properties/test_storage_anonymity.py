"""Anonymity below the schema: attacks on what the storage engine keeps, run as a hostile insider.

The insider knows every code and who received it, and copies everything the server stores: the
SQLite file with its write-ahead log while the server runs (holding a reader open, so the log
keeps every commit), after a checkpoint and after the close; on PostgreSQL the tables with their
system columns and dead tuples (autovacuum off, ``pageinspect``). Ground-truth ballots, each with
a unique comment, go through the HTTP path of a gunicorn server.

Each attack first runs against a deliberately naive write path (``tests.helpers.naive_app``,
which counts a ballot in the transaction that uses its code) and must pair every code with its
comment there; then against Ceping, where every comment must hide among at least
min(k, people in its group) codes, and the physical order of rows must say no more than the
order of whole batches. The last test solves published statistics for hidden branches' answers.
"""

from __future__ import annotations

import random
import re
import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import create_engine, text

from analytics import chi_square, kruskal_wallis
from analytics.report import Scale, SurveyCounts, analyse
from survey.db import db
from survey.models import Survey, SurveyState
from survey.services.codes import code_hash
from survey.services.lifecycle import change_state
from tests.conftest import require_postgres
from tests.helpers import storage_attacks as attacks
from tests.helpers.live_server import TEST_SECRET_KEY, LiveServer
from tests.helpers.results import record_response, report_dict

pytestmark = pytest.mark.slow

#: The survey's threshold: the smallest the application allows.
K = 3
#: Ballots sent per (branch, category): one group gets several mixes while the survey is open,
#: the others are counted when it closes; b3's group is smaller than k.
GROUPS = {("b1", "member"): 13, ("b1", "public"): 8, ("b2", "member"): 4, ("b3", "member"): 2}
OPTIONS = ("good", "fairly_good", "average", "poor")
APPS = {"naive": "tests.helpers.naive_app:app", "ballot box": "wsgi:app"}


@dataclass(frozen=True)
class Sent:
    """One ground-truth ballot: the code's hash, its group, its comment and when it was sent."""

    code: str
    group: tuple[str, str]
    comment: str
    order: int


@pytest.fixture
def world(make_survey, make_branch, mint) -> tuple[Survey, list[tuple[str, tuple[str, str]]]]:
    """An open survey with k = 3 and codes for every group, in a shuffled sending order."""
    survey = make_survey("storage", items=3, threshold=K)
    branches = {code: make_branch(code) for code in ("b1", "b2", "b3")}
    codes = []
    for (branch, category), count in GROUPS.items():
        codes += [
            (code, (branch, category))
            for code in mint(survey, branches[branch], count, category=category)
        ]
    random.Random(20261201).shuffle(codes)
    db.session.commit()
    return survey, codes


def send(base_url: str, code: str, answers: dict[str, str], comment: str) -> None:
    """Answer with ``code`` the way a phone does: start page, code, questionnaire."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        page = client.get("/")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        assert client.post("/start", data={"csrf_token": token, "code": code}).status_code == 200
        done = client.post(
            "/submit", data={"csrf_token": token, "code": code, "comment": comment, **answers}
        )
        assert done.status_code == 303, done.text[:500]


def send_all(base_url: str, codes) -> list[Sent]:
    """Send one ballot per code, in order, each with a unique comment; the ground truth."""
    rng = random.Random(7)
    sent = []
    for order, (code, group) in enumerate(codes):
        comment = f"ballot-{order:03d}-{uuid.uuid4().hex[:8]}"
        answers = {f"q{i}": rng.choice(OPTIONS) for i in (1, 2, 3)}
        send(base_url, code, answers, comment)
        sent.append(Sent(code_hash(code), group, comment, order))
    return sent


def check_pairs_every_code(sets: dict[str, set[str]], sent: list[Sent]) -> None:
    """The attack on the naive design: every comment is pinned to exactly its own code."""
    assert {s.comment: sets.get(s.comment) for s in sent} == {s.comment: {s.code} for s in sent}


def check_hidden_among_k(
    sets: dict[str, set[str]], sent: list[Sent], *, counted: set[str] | None = None
) -> None:
    """Every counted comment hides among at least min(k, its group's size) codes, its own
    among them (else the attack would be broken, not defeated)."""
    sizes = Counter(s.group for s in sent)
    for ballot in sent:
        if counted is not None and ballot.comment not in counted:
            continue
        codes = sets.get(ballot.comment)
        assert codes, f"{ballot.comment} was counted but the attack found no code for it"
        assert ballot.code in codes, "the attack lost track of a comment: it proves nothing"
        assert len(codes) >= min(K, sizes[ballot.group]), (ballot, len(codes))


def check_order(order: list[str], commits: list[set[str]], sent: list[Sent], naive: bool) -> None:
    """Storage order: exactly the sending order in the naive design; in Ceping, groups of at
    least min(k, group size) rows written together, in an order unrelated to sending."""
    by_comment = {s.comment: s for s in sent}
    ordered = [c for c in order if c in by_comment]
    if naive:
        sending = sorted(ordered, key=lambda c: by_comment[c].order)
        assert attacks.within_batch_concordance(ordered, [sending]) == 1.0
        return
    sizes = Counter(s.group for s in sent)
    batches = []
    for written in commits:
        members = sorted(written & set(by_comment), key=lambda c: by_comment[c].order)
        if not members:
            continue
        smallest = min(sizes[by_comment[c].group] for c in members)
        assert len(members) >= min(K, smallest), members
        batches.append(members)
    assert sum(map(len, batches)) == len(sent)
    # Pairs inside batches: shuffled, so about half agree with the sending order. (With the
    # ~50 pairs here, a shuffled batch reaches 0.9 with a probability below 1e-6.)
    assert attacks.within_batch_concordance(ordered, batches) < 0.9


# --------------------------------------------------------------------------- SQLite


def _sqlite_path(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite:///"))


def _pin(path: Path) -> sqlite3.Connection:
    """A reader holding an old snapshot: no checkpoint can empty the log while it lives, so the
    copy of the log holds every commit made meanwhile (the strongest attacker)."""
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return reader


def _copy(path: Path) -> tuple[bytes, bytes]:
    wal = Path(f"{path}-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


def _commit_history(database: bytes, wal: bytes) -> list[attacks.State]:
    return [attacks.read_state(database)] + [
        attacks.read_state(image) for image in attacks.wal_states(database, wal)
    ]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("design", APPS)
def test_sqlite_wal_and_pages_pair_no_code_with_its_answer(
    app, database_url, world, design, monkeypatch
):
    survey, codes = world
    path = _sqlite_path(database_url)
    server = LiveServer(database_url, TEST_SECRET_KEY, workers=2, app=APPS[design])
    reader = _pin(path)
    try:
        server.start()
        sent = send_all(server.url, codes)
        during = _copy(path)  # while the server runs
        # The close counts every remainder (in this process, the server still running); with
        # the reader open, the log keeps every commit, and the copy after the close has them.
        monkeypatch.setattr(db, "truncate_wal", lambda **_: True)
        change_state(None, survey, "close")
        db.session.commit()
        after_close = _copy(path)
        monkeypatch.undo()
    finally:
        reader.rollback()
        reader.close()
        server.close()

    # Replaying the log commit by commit, while ballots are still coming in.
    history = _commit_history(*during)
    sets = attacks.anonymity_sets(attacks.trail_candidates(history))
    if design == "naive":
        check_pairs_every_code(sets, sent)
    else:
        counted = set(history[-1].comments)
        assert counted, "no batch was counted while the survey was open"
        assert len(counted) < len(sent), "some ballots should still wait in the box"
        check_hidden_among_k(sets, sent, counted=counted)

    # And after the close.
    history = _commit_history(*after_close)
    sets = attacks.anonymity_sets(attacks.trail_candidates(history))
    if design == "naive":
        check_pairs_every_code(sets, sent)
    else:
        check_hidden_among_k(sets, sent)
    commits = [
        set(now.comments - before.comments)
        for before, now in zip(history, history[1:], strict=False)
    ]

    # After a checkpoint only the database file is left; its pages keep an order of their own.
    assert db.truncate_wal(wait=True)
    database, wal = _copy(path)
    assert wal == b"", "the checkpoint should have emptied the log"
    positions = attacks.cell_order(database, [s.comment for s in sent])
    assert set(positions) == {s.comment for s in sent}, "every comment is in the file, in clear"
    check_order(attacks.offset_order(positions), commits, sent, design == "naive")


# --------------------------------------------------------------------------- PostgreSQL

_WATCHED = ("access_code", "sealed_ballot", "comment", "response", "answer")


def _ensure_pageinspect(url: str) -> None:
    """``pageinspect`` in the public schema (once per database; parallel workers may race)."""
    engine = create_engine(require_postgres())
    try:
        for _attempt in range(5):
            try:
                with engine.begin() as connection:
                    connection.execute(
                        text("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public")
                    )
                return
            except Exception:  # noqa: BLE001 - another worker created it at the same moment
                continue
    finally:
        engine.dispose()


def _autovacuum(url: str, enabled: bool) -> None:
    """Switch autovacuum on or off for the tables the attack reads (off: dead tuples stay)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in _WATCHED:
            connection.execute(
                text(f"ALTER TABLE {table} SET (autovacuum_enabled = {str(enabled).lower()})")
            )
    engine.dispose()


def _postgres_attack(url: str) -> tuple[dict[str, set[str]], list[str], list[set[str]]]:
    """Anonymity sets by transaction ids, comments in heap order, and comments by writer."""
    engine = create_engine(url)
    with engine.connect() as connection:
        sets = attacks.anonymity_sets(attacks.postgres_candidates(connection))
        order = attacks.postgres_heap_order(connection)
        writers: dict[str, set[str]] = {}
        for body, xid in connection.execute(text("SELECT text, xmin::text FROM comment")):
            writers.setdefault(xid, set()).add(body)
        connection.rollback()
    engine.dispose()
    return sets, order, list(writers.values())


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("design", APPS)
def test_postgres_xmin_and_ctid_pair_no_code_with_its_answer(app, database_url, world, design):
    survey, codes = world
    _ensure_pageinspect(database_url)
    _autovacuum(database_url, enabled=False)
    server = LiveServer(database_url, TEST_SECRET_KEY, workers=2, app=APPS[design])
    try:
        server.start()
        sent = send_all(server.url, codes)
        sets, _order, _writers = _postgres_attack(database_url)
        if design == "naive":
            check_pairs_every_code(sets, sent)
        else:
            counted = set(sets)
            assert counted and len(counted) < len(sent)
            check_hidden_among_k(sets, sent, counted=counted)

        change_state(None, survey, "close")
        db.session.commit()
        sets, order, writers = _postgres_attack(database_url)
        if design == "naive":
            check_pairs_every_code(sets, sent)
        else:
            check_hidden_among_k(sets, sent)
        check_order(order, writers, sent, design == "naive")
    finally:
        server.close()
        _autovacuum(database_url, enabled=True)


# --------------------------------------------------------------------------- statistics


HIDDEN = {"h1": 3, "h2": 6}  # 3 is below k = 5; 6 is hidden too, to keep the 3 from subtraction
SHOWN = {"s1": 30, "s2": 25, "s3": 20}


def _as_counts(table: np.ndarray, sizes: list[int], threshold: int) -> SurveyCounts:
    """A one-item, one-category survey of branches × options, as analytics takes it."""
    branches = len(sizes)
    return SurveyCounts(
        scale=Scale(OPTIONS, (100.0, 80.0, 60.0, 0.0), (True, True, False, False)),
        item_keys=("q1",),
        branch_keys=tuple(f"x{b}" for b in range(branches)),
        category_keys=("member",),
        category_weights=(None,),
        counts=table.reshape(branches, 1, 1, len(OPTIONS)),
        respondents=np.asarray(sizes, dtype=np.int64).reshape(branches, 1),
        threshold=threshold,
        complete_item_counts=np.zeros((1, len(OPTIONS)), dtype=np.int64),
        complete_total_values=np.zeros(0),
        complete_total_counts=np.zeros(0, dtype=np.int64),
    )


def _statistics(tests) -> tuple:
    return tuple(None if v is None else round(v, 9) for v in tests)


def test_published_tests_do_not_give_away_hidden_branches(make_survey, make_branch):
    """Knowing the shown branches' counts, the totals and the hidden branches' sizes, try every
    way the hidden branches could have answered against the published χ² and Kruskal–Wallis."""
    survey = make_survey("hidden", items=1, state=SurveyState.CLOSED, threshold=5)
    rng = np.random.default_rng(2005)
    truth = {}
    for code, size in {**SHOWN, **HIDDEN}.items():
        branch = make_branch(code)
        row = rng.multinomial(size, [0.5, 0.3, 0.15, 0.05])
        truth[code] = row
        chosen = [o for o, n in zip(survey.options, row, strict=True) for _ in range(n)]
        with db.transaction():
            for option in chosen:
                record_response(
                    survey,
                    branch.id,
                    survey.categories[0].id,
                    {survey.items[0].id: option.id},
                    None,
                )
    report = report_dict(survey)
    db.session.commit()
    by_code = {b["code"]: b for b in report["branches"]}
    assert {c for c, b in by_code.items() if b["suppressed"]} == set(HIDDEN)

    # What the report publishes, and what the attacker derives from it.
    shown = np.array([[by_code[c]["items"]["q1"]["counts"][o] for o in OPTIONS] for c in SHOWN])
    overall = np.array([report["overall"]["items"]["q1"]["counts"][o] for o in OPTIONS])
    hidden_total = overall - shown.sum(axis=0)
    sizes = [by_code[c]["respondents"] for c in HIDDEN]
    feasible = list(attacks.hidden_splits(hidden_total.tolist(), sizes))
    assert len(feasible) > 1
    real = tuple(tuple(truth[c].tolist()) for c in HIDDEN)
    assert real in feasible

    # The naive publication (tests over every branch) gives the hidden branches away.
    def naive(table: np.ndarray) -> tuple:
        return _statistics((chi_square(table).statistic, kruskal_wallis(table[:, ::-1]).statistic))

    everyone = np.vstack([shown, np.array(real)])
    found = attacks.consistent_splits(shown, hidden_total, sizes, naive, naive(everyone))
    assert found == [real], "the naive publication should pin the hidden answers down"

    # Ceping's publication: the tests are those the report shows; rerun its own analysis on every
    # hypothesis and compare. Every feasible split stays possible.
    published = report["tests"]["q1"]
    observed = _statistics((published["chi2"]["statistic"], published["kruskal"]["statistic"]))
    all_sizes = [*SHOWN.values(), *sizes]

    def ceping(table: np.ndarray) -> tuple:
        tests = analyse(_as_counts(table, all_sizes, 5)).tests["q1"]
        return _statistics((tests.chi2.statistic, tests.kruskal.statistic))

    found = attacks.consistent_splits(shown, hidden_total, sizes, ceping, observed)
    assert sorted(found) == sorted(feasible)
