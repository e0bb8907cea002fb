"""Export memory: peak RSS of an xlsx export of 200,000 responses, in a fresh child process.

A closed survey with 200,000 responses × 10 items over 1,000 branches (and 20,000 comments) is
written with bulk inserts. A child process (``python -m benchmarks.export_memory --child``)
then creates the app, exports the full workbook (every sheet, raw responses included) with
``survey.services.exports.export_file`` and reports its peak resident set size
(VmHWM, or ``ru_maxrss`` where /proc is missing) before and after the export. A fresh
process keeps the parent's data generation out of the figure.

Target: peak RSS below 300 MB.

    python -m benchmarks.export_memory [--responses N] [--database-url URL]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import build_survey, database, figure, make_app, make_branches

RESPONSES = 200_000
COMMENTS = 20_000
BRANCHES = 1_000
ITEMS = 10
TARGET_MB = 300.0
SLUG = "bench-export"
ROOT = Path(__file__).resolve().parent.parent


def _log(message: str) -> None:
    print(f"[export_memory] {message}", file=sys.stderr, flush=True)


def _peak_mb() -> float:
    """Peak RSS of this process in MB: VmHWM of /proc/self/status where there is one.

    On Linux, ``ru_maxrss`` of a process started with fork (or vfork) and exec also holds the
    parent's resident size at the fork (measured: a child of a 500 MB parent reports 514 MB,
    VmHWM 14 MB), which would blame the parent's data generation on the export. VmHWM is
    the high-water mark of this process's own memory. Elsewhere ``ru_maxrss`` (KiB) is used.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(database_url: str, slug: str) -> dict:
    """Export ``slug`` as xlsx in this process; returns sizes, time and peak RSS."""
    from sqlalchemy import select

    app = make_app(database_url)
    with app.app_context():
        from survey.db import db
        from survey.models import Survey
        from survey.services.exports import export_file

        survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
        before = _peak_mb()
        started = time.perf_counter()
        export = export_file(survey, "xlsx")
        seconds = time.perf_counter() - started
        export.stream.seek(0, os.SEEK_END)
        size = export.stream.tell()
        export.stream.close()
    return {
        "baseline_mb": round(before, 1),
        "peak_mb": round(_peak_mb(), 1),
        "seconds": round(seconds, 2),
        "bytes": size,
    }


def measure(database_url: str, responses: int, label: str) -> list[dict]:
    """Build the survey in ``database_url`` and export it in a child process."""
    app = make_app(database_url)
    with app.app_context():
        make_branches(BRANCHES)
        comments = int(COMMENTS * responses / RESPONSES)
        build_survey(SLUG, responses, items=ITEMS, comments=comments, progress=_log)
        from survey.db import db

        db.session.close()
        db.engine.dispose()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.export_memory", "--child", SLUG, database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"export child failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    peak = result["peak_mb"]
    print(
        f"export_memory ({label}): xlsx of {responses:,} responses × {ITEMS} items ×"
        f" {BRANCHES:,} branches ({result['bytes'] / 1e6:.1f} MB) in {result['seconds']:.1f} s;"
        f" child peak RSS {peak:.1f} MB (after start-up {result['baseline_mb']:.1f} MB)"
    )
    return [
        figure(
            f"peak RSS of an xlsx export, {responses:,} responses ({label})",
            peak,
            "MB",
            f"< {TARGET_MB:g} MB",
            peak < TARGET_MB,
        ),
        figure(
            f"xlsx export time, {responses:,} responses ({label})",
            result["seconds"],
            "s",
            "",
            None,
        ),
    ]


def run(scale: float = 1.0, database_url: str | None = None) -> list[dict]:
    """The export-memory benchmark on a temporary SQLite file (URL None) or on PostgreSQL."""
    responses = max(1_000, int(RESPONSES * scale))
    label = "PostgreSQL" if database_url else "SQLite"
    with database(database_url, prefix="bench_export") as url:
        return measure(url, responses, label)


def _main() -> None:
    import argparse

    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[3], sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=RESPONSES)
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server to use (a throw-away schema); default: a temporary SQLite file",
    )
    args = parser.parse_args()
    for row in run(args.responses / RESPONSES, args.database_url):
        print(row)


if __name__ == "__main__":
    _main()
