"""A crash in the middle of a submission storm loses no acknowledged answer and splits no pair.

The server (gunicorn master and both workers) is killed with SIGKILL while respondents are
submitting, between submissions and the mixes of the ballot box, then restarted on the same
database. Afterwards:

* every submission that was answered with its 303 to the thank-you page is stored: its code is
  used, and its answers are in its branch and category, counted or still sealed in the box;
* no code is used without its answer and no answer exists without its code used: per branch
  and category, used codes = answers counted + answers sealed, and the turnout tally = answers
  counted;
* the answer tallies agree with the answer rows (nothing counted twice or lost from a tally);
* the restarted server serves the codes that were never used, and refuses the used ones with the
  already-used page;
* closing the survey then counts everything that waited: no sealed ballot is left behind.

Runs on SQLite (WAL) and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from benchmarks.common import run_coroutine
from benchmarks.submission_load import (
    CLIENT_ERRORS,
    Outcome,
    new_client,
    open_questionnaire,
    run_respondents,
    send_answers,
    stored_counts,
    used_code_hashes,
)
from survey.db import db
from survey.models import (
    Answer,
    AnswerTally,
    Branch,
    Item,
    RespondentCategory,
    Response,
    ScaleOption,
)
from survey.services.codes import code_hash
from survey.services.lifecycle import change_state
from tests.helpers.live_server import TEST_SECRET_KEY, LiveServer
from tests.helpers.results import sealed_ballots

pytestmark = pytest.mark.slow

CODES_PER_GROUP = 6
CONCURRENCY = 16
#: The server is killed once this many submissions have been acknowledged.
KILL_AFTER = 10


async def _storm_until_killed(
    server: LiveServer, codes: list[str], rng: random.Random
) -> list[Outcome]:
    """Submit codes ``CONCURRENCY`` at a time; SIGKILL the whole server mid-storm.

    Requests still waiting when the server dies are abandoned (their connections closed), as
    phones give up; none of them was acknowledged.
    """
    queue = list(reversed(codes))
    outcomes: list[Outcome] = []
    tasks: list[asyncio.Task] = []
    acknowledged = 0

    async def respondent() -> None:
        nonlocal acknowledged
        while queue:
            outcome = Outcome(code=queue.pop(), result="not started")
            outcomes.append(outcome)
            try:
                async with new_client(server.url, timeout=20.0) as client:
                    form = await open_questionnaire(client, outcome.code, outcome)
                    if form is not None:
                        await send_answers(client, form, rng, outcome)
            except CLIENT_ERRORS as error:
                outcome.result = type(error).__name__
            except asyncio.CancelledError:
                outcome.result = "abandoned"
                return
            if outcome.acknowledged:
                acknowledged += 1
                if acknowledged == KILL_AFTER:
                    # Blocking the loop during the kill is wanted: nothing else runs meanwhile.
                    server.kill()
                    for task in tasks:
                        if task is not asyncio.current_task():
                            task.cancel()
                    return

    tasks += [asyncio.create_task(respondent()) for _ in range(CONCURRENCY)]
    await asyncio.gather(*tasks, return_exceptions=True)
    return outcomes


def _counted_answer_cells() -> Counter:
    """Counted answers per (branch, category, item, option), from the answer rows."""
    rows = db.session.execute(
        select(Branch.code, RespondentCategory.key, Item.key, ScaleOption.key, func.count())
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .join(Branch, Branch.id == Response.branch_id)
        .join(RespondentCategory, RespondentCategory.id == Response.category_id)
        .join(Item, Item.id == Answer.item_id)
        .join(ScaleOption, ScaleOption.id == Answer.option_id)
        .group_by(Branch.code, RespondentCategory.key, Item.key, ScaleOption.key)
    )
    cells = Counter({tuple(row[:4]): row[4] for row in rows})
    db.session.commit()
    return cells


def _stored_answer_cells() -> Counter:
    """Stored answers per (branch, category, item, option): the counted ones, and those still
    sealed in the ballot box (opened with the server's key, which the test shares)."""
    cells = _counted_answer_cells()
    branches = dict(db.session.execute(select(Branch.id, Branch.code)).all())
    categories = dict(
        db.session.execute(select(RespondentCategory.id, RespondentCategory.key)).all()
    )
    items = dict(db.session.execute(select(Item.id, Item.key)).all())
    options = dict(db.session.execute(select(ScaleOption.id, ScaleOption.key)).all())
    for group, ballot in sealed_ballots():
        for item, option in ballot.answers.items():
            cell = (branches[group.branch_id], categories[group.category_id])
            cells[(*cell, items[item], options[option])] += 1
    db.session.commit()
    return cells


def _tallied_answer_cells() -> Counter:
    """The same counts as kept in ``answer_tally`` (complete and incomplete together)."""
    rows = db.session.execute(
        select(Branch.code, RespondentCategory.key, Item.key, ScaleOption.key)
        .add_columns(func.sum(AnswerTally.count))
        .select_from(AnswerTally)
        .join(Branch, Branch.id == AnswerTally.branch_id)
        .join(RespondentCategory, RespondentCategory.id == AnswerTally.category_id)
        .join(Item, Item.id == AnswerTally.item_id)
        .join(ScaleOption, ScaleOption.id == AnswerTally.option_id)
        .group_by(Branch.code, RespondentCategory.key, Item.key, ScaleOption.key)
    )
    cells = Counter({tuple(row[:4]): int(row[4]) for row in rows if row[4]})
    db.session.commit()
    return cells


def _check_consistency(database_url: str, outcomes: list[Outcome], group_of: dict) -> None:
    """Every acknowledged answer stored; codes, responses and tallies agree per group."""
    acknowledged = [o for o in outcomes if o.acknowledged]
    used = used_code_hashes(database_url)
    lost = [o.code for o in acknowledged if code_hash(o.code) not in used]
    assert not lost, f"acknowledged but not stored: {lost}"

    counts = stored_counts(database_url)
    assert not counts.mismatches(), counts.mismatches()
    assert counts.total_responses >= len(acknowledged)

    stored = _stored_answer_cells()
    acknowledged_cells = Counter()
    for outcome in acknowledged:
        branch, category = group_of[outcome.code]
        for name, value in outcome.sent.items():
            if name.startswith("q"):
                acknowledged_cells[(branch, category, name, value)] += 1
    missing = {cell: n for cell, n in acknowledged_cells.items() if stored[cell] < n}
    assert not missing, f"acknowledged answers missing from the answer rows: {missing}"
    assert _tallied_answer_cells() == _counted_answer_cells()


def test_kill_minus_nine_mid_storm_loses_no_acknowledged_answer(
    app, database_url, make_branch, make_survey, mint
):
    survey = make_survey("crash", items=3)
    group_of: dict[str, tuple[str, str]] = {}
    for branch in (make_branch("b1"), make_branch("b2"), make_branch("b3")):
        for category in ("member", "public"):
            for code in mint(survey, branch, count=CODES_PER_GROUP, category=category):
                group_of[code] = (branch.code, category)
    db.session.commit()  # hold no SQLite lock while the server writes
    codes = list(group_of)
    random.Random(11).shuffle(codes)
    rng = random.Random(5)

    server = LiveServer(database_url, TEST_SECRET_KEY, workers=2)
    try:
        server.start()
        outcomes = run_coroutine(_storm_until_killed(server, codes, rng))
        assert server.process.poll() is not None, "the server should have been killed"
        crashed_in_flight = [o for o in outcomes if not o.acknowledged and o.result != "used"]
        assert crashed_in_flight, "the kill should have interrupted submissions in flight"

        server.start()
        _check_consistency(database_url, outcomes, group_of)

        # After the restart every interrupted code either completes or is clearly refused as
        # used (its answer was committed just before the kill), and untouched codes work.
        tried = {o.code for o in outcomes}
        untouched = [c for c in codes if c not in tried][:6]
        retry = [o.code for o in crashed_in_flight] + untouched
        later, _seconds = run_coroutine(run_respondents(server.url, retry, concurrency=8))
    finally:
        server.close()

    endings = Counter(o.result for o in later)
    assert set(endings) <= {"thanks", "used"}, endings
    assert all(o.result == "thanks" for o in later if o.code in untouched)
    _check_consistency(database_url, outcomes + later, group_of)
    counts = stored_counts(database_url)
    assert counts.total_responses == counts.total_used
    assert counts.total_used >= sum(o.acknowledged for o in outcomes + later)

    # Closing counts every ballot that waited through the crash: none is left sealed.
    before = _stored_answer_cells()
    change_state(None, survey, "close")
    counts = stored_counts(database_url)
    assert counts.total_sealed == 0 and not counts.mismatches()
    assert _counted_answer_cells() == before == _tallied_answer_cells()
