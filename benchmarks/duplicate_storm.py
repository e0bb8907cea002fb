"""Duplicate storm: every code submitted by several clients at the same moment.

200 clients and 50 codes: the 4 clients holding one code each open the questionnaire with it
(the code is still unused, so all 4 get it), wait for each other, and send their answers at
once. Exactly one of the 4 may be stored; the other 3 must see the clear "already used" page
(409), never an error page, a 5xx or a dropped connection. Afterwards the database must hold
exactly one response per code and every code must be used, per branch and category.

``tests/survey/concurrency/test_storm.py`` runs the same storm at a smaller size against a live
server.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import postgres_schema, run_coroutine
from benchmarks.server import GunicornServer, default_workers
from benchmarks.submission_load import (
    CLIENT_ERRORS,
    Outcome,
    figure,
    new_client,
    open_questionnaire,
    seed,
    send_answers,
    sqlite_url,
    stored_counts,
)

#: Codes and clients per code in a full run.
CODES = 50
CLIENTS_PER_CODE = 4


@dataclass
class StormResult:
    """What the clients saw, what the database holds, and how long the storm took."""

    outcomes: list[Outcome]
    seconds: float

    @property
    def kinds(self) -> Counter:
        """How many clients ended in each way ("thanks", "used", or an error)."""
        return Counter(o.result for o in self.outcomes)

    def per_code(self) -> dict[str, Counter]:
        """For every code, how its clients ended."""
        table: dict[str, Counter] = {}
        for outcome in self.outcomes:
            table.setdefault(outcome.code, Counter())[outcome.result] += 1
        return table

    @property
    def errors(self) -> list[Outcome]:
        """Clients that got neither the thank-you page nor the already-used page."""
        return [o for o in self.outcomes if o.result not in ("thanks", "used")]


async def _client(
    base_url: str, code: str, barrier: asyncio.Barrier, rng: random.Random
) -> Outcome:
    """Open the questionnaire with ``code``, wait for the code's other clients, then submit."""
    outcome = Outcome(code=code, result="not started")
    began = time.perf_counter()
    questionnaire = None
    try:
        async with new_client(base_url) as client:
            try:
                questionnaire = await open_questionnaire(client, code, outcome)
            finally:
                # Always arrive, so one failed client cannot leave its siblings waiting forever.
                await barrier.wait()
            if questionnaire is not None:
                await send_answers(client, questionnaire, rng, outcome)
    except CLIENT_ERRORS as error:
        outcome.result = type(error).__name__
    outcome.path_seconds = time.perf_counter() - began
    return outcome


async def storm(base_url: str, codes: Sequence[str], clients_per_code: int) -> StormResult:
    """Run every code's clients at once, all codes together."""
    rng = random.Random(3)
    tasks = []
    for code in codes:
        barrier = asyncio.Barrier(clients_per_code)
        tasks += [_client(base_url, code, barrier, rng) for _ in range(clients_per_code)]
    began = time.perf_counter()
    outcomes = await asyncio.gather(*tasks)
    return StormResult(list(outcomes), time.perf_counter() - began)


def run_storm(base_url: str, codes: Sequence[str], clients_per_code: int) -> StormResult:
    """The storm from synchronous code (tests, the benchmark)."""
    return run_coroutine(storm(base_url, codes, clients_per_code))


def measure(
    database_url: str, *, label: str, workers: int, codes: int, clients_per_code: int
) -> list[dict]:
    """Seed, serve, storm and verify one backend; return its rows of the benchmark table."""
    secret = secrets.token_hex(32)
    minted = seed(database_url, secret, branches=5, codes_per_group=-(-codes // 10))
    chosen = [m.code for m in minted[:codes]]
    with GunicornServer(database_url, secret, workers=workers) as server:
        result = run_storm(server.url, chosen, clients_per_code)
    counts = stored_counts(database_url)
    kinds = result.kinds
    clients = codes * clients_per_code
    expected_refusals = clients - codes
    one_each = all(c["thanks"] == 1 for c in result.per_code().values())
    stored_ok = (
        counts.total_responses == codes == counts.total_used
        and not counts.mismatches()
        and one_each
    )
    error_note = ", ".join(f"{k}×{n}" for k, n in Counter(o.result for o in result.errors).items())
    return [
        figure(
            f"{label}: storm responses stored ({codes} codes × {clients_per_code} clients)",
            counts.total_responses,
            "count",
            f"= {codes}",
            stored_ok,
        ),
        figure(
            f"{label}: storm 409 already-used refusals",
            kinds["used"],
            "count",
            f"= {expected_refusals}",
            kinds["used"] == expected_refusals,
        ),
        figure(
            f"{label}: storm errors (5xx, other pages, connection)"
            + (f" ({error_note})" if error_note else ""),
            len(result.errors),
            "count",
            "0",
            not result.errors,
        ),
        figure(f"{label}: storm duration", round(result.seconds, 1), "s", "", None),
    ]


def run(
    scale: float = 1.0, database_url: str | None = None, workers: int | None = None
) -> list[dict]:
    """The duplicate storm on SQLite (``database_url`` None) or on that PostgreSQL server."""
    workers = workers or default_workers()
    codes = max(10, int(CODES * scale))
    if database_url is None:
        directory = Path(tempfile.mkdtemp(prefix="ceping-storm-"))
        try:
            return measure(
                sqlite_url(directory),
                label=f"SQLite, {workers} workers",
                workers=workers,
                codes=codes,
                clients_per_code=CLIENTS_PER_CODE,
            )
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    with postgres_schema(database_url, prefix="storm") as url:
        return measure(
            url,
            label=f"PostgreSQL, {workers} workers",
            workers=workers,
            codes=codes,
            clients_per_code=CLIENTS_PER_CODE,
        )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Duplicate storm")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    for row in run(arguments.scale, arguments.database_url):
        print(row)
