"""A live gunicorn server for tests: the production server, on a free loopback port.

Plain use (the browser tests reuse this)::

    with live_server(database_url, SECRET_KEY, workers=2) as base_url:
        httpx.get(base_url + "/")

Tests that need to crash and restart the server, or read its log, use :class:`LiveServer`
(``benchmarks.server.GunicornServer``) directly: ``kill()`` sends SIGKILL to the master and every
worker at once, ``start()`` restarts on the same port, waiting up to :data:`START_TIMEOUT` for
it. The ``live_server_factory`` fixture starts servers and stops them all when the test ends,
whatever happened.

Tests start gunicorn with ``--preload`` by default: the app is imported once and the workers are
forked from it, which saves seconds per server on a busy 2-core machine; the workers are still
separate processes with separate memory. The benchmarks run without it, as the README does.

The test process must not hold a SQLite transaction open while the server runs: Ceping begins
every SQLite transaction with ``BEGIN IMMEDIATE``, so an open session in the test blocks every
writer of the server. Commit or close the test's session before requests are sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import pytest

from benchmarks.server import GunicornServer

#: How long a test waits for a started gunicorn to answer with every worker booted. A loaded CI
#: machine (load average 8 on 2 cores) takes many times the few seconds an idle one needs to
#: import the app and fork the workers; the wait ends as soon as the server answers, so only a
#: server that never comes up costs the whole time (one that exits fails at once, with its log).
START_TIMEOUT = 300.0


class LiveServer(GunicornServer):
    """:class:`benchmarks.server.GunicornServer` for tests (kill and restart it, read its log),
    with a start-up wait long enough for a loaded machine (:data:`START_TIMEOUT`)."""

    def start(self, timeout: float = START_TIMEOUT) -> str:
        """Start gunicorn and wait until it answers HTTP; return the base URL."""
        return super().start(timeout=timeout)


#: The secret key of the ``app`` fixture in tests/conftest.py; a live server must share it
#: when the test also signs sessions or computes throttle keys in-process.
TEST_SECRET_KEY = "test-secret-key-not-for-production"


@contextmanager
def live_server(
    database_url: str,
    secret_key: str = TEST_SECRET_KEY,
    *,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    preload: bool = True,
) -> Iterator[str]:
    """Serve ``wsgi:app`` with gunicorn on ``database_url``; yield the base URL, then stop."""
    server = LiveServer(
        database_url,
        secret_key,
        workers=workers,
        env=env,
        extra_args=extra_args,
        preload=preload,
    )
    try:
        server.start()
        yield server.url
    finally:
        server.close()


@pytest.fixture
def live_server_factory() -> Iterator[Callable[..., LiveServer]]:
    """Start live servers: ``factory(database_url, workers=3)``; all are stopped afterwards."""
    started: list[LiveServer] = []

    def factory(
        database_url: str,
        secret_key: str = TEST_SECRET_KEY,
        *,
        workers: int = 2,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        preload: bool = True,
    ) -> LiveServer:
        server = LiveServer(
            database_url,
            secret_key,
            workers=workers,
            env=env,
            extra_args=extra_args,
            preload=preload,
        )
        started.append(server)
        server.start()
        return server

    yield factory
    for server in started:
        server.close()
