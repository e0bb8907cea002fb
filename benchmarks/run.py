"""``make bench``: every benchmark, one table, and the results recorded in benchmarks/README.md.

Runs, on SQLite and (when a server is configured) on PostgreSQL:

1. the submission load (``submission_load``): 64 respondents at once through the whole path,
   against the floor of a bare one-row insert;
2. the duplicate storm (``duplicate_storm``): 50 codes × 4 clients at the same moment;
3. the report scaling (``report_scale``): a report on 1,000,000 responses;
4. the export memory (``export_memory``): an xlsx export of 200,000 responses.

PostgreSQL comes from ``--database-url``, ``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` (each
benchmark works in a throw-away schema); without one the PostgreSQL rows are marked skipped.
``--quick`` runs everything at a reduced size. The table is printed and written, with the machine
it ran on, between the ``results`` markers of ``benchmarks/README.md``.

    python -m benchmarks.run [--quick] [--database-url URL] [--workers W] [--only NAME …]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path

from benchmarks.server import default_workers

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
NO_POSTGRES = "no server: set BENCH_DATABASE_URL or TEST_DATABASE_URL"
START_MARKER = "<!-- results:start -->"
END_MARKER = "<!-- results:end -->"

#: name → (module, scale of a full run, scale of a quick run, whether it takes ``workers``).
BENCHMARKS = {
    "submission": ("benchmarks.submission_load", 1.0, 0.25, True),
    "storm": ("benchmarks.duplicate_storm", 1.0, 1.0, True),
    "box": ("benchmarks.ballot_box", 1.0, 0.25, False),
    "report": ("benchmarks.report_scale", 1.0, 0.05, False),
    "export": ("benchmarks.export_memory", 1.0, 0.1, False),
}


def postgres_url(explicit: str | None) -> str | None:
    """The PostgreSQL server to benchmark on, if any."""
    return (
        explicit
        or os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or None
    )


# -- the machine ----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    except OSError:
        return None
    return round(int(match.group(1)) / 1024 / 1024, 1) if match else None


def _postgres_version(url: str | None) -> str:
    if not url:
        return "not configured"
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
        return str(version)
    except Exception as error:  # noqa: BLE001 - reported in the table, never fatal
        return f"unreachable ({type(error).__name__})"


def _commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def machine(pg_url: str | None, workers: int) -> dict[str, str]:
    """Where and when the benchmarks ran."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{_ram_gib()} GiB",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": _postgres_version(pg_url),
        "gunicorn workers": str(workers),
        "load average at start": f"{load:.2f}",
        "commit": _commit(),
    }


# -- running --------------------------------------------------------------------------------


def _skipped(name: str, backend: str, reason: str) -> dict:
    return {
        "figure": f"{backend}: {name}",
        "value": "skipped",
        "unit": "",
        "target": reason,
        "passed": None,
    }


def _run_one(
    name: str, backend: str, call: Callable[[], list[dict]], log: Callable[[str], None]
) -> list[dict]:
    """Run one benchmark on one backend; an exception becomes a failed row, not a crash."""
    log(f"{name} on {backend} …")
    began = time.perf_counter()
    try:
        rows = call()
    except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
        traceback.print_exc()
        rows = [
            {
                "figure": f"{backend}: {name}",
                "value": f"error: {type(error).__name__}: {error}"[:160],
                "unit": "",
                "target": "runs",
                "passed": False,
            }
        ]
    log(f"{name} on {backend} took {time.perf_counter() - began:.0f} s")
    return rows


def run_all(
    *, quick: bool, pg_url: str | None, workers: int, only: list[str], log: Callable[[str], None]
) -> list[dict]:
    """Every selected benchmark on SQLite and on PostgreSQL (or skipped), in order."""
    rows: list[dict] = []
    for name in only:
        module_name, full, reduced, takes_workers = BENCHMARKS[name]
        scale = reduced if quick else full
        try:
            module = import_module(module_name)
        except ImportError as error:
            rows.append(_skipped(name, "both", f"module missing: {error}"))
            continue
        for backend, url in (("SQLite", None), ("PostgreSQL", pg_url)):
            if backend == "PostgreSQL" and not url:
                rows.append(
                    _skipped(
                        name, backend, "no server: set BENCH_DATABASE_URL or TEST_DATABASE_URL"
                    )
                )
                continue
            kwargs = {"workers": workers} if takes_workers else {}

            def call(module=module, scale=scale, url=url, kwargs=kwargs) -> list[dict]:
                return module.run(scale, url, **kwargs)

            rows += _run_one(name, backend, call, log)
    return rows


# -- reporting ------------------------------------------------------------------------------


def _verdict(passed: bool | None, value) -> str:
    if value == "skipped":
        return "skipped"
    if passed is None:
        return "—"
    return "pass" if passed else "FAIL"


def _value(row: dict) -> str:
    value = row["value"]
    if isinstance(value, float):
        value = f"{value:g}"
    unit = row.get("unit") or ""
    if unit in ("", "count", "ratio") or value == "skipped":
        return str(value)
    return f"{value} {unit}"


def table_rows(rows: list[dict]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, verdict) for each row."""
    return [
        (r["figure"], _value(r), str(r.get("target") or ""), _verdict(r.get("passed"), r["value"]))
        for r in rows
    ]


def text_table(rows: list[dict]) -> str:
    """The table as aligned plain text, for the terminal."""
    lines = [("figure", "value", "target", "pass/fail"), *table_rows(rows)]
    widths = [min(90, max(len(line[i]) for line in lines)) for i in range(4)]
    out = []
    for number, line in enumerate(lines):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def markdown(rows: list[dict], about: dict[str, str], quick: bool, seconds: float) -> str:
    """The results section of the README."""
    mode = "quick run (`--quick`, reduced sizes)" if quick else "full run"
    lines = [
        START_MARKER,
        f"Latest results: {mode}, {seconds / 60:.1f} minutes, `python -m benchmarks.run`.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in about.items()),
        "",
        "| figure | value | target | pass/fail |",
        "|---|---|---|---|",
        *(
            "| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |"
            for line in table_rows(rows)
        ),
        END_MARKER,
    ]
    return "\n".join(lines)


def record(readme: Path, section: str) -> None:
    """Replace the results section of ``readme`` (or append one when the markers are missing)."""
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if START_MARKER in text and END_MARKER in text:
        before = text[: text.index(START_MARKER)]
        after = text[text.index(END_MARKER) + len(END_MARKER) :]
        text = before + section + after
    else:
        text = text.rstrip() + "\n\n## Latest results\n\n" + section + "\n"
    readme.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, record it; exit 1 if a target was missed."""
    parser = argparse.ArgumentParser(description="Ceping benchmarks (make bench)")
    parser.add_argument("--quick", action="store_true", help="reduced sizes, a few minutes")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server (throw-away schemas)"
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (2 × cores)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--no-record", action="store_true", help="do not rewrite the README")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    pg_url = postgres_url(args.database_url)
    workers = args.workers or default_workers()
    about = machine(pg_url, workers)
    log(", ".join(f"{k}: {v}" for k, v in about.items()))
    began = time.perf_counter()
    rows = run_all(quick=args.quick, pg_url=pg_url, workers=workers, only=args.only, log=log)
    seconds = time.perf_counter() - began
    print(text_table(rows))
    print(f"\n{len(rows)} figures in {seconds / 60:.1f} minutes")
    if not args.no_record:
        record(README, markdown(rows, about, args.quick, seconds))
        log(f"results recorded in {README.relative_to(HERE.parent)}")
    return 1 if any(r.get("passed") is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
