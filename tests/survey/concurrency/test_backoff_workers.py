"""Back-off holds across gunicorn workers: counters live in the database, not in a worker.

A per-worker limiter with ``gunicorn -w 5`` would let five times the limit through. Here a live
server runs 3 workers; its access log (test only: worker pid, status, method
and path, nothing about the client) shows which worker answered each attempt. After the limit,
every further attempt is refused with 429 whichever worker answers, and no more attempts than
the limit got a real answer.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import httpx
import pytest

from survey.db import db
from survey.services.throttle import LOGIN
from tests.conftest import TEST_PASSWORD
from tests.helpers.live_server import TEST_SECRET_KEY, LiveServer

pytestmark = pytest.mark.slow

WORKERS = 3
ATTEMPTS = 30
#: The code-entry limit of the live server (``CEPING_CODE_ATTEMPTS``; 60 by default, for halls
#: behind one NAT address), lowered so that 30 guesses cross it.
CODE_LIMIT = 10
#: Well-formed codes that were never minted (and malformed ones: both are guesses).
WRONG_CODES = [f"ABCDE-FGHJK-{n:05d}".replace("0", "2").replace("1", "3") for n in range(20)] + [
    f"not a code {n}" for n in range(10)
]


@pytest.fixture
def server(app, database_url, tmp_path, make_user, make_branch, make_survey, mint):
    """A live server with 3 workers, an account and an open survey with one code."""
    make_user("office", password=TEST_PASSWORD)
    make_user("second", password=TEST_PASSWORD)
    survey = make_survey("backoff")
    mint(survey, make_branch("b1"), count=1)
    db.session.commit()  # hold no SQLite lock while the server writes
    log = tmp_path / "access.log"
    live = LiveServer(
        database_url,
        TEST_SECRET_KEY,
        workers=WORKERS,
        preload=True,
        env={"CEPING_CODE_ATTEMPTS": str(CODE_LIMIT)},
        extra_args=[
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(p)s %(s)s %(m)s %(U)s",
        ],
    )
    live.access_log = log
    try:
        live.start()
        yield live
    finally:
        live.close()


def _access_entries(log: Path, method: str, path: str) -> list[tuple[str, int]]:
    """(worker pid, status) of every logged request with this method and path, in order."""
    entries = []
    for line in log.read_text().splitlines():
        match = re.fullmatch(r"<(\d+)> (\d{3}) (\w+) (\S+)", line.strip())
        if match and match.group(3) == method and match.group(4) == path:
            entries.append((match.group(1), int(match.group(2))))
    return entries


def _client(base_url: str, source: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(
        base_url=base_url, transport=transport, headers={"Accept-Language": "en"}, timeout=30
    )


def _token(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert match, f"{path} carries no CSRF token"
    return match.group(1)


def _wait_for_log(log: Path, method: str, path: str, count: int) -> list[tuple[str, int]]:
    """The access log entries, once every worker has written its lines (or after a minute: a
    loaded machine may be slow to write them; the wait ends as soon as they are all there)."""
    deadline = time.monotonic() + 60
    while True:
        entries = _access_entries(log, method, path)
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)


def _wrong_codes_are_refused_after_the_limit_by_every_worker(server) -> None:
    with _client(server.url) as client:
        token = _token(client, "/")
        statuses = [
            client.post("/start", data={"csrf_token": token, "code": code}).status_code
            for code in WRONG_CODES[:ATTEMPTS]
        ]
        # While blocked, the refusal says to wait, and for how long.
        last = client.post("/start", data={"csrf_token": token, "code": WRONG_CODES[0]})
    # The guess that reaches the limit is itself refused, as with passwords.
    assert statuses[: CODE_LIMIT - 1] == [404] * (CODE_LIMIT - 1)
    assert statuses[CODE_LIMIT - 1 :] == [429] * (ATTEMPTS - CODE_LIMIT + 1)
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
    assert "Please wait" in last.text

    entries = _wait_for_log(server.access_log, "POST", "/start", ATTEMPTS + 1)
    assert [status for _pid, status in entries[:ATTEMPTS]] == statuses
    refusing_workers = {pid for pid, status in entries if status == 429}
    counting_workers = {pid for pid, status in entries if status == 404}
    # A per-worker counter would have let each worker answer up to the limit itself.
    assert len(refusing_workers) >= 2, entries
    assert len(refusing_workers | counting_workers) == WORKERS, entries


def _wrong_passwords_are_refused_after_the_limit_by_every_worker(server) -> None:
    with _client(server.url) as client:
        token = _token(client, "/login")
        statuses = [
            client.post(
                "/login",
                data={"csrf_token": token, "username": "office", "password": f"guess {n}"},
            ).status_code
            for n in range(ATTEMPTS)
        ]
        right = client.post(
            "/login", data={"csrf_token": token, "username": "office", "password": TEST_PASSWORD}
        )
    # The failure that reaches the limit already answers 429; so do all after it.
    assert statuses[: LOGIN.limit - 1] == [401] * (LOGIN.limit - 1)
    assert statuses[LOGIN.limit - 1 :] == [429] * (ATTEMPTS - LOGIN.limit + 1)
    # Even the right password waits out the block.
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 60

    entries = _wait_for_log(server.access_log, "POST", "/login", ATTEMPTS + 1)
    assert [status for _pid, status in entries[:ATTEMPTS]] == statuses
    assert len({pid for pid, status in entries if status == 429}) >= 2, entries


def _burst(base_url: str, source: str, path: str, forms: list[dict]) -> list[int]:
    """Send every form at once from ``source``, each on its own connection and thread."""
    with _client(base_url, source) as client:
        token = _token(client, "/" if path == "/start" else path)
        cookies = dict(client.cookies)
    barrier = Barrier(len(forms))

    def attempt(form: dict) -> int:
        with _client(base_url, source) as client:
            client.cookies.update(cookies)
            barrier.wait()
            return client.post(path, data={"csrf_token": token, **form}).status_code

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(attempt, forms))


def _concurrent_guesses_cannot_outrun_the_shared_counters(server) -> None:
    passwords = _burst(
        server.url,
        "127.0.0.2",
        "/login",
        [{"username": "second", "password": f"guess {n}"} for n in range(ATTEMPTS)],
    )
    # Counting and refusing happen in one locked update, so concurrency gains nothing.
    assert Counter(passwords) == Counter({401: LOGIN.limit - 1, 429: ATTEMPTS - LOGIN.limit + 1})

    codes = _burst(
        server.url, "127.0.0.3", "/start", [{"code": code} for code in WRONG_CODES[:ATTEMPTS]]
    )
    counted = Counter(codes)
    assert set(counted) <= {404, 429}, counted
    # Every failure is counted under a row lock and the one that reaches the limit answers 429,
    # so concurrent guesses learn no more than sequential ones. A per-worker counter would have
    # allowed WORKERS × limit.
    assert counted[404] == CODE_LIMIT - 1, counted


def test_backoff_holds_across_three_workers(server):
    """One server per backend (start-up is the slow part), three ways of guessing."""
    _wrong_codes_are_refused_after_the_limit_by_every_worker(server)
    _wrong_passwords_are_refused_after_the_limit_by_every_worker(server)
    _concurrent_guesses_cannot_outrun_the_shared_counters(server)
