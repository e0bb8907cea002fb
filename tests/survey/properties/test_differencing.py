"""Differencing: no two results Ceping shows for a survey differ by fewer than k people.

Hypothesis drives random sequences of web answers, paper ballots, mixes, closes, reopens,
tightened results settings and reports, on surveys whose results are live or shown after the
close. Every report that can be read is kept; then every pair of reports must differ, in every
cell (branch × category), every branch and overall, by 0 or by at least k respondents. The
counts compared are the ones reports are built from (the suppression rules then hide small
groups on top), so nothing a page, the API, a CLI report or an export shows can differ by less.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from survey.db import db
from survey.models import Branch, ResultsVisibility, SurveyState
from survey.services import ballot_box
from survey.services.definitions import apply_definition, definition_of
from survey.services.lifecycle import change_state
from survey.services.paper_ballots import Ballot, record_paper_ballots
from survey.services.report_counts import report_branches, survey_counts
from survey.services.responses import submit_with_code
from tests.helpers.results import report_dict

K = 3
#: (branch, category) cells: two branches × the two categories of ``make_survey``.
CELLS = [(b, c) for b in ("d1", "d2") for c in ("member", "public")]
CODES_PER_CELL = 14

ACTION = st.one_of(
    st.tuples(st.just("submit"), st.integers(0, len(CELLS) - 1)),
    st.tuples(st.just("submit"), st.integers(0, len(CELLS) - 1)),
    st.tuples(st.just("submit"), st.integers(0, len(CELLS) - 1)),
    st.tuples(st.just("paper"), st.integers(0, len(CELLS) - 1), st.integers(1, 4)),
    st.tuples(st.just("mix")),
    st.tuples(st.just("close")),
    st.tuples(st.just("reopen")),
    st.tuples(st.just("report")),
    st.tuples(st.just("report")),
    st.tuples(st.just("tighten")),
)


def _branches() -> dict[str, Branch]:
    """The two branches, created by the first example and reused by the others."""
    found = {
        b.code: b for b in db.session.scalars(select(Branch).where(Branch.code.in_(("d1", "d2"))))
    }
    for code in ("d1", "d2"):
        if code not in found:
            found[code] = Branch(code=code, name=f"Branch {code}")
            db.session.add(found[code])
    db.session.commit()
    return found


def _respondents(survey) -> np.ndarray:
    """Counted respondents per (branch, category) in the survey's branches' order."""
    counts = survey_counts(survey, report_branches(survey))
    return counts.respondents


def _check_pair(first: np.ndarray, second: np.ndarray) -> None:
    difference = second - first
    assert (difference >= 0).all(), "a count went down"
    levels = {
        "cell": difference.ravel().tolist(),
        "branch": difference.sum(axis=1).tolist(),
        "overall": [int(difference.sum())],
    }
    for level, values in levels.items():
        assert all(v == 0 or v >= K for v in values), (level, values, first, second)


@pytest.mark.parametrize("backend", ["sqlite"])  # one backend: the rule is the same code path
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(live=st.booleans(), actions=st.lists(ACTION, min_size=4, max_size=45))
def test_two_reports_differ_by_zero_or_at_least_k(app, make_survey, mint, live, actions):
    branches = _branches()
    survey = make_survey(
        f"p2-{uuid.uuid4().hex[:10]}",
        items=2,
        threshold=K,
        state=SurveyState.DRAFT,
        results=ResultsVisibility.LIVE if live else ResultsVisibility.AFTER_CLOSE,
    )
    codes = {(b, c): mint(survey, branches[b], CODES_PER_CELL, category=c) for b, c in CELLS}
    change_state(None, survey, "open")
    answers = {item.id: survey.options[index % 4].id for index, item in enumerate(survey.items)}
    reports: list[np.ndarray] = []
    sent = 0

    def read() -> None:
        db.session.expire_all()
        if survey.results_are_sealed:
            return
        report = report_dict(survey)
        counts = _respondents(survey)
        assert report["respondents"] == int(counts.sum())
        reports.append(counts)
        db.session.commit()

    for action, *args in actions:
        db.session.expire_all()
        if action == "submit" and survey.state is SurveyState.OPEN and codes[CELLS[args[0]]]:
            submit_with_code(codes[CELLS[args[0]]].pop(), answers, None)
            sent += 1
        elif action == "paper" and survey.state is not SurveyState.DRAFT:
            branch, category = CELLS[args[0]]
            ballot = Ballot(0, branches[branch].id, survey.category(category).id, answers, None)
            with db.transaction():
                record_paper_ballots(survey, [ballot] * args[1])
            ballot_box.mix_survey(survey)
            sent += args[1]
        elif action == "mix":
            ballot_box.mix_survey(survey)
        elif action == "close" and survey.state is SurveyState.OPEN:
            change_state(None, survey, "close")
        elif action == "reopen" and survey.state is SurveyState.CLOSED:
            change_state(None, survey, "reopen")
        elif action == "report":
            read()
        elif action == "tighten" and survey.results_visibility is ResultsVisibility.LIVE:
            tighter = dataclasses.replace(
                definition_of(survey), results=ResultsVisibility.AFTER_CLOSE
            )
            with db.transaction():
                apply_definition(tighter, "test")
    read()

    for first, second in itertools.combinations(reports, 2):
        _check_pair(first, second)
    # Nothing was lost on the way: every ballot sent is counted or still sealed.
    assert int(_respondents(survey).sum()) + ballot_box.waiting(survey) == sent
