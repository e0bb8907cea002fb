"""Report scaling: a report and its JSON on 1,000,000 responses × 10 items × 1,000 branches.

Two closed surveys over the same 1,000 branches and 10 items are written with bulk inserts
(``benchmarks.common.build_survey``): the large one (1,000,000 responses by default) and a small
one (10,000). Their tallies are counted by the set-based ``rebuild_tallies``. Then
the report is built and written as JSON (``build_report`` and ``report_text``, what the API
serves) three times on each, each time in a fresh session as a request would, and the medians
are compared. Reports read tallies, not answers, so the cost should follow branches × items, not
responses.

Targets: the large report in ≤ 1 s, and ≤ 2 × the small one.

    python -m benchmarks.report_scale [--responses N] [--database-url URL]
"""

from __future__ import annotations

import gc
import sys
import time

from sqlalchemy import select

from benchmarks.common import build_survey, database, figure, make_app, make_branches

#: Full-size figures: a large organisation's campaign.
RESPONSES = 1_000_000
SMALL_RESPONSES = 10_000
BRANCHES = 1_000
ITEMS = 10
#: Targets.
TARGET_SECONDS = 1.0
TARGET_RATIO = 2.0
REPEAT = 3


def _log(message: str) -> None:
    print(f"[report_scale] {message}", file=sys.stderr, flush=True)


def _time_report(slug: str) -> tuple[float, float, int]:
    """Median seconds of a report as the API serves it (``build_report`` and its JSON text
    together), and of the JSON step alone, over REPEAT fresh sessions."""
    from survey.db import db
    from survey.models import Survey
    from survey.services.report import build_report
    from survey.services.report_json import report_text

    report_times, dump_times = [], []
    size = 0
    for _ in range(REPEAT):
        db.session.close()
        # Start each run from a clean heap, as a request does: otherwise the previous run's
        # 10 MB report and its JSON are freed, and collected, inside the next run's timing.
        report = text = None
        gc.collect()
        started = time.perf_counter()
        survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
        report = build_report(survey)
        middle = time.perf_counter()
        text = report_text(report)
        ended = time.perf_counter()
        size = len(text)
        report_times.append(ended - started)
        dump_times.append(ended - middle)
        db.session.rollback()
    report_times.sort()
    dump_times.sort()
    return report_times[REPEAT // 2], dump_times[REPEAT // 2], size


def _phases(slug: str) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds of each step of one report: tally counts, ``analytics.analyse``,
    the typed report around it, and its JSON text. CPU time is the fairer figure on a shared
    machine (on SQLite the queries run in this process, so it includes them)."""
    from analytics import analyse
    from survey.db import db
    from survey.models import Survey
    from survey.services import report as service
    from survey.services.report_counts import report_branches, survey_counts
    from survey.services.report_json import report_text

    db.session.close()
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
    times: dict[str, tuple[float, float]] = {}

    def step(name, work):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    counts = step("counts", lambda: survey_counts(survey, report_branches(survey)))
    step("analyse", lambda: analyse(counts, service.CONFIDENCE))
    db.session.rollback()
    report = step("report", lambda: service.build_report(survey))
    step("json", lambda: report_text(report))
    db.session.rollback()
    return times


def _describe(times: dict[str, tuple[float, float]]) -> str:
    return ", ".join(
        f"{step} {wall:.3f} s (CPU {cpu:.3f} s)" for step, (wall, cpu) in times.items()
    )


def measure(database_url: str, responses: int, small: int, label: str) -> list[dict]:
    """Build both surveys in ``database_url`` and time their reports."""
    app = make_app(database_url)
    with app.app_context():
        make_branches(BRANCHES)
        big = build_survey("bench-large", responses, items=ITEMS, progress=_log)
        little = build_survey("bench-small", small, items=ITEMS, seed=7, progress=_log)
        large_seconds, large_dump, large_bytes = _time_report(big.slug)
        small_seconds, small_dump, _ = _time_report(little.slug)
        large_phases = _phases(big.slug)
        small_phases = _phases(little.slug)
    ratio = large_seconds / small_seconds
    print(
        f"report_scale ({label}): {responses:,} responses × {ITEMS} items × {BRANCHES:,} branches:"
        f" report with its JSON, median {large_seconds:.3f} s (the JSON {large_dump:.3f} s,"
        f" {large_bytes / 1e6:.1f} MB); {small:,} responses: {small_seconds:.3f} s;"
        f" ratio {ratio:.2f}; bulk insert {big.insert_seconds:.1f} s,"
        f" set-based rebuild_tallies {big.rebuild_seconds:.1f} s\n"
        f"  steps at {responses:,}: {_describe(large_phases)}\n"
        f"  steps at {small:,}: {_describe(small_phases)}"
    )
    return [
        figure(
            f"report with its JSON, {responses:,} responses × {ITEMS} items × {BRANCHES:,}"
            f" branches ({label})",
            round(large_seconds, 3),
            "s",
            f"≤ {TARGET_SECONDS:g} s",
            large_seconds <= TARGET_SECONDS,
        ),
        figure(
            f"report time ratio, {responses:,} vs {small:,} responses ({label})",
            round(ratio, 2),
            "×",
            f"≤ {TARGET_RATIO:g}",
            ratio <= TARGET_RATIO,
        ),
        figure(
            f"set-based rebuild_tallies, {responses:,} responses ({label})",
            round(big.rebuild_seconds, 1),
            "s",
            "",
            None,
        ),
    ]


def run(scale: float = 1.0, database_url: str | None = None) -> list[dict]:
    """The report-scaling benchmark on a temporary SQLite file (URL None) or on PostgreSQL."""
    responses = max(1_000, int(RESPONSES * scale))
    small = min(SMALL_RESPONSES, responses)
    label = "PostgreSQL" if database_url else "SQLite"
    with database(database_url, prefix="bench_report") as url:
        return measure(url, responses, small, label)


def _main() -> None:
    import argparse

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
