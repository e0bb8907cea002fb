"""Batch numbers of paper drafts stay unique when several clerks save at the same moment.

Threads meet at a barrier and save a batch each, on SQLite and PostgreSQL, in several trials
(a race test can pass by luck). The unique constraint on (survey, number) would turn a lost race
into an error; the survey's lock makes every save succeed with the next number instead.
"""

from __future__ import annotations

from sqlalchemy import select

from survey.db import db
from survey.models import BallotDraft, Survey, User
from survey.services.ballot_drafts import GRID, create_draft
from tests.survey.concurrency.test_race import race

ROW = {"branch": "b01", "category": "member", "q1": "good", "q2": "", "q3": ""}
THREADS = 8
TRIALS = 3


def test_simultaneous_batches_get_consecutive_numbers(app, make_survey, make_branch, make_user):
    make_branch("b01")
    survey_id = make_survey("pingyi", items=3).id
    user_id = make_user("clerk").id

    def prepare():
        survey = db.session.get(Survey, survey_id)
        user = db.session.get(User, user_id)
        # SQLite's transactions hold the write lock: end this read before the barrier.
        db.session.commit()

        def action() -> str:
            return f"batch {create_draft(user, survey, [ROW], GRID, 'keyed').number}"

        return action

    for trial in range(TRIALS):
        outcomes = race(app, prepare, threads=THREADS)
        first = trial * THREADS + 1
        assert outcomes == {f"batch {n}": 1 for n in range(first, first + THREADS)}, outcomes
    db.session.expire_all()
    numbers = db.session.scalars(select(BallotDraft.number).order_by(BallotDraft.number)).all()
    assert numbers == list(range(1, TRIALS * THREADS + 1))
