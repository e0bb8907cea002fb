"""One code, one response: many simultaneous submissions of one code store exactly one response.

Threads meet at a barrier and then submit together, in several trials, on SQLite and PostgreSQL.
A race test can pass by luck, so every trial uses a fresh code, and the tallies kept with each
response must still equal a recount from the answer rows afterwards.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable

from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    AccessCode,
    AnswerTally,
    RespondentTally,
    Survey,
    Throttle,
    TotalTally,
)
from survey.services import throttle
from survey.services.lifecycle import change_state
from survey.services.recount import rebuild_tallies
from survey.services.responses import CodeAlreadyUsed, submit_with_code
from tests.helpers.results import received

THREADS = 16
TRIALS = 4


def race(app, prepare: Callable[[], Callable[[], str]], threads: int = THREADS) -> Counter:
    """Run ``prepare()`` in each thread (own app context), then its action all at once."""
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with app.app_context():
            try:
                action = prepare()
                barrier.wait(timeout=60)
                outcome = action()
            except Exception as error:  # reported as an outcome, so the test shows it
                outcome = f"error: {error!r}"
        with lock:
            outcomes.append(outcome)

    db.session.commit()  # the test's own session must not hold SQLite's write lock
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in workers), "a submission hung"
    return Counter(outcomes)


def tallies(survey_id: int) -> dict[str, list[tuple]]:
    """Every tally row of a survey, sorted, read fresh from the database."""
    db.session.expire_all()
    result = {}
    for model in (AnswerTally, TotalTally, RespondentTally):
        table = model.__table__
        rows = db.session.execute(select(table).where(table.c.survey_id == survey_id)).all()
        result[table.name] = sorted(tuple(row) for row in rows)
    return result


def assert_tallies_match_a_recount(survey: Survey, responses: int) -> None:
    """The tallies kept during the race equal a recount, and count ``responses`` respondents."""
    kept = tallies(survey.id)
    rebuild_tallies(survey)
    db.session.commit()
    assert tallies(survey.id) == kept
    assert sum(row[-1] for row in kept["respondent_tally"]) == responses
    assert sum(row[-1] for row in kept["total_tally"]) == responses
    assert sum(row[-1] for row in kept["answer_tally"]) == responses * len(survey.items)


def used_codes() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AccessCode).where(AccessCode.is_used.is_(True))
    )


def responses() -> int:
    """Ballots received: counted, or waiting sealed in the ballot box."""
    return received()


def test_one_response_per_code_when_submitted_at_once(app, make_survey, make_branch, mint):
    survey = make_survey(items=3)
    codes = mint(survey, make_branch("b01"), TRIALS)
    answers = {item.id: survey.options[i % 4].id for i, item in enumerate(survey.items)}

    for trial, code in enumerate(codes, start=1):

        def prepare(code: str = code):
            def action() -> str:
                try:
                    submit_with_code(code, answers, None)
                except CodeAlreadyUsed:
                    return "refused"
                return "stored"

            return action

        outcomes = race(app, prepare)
        assert outcomes == Counter(stored=1, refused=THREADS - 1), f"trial {trial}"
        assert responses() == trial
        assert used_codes() == trial

    change_state(None, survey, "close")  # counts what still waits
    assert_tallies_match_a_recount(survey, TRIALS)


def test_one_response_per_code_through_the_web(app, make_survey, make_branch, mint):
    survey = make_survey(items=2)
    codes = mint(survey, make_branch("b01"), 2)

    for trial, code in enumerate(codes, start=1):

        def prepare(code: str = code):
            # Each thread is its own browser: its own client, session and CSRF token.
            client = app.test_client()
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
            page = client.get("/")
            token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
            data = {"csrf_token": token.group(1).decode(), "code": code.lower()}
            data.update({item.key: "good" for item in survey.items})

            def action() -> str:
                return str(client.post("/submit", data=data).status_code)

            return action

        outcomes = race(app, prepare)
        assert outcomes == Counter({"303": 1, "409": THREADS - 1}), f"trial {trial}"
        assert responses() == trial

    change_state(None, survey, "close")
    assert_tallies_match_a_recount(survey, len(codes))


def test_concurrent_failed_code_entries_are_all_counted(app):
    """Back-off counters live in the database, so simultaneous failures from several workers
    all count (and the first ones, racing to create the row, do not fail)."""
    key = throttle.key_for("code", "192.0.2.44")
    policy = throttle.CODE_ENTRY

    def prepare():
        def action() -> str:
            return "blocked" if throttle.record_failure(key, policy) else "counted"

        return action

    outcomes = race(app, prepare, threads=policy.limit + 2)
    assert outcomes == Counter(counted=policy.limit - 1, blocked=3)
    db.session.expire_all()
    assert (
        db.session.scalar(select(Throttle.failures).where(Throttle.key == key)) == policy.limit + 2
    )
    assert throttle.blocked_for(key) is not None
