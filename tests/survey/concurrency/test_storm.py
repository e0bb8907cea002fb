"""Duplicate storm against a live gunicorn server: one code, four phones, one moment.

Each code is opened by 4 clients (all see the questionnaire, the code is still unused); they wait
for each other and submit at once. Exactly one answer per code may be stored; the other three
must get the clear "already used" page (409), never a 5xx or a dropped connection. Runs on SQLite
and PostgreSQL with 2 workers, in two rounds (a race test can pass by luck, so repeat it).
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from benchmarks.duplicate_storm import run_storm
from benchmarks.submission_load import stored_counts
from survey.db import db
from survey.models import Answer
from survey.services.lifecycle import change_state
from tests.helpers.live_server import live_server

pytestmark = pytest.mark.slow

CODES_PER_ROUND = 6
CLIENTS_PER_CODE = 4
ROUNDS = 2


def test_each_code_stores_one_answer_and_refuses_the_rest_clearly(
    app, database_url, make_branch, make_survey, mint
):
    survey = make_survey("storm", items=3)
    branches = [make_branch("b1"), make_branch("b2")]
    groups = [(branch, category) for branch in branches for category in ("member", "public")]
    codes: list[str] = []
    for branch, category in groups:
        codes += mint(
            survey, branch, count=ROUNDS * CODES_PER_ROUND // len(groups), category=category
        )
    db.session.commit()  # no transaction of ours may hold SQLite's lock while the server writes

    rounds = []
    with live_server(database_url, workers=2) as base_url:
        for number in range(ROUNDS):
            chosen = codes[number::ROUNDS]
            rounds.append(run_storm(base_url, chosen, CLIENTS_PER_CODE))

    for result in rounds:
        assert not result.errors, Counter(o.result for o in result.errors)
        for code, endings in result.per_code().items():
            assert endings == Counter(thanks=1, used=CLIENTS_PER_CODE - 1), code
        statuses = Counter(s for o in result.outcomes for s in o.statuses)
        assert not [s for s in statuses if s >= 500], statuses
        assert statuses[409] == CODES_PER_ROUND * (CLIENTS_PER_CODE - 1)

    counts = stored_counts(database_url)
    assert counts.total_responses == ROUNDS * CODES_PER_ROUND
    assert counts.total_used == ROUNDS * CODES_PER_ROUND
    assert not counts.mismatches()
    # Closing counts what still waits in the ballot box: every answer reaches the results once.
    change_state(None, survey, "close")
    counts = stored_counts(database_url)
    assert counts.total_sealed == 0 and not counts.mismatches()
    answers = db.session.scalar(select(func.count()).select_from(Answer))
    db.session.commit()
    assert answers == ROUNDS * CODES_PER_ROUND * 3
