"""Turnout with paper forms: handed out against returned, per branch and per category."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from survey.db import db
from survey.models import AuditEntry, PaperHandout, Source
from survey.refusals import Invalid
from survey.services.paper_ballots import record_handouts
from survey.services.responses import submit_with_code
from survey.services.turnout import survey_turnout
from tests.helpers.dbstate import snapshot
from tests.helpers.results import record_response


def _answer(survey, branch, category: str, source: Source, count: int) -> None:
    item = survey.items[0]
    with db.transaction():
        for _n in range(count):
            chosen = {item.id: survey.options[0].id}
            record_response(survey, branch.id, survey.category(category).id, chosen, None, source)


@pytest.fixture
def campaign(make_survey, make_branch, mint):
    """b01: 4 codes for members (2 used), 10 member and 5 public forms handed out, 3 returned;
    b02: 2 paper ballots of the public, with no forms recorded as handed out."""
    survey = make_survey("paper", items=1)
    b01, b02 = make_branch("b01", "第一支部"), make_branch("b02", "第二支部")
    for code in mint(survey, b01, 4)[:2]:
        submit_with_code(code, {survey.items[0].id: survey.options[0].id}, None)
    _answer(survey, b01, "member", Source.PAPER, 2)
    _answer(survey, b01, "public", Source.PAPER, 1)
    _answer(survey, b02, "public", Source.PAPER, 2)
    member, public = survey.category("member").id, survey.category("public").id
    total = record_handouts(None, survey, {(b01.id, member): 10, (b01.id, public): 5})
    assert total == 15
    return survey, b01, b02


def test_turnout_counts_paper_forms_returned_against_handed_out(campaign):
    survey, _b01, _b02 = campaign
    result = survey_turnout(survey)
    rows = {row.code: row for row in result.branches}
    b01 = rows["b01"]
    assert (b01.codes_issued, b01.codes_used, b01.paper_handed_out, b01.paper_ballots) == (
        4,
        2,
        15,
        3,
    )
    assert b01.responses == 5
    assert b01.turnout_rate == pytest.approx((2 + 3) / (4 + 15))
    member, public = b01.categories
    assert (member.key, member.codes_issued, member.paper_handed_out, member.paper_ballots) == (
        "member",
        4,
        10,
        2,
    )
    assert member.turnout_rate == pytest.approx((2 + 2) / (4 + 10))
    assert public.turnout_rate == pytest.approx(1 / 5)
    # b02's paper came without a handout figure: counted as responses, left out of the rate.
    b02 = rows["b02"]
    assert (b02.paper_ballots, b02.paper_handed_out, b02.turnout_rate) == (2, 0, None)
    total = result.total
    assert (total.paper_handed_out, total.paper_ballots, total.responses) == (15, 5, 7)
    assert total.turnout_rate == pytest.approx(5 / 19)
    by_category = {c.key: c for c in total.categories}
    assert by_category["public"].paper_ballots == 3
    assert by_category["public"].turnout_rate == pytest.approx(1 / 5)
    assert result.as_dict()["total"]["categories"][1]["paper_handed_out"] == 5


def test_turnout_reads_counts_only(campaign):
    """A fixed number of grouped statements, whatever the number of responses."""
    survey, b01, _b02 = campaign
    statements = []

    def count(*_args):
        statements.append(1)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        survey_turnout(survey)
        first = len(statements)
        _answer(survey, b01, "member", Source.PAPER, 20)
        statements.clear()
        survey_turnout(survey)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == first <= 8


def test_handouts_are_changed_cleared_and_audited(campaign):
    survey, b01, _b02 = campaign
    member = survey.category("member").id
    assert record_handouts(None, survey, {(b01.id, member): 0}) == 5
    assert db.session.get(PaperHandout, (survey.id, b01.id, member)) is None
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "paper.handout").order_by(AuditEntry.id)
    ).all()[-1]
    assert entry.detail == "survey=paper forms=5"


@pytest.mark.parametrize("count", [-1, 100_001])
def test_impossible_handouts_are_refused(campaign, count):
    survey, b01, _b02 = campaign
    before = snapshot()
    with pytest.raises(Invalid, match="from 0 to 100000"):
        record_handouts(None, survey, {(b01.id, survey.category("member").id): count})
    with pytest.raises(Invalid, match="a branch and a category"):
        record_handouts(None, survey, {(b01.id, 9999): 3})
    assert snapshot() == before
