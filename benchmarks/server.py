"""Start and stop gunicorn on a free loopback port, the way the README's production setup runs it.

The listening socket is opened here and handed to gunicorn as ``fd://N``: the port is known
before gunicorn starts (no race for a "free" port), and it survives a crash of the whole server
(``kill -9`` of the process group), so a restarted server answers on the same address while
clients queue in the backlog, as they would behind systemd socket activation.

Used by the benchmarks and, through ``tests/helpers/live_server.py``, by the live-server tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

#: The production default of the README: about two workers per core.
DEFAULT_WORKERS = 2 * (os.cpu_count() or 1)


def default_workers() -> int:
    """Gunicorn workers as the README recommends: 2 per core (``BENCH_WORKERS`` overrides)."""
    return int(os.environ.get("BENCH_WORKERS", DEFAULT_WORKERS))


def _listening_socket(host: str) -> socket.socket:
    """A TCP socket bound to a free port of ``host``, listening, inheritable by gunicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies awaiting their reaper do not)."""
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - not Linux
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may contain spaces, so split after its ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class GunicornServer:
    """One gunicorn master with ``workers`` sync workers serving ``app`` on a loopback port.

    ``start()`` waits until a worker answers; ``kill()`` sends SIGKILL to the whole process group
    (master and workers, a crash); ``stop()`` shuts down gracefully; ``start()`` again restarts on
    the same port. ``close()`` also releases the port.
    """

    def __init__(
        self,
        database_url: str,
        secret_key: str,
        *,
        workers: int | None = None,
        app: str = "wsgi:app",
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        host: str = "127.0.0.1",
        ready_path: str = "/",
        log_dir: Path | None = None,
        preload: bool = False,
    ):
        self.database_url = database_url
        self.secret_key = secret_key
        self.workers = workers or default_workers()
        self.app = app
        self.env = dict(env or {})
        self.extra_args = list(extra_args)
        self.ready_path = ready_path
        #: Import the app once in the master and fork the workers from it (faster start-up;
        #: Ceping opens no connection at import, so no connection is shared across the fork).
        self.preload = preload
        self._socket = _listening_socket(host)
        self.host, self.port = self._socket.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._log_dir = log_dir or Path(tempfile.mkdtemp(prefix="ceping-gunicorn-"))
        self.log_path = self._log_dir / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def command(self) -> list[str]:
        """The gunicorn command line (the README's, bound to the inherited socket)."""
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--bind",
            f"fd://{self._socket.fileno()}",
            "--graceful-timeout",
            "5",
            *(["--preload"] if self.preload else []),
            *self.extra_args,
            self.app,
        ]

    def start(self, timeout: float = 120.0) -> str:
        """Start gunicorn and wait until it answers HTTP; return the base URL."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the server is already running")
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": self.secret_key,
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(self._socket.fileno(),),
                start_new_session=True,  # its own process group: kill() reaches every worker
            )
        self.starts += 1
        self._wait_ready(timeout)
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        """Poll until a worker answers, the process dies, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                httpx.get(self.url + self.ready_path, timeout=min(5.0, timeout))
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            if self._booted_workers() >= self.workers:
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log_tail()}")

    def _booted_workers(self) -> int:
        """Workers gunicorn reports as booted in this run's part of the log."""
        text = self.log_path.read_text(errors="replace")
        runs = text.split("Starting gunicorn")
        return runs[-1].count("Booting worker with pid")

    def log_tail(self, lines: int = 40) -> str:
        """The end of gunicorn's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    @property
    def pgid(self) -> int | None:
        """The process group of the running server."""
        if self.process is None:
            return None
        return self.process.pid  # start_new_session makes the master its group leader

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (a crash), and reap the master."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._wait_group_gone()

    def stop(self, timeout: float = 10.0) -> None:
        """Shut gunicorn down gracefully (SIGTERM), killing it if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            self._wait_group_gone()
            return
        try:
            os.killpg(self.pgid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass
        self._wait_group_gone()

    def _wait_group_gone(self, timeout: float = 10.0) -> None:
        """Wait until no live process of the server's group is left (workers die with it)."""
        if self.pgid is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _group_alive(self.pgid):
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)

    def close(self) -> None:
        """Stop the server and release its port."""
        self.stop()
        self._socket.close()

    def __enter__(self) -> GunicornServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def serve(
    database_url: str,
    secret_key: str,
    *,
    workers: int | None = None,
    app: str = "wsgi:app",
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    ready_path: str = "/",
) -> Iterator[GunicornServer]:
    """Run gunicorn for the duration of a ``with`` block; yields the running server."""
    server = GunicornServer(
        database_url,
        secret_key,
        workers=workers,
        app=app,
        env=env,
        extra_args=extra_args,
        ready_path=ready_path,
    )
    try:
        server.start()
        yield server
    finally:
        server.close()
