"""The stage comparison: items paired by key or by the office, worded-differently pairs told to
the reader, branches left out with the reason, the comparison's exports, and the pairing rules.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import AuditEntry, SurveyState
from survey.refusals import Conflict, Invalid
from survey.services.comparison import stage_comparison
from survey.services.exports.comparison import write_comparison_csv, write_comparison_xlsx
from survey.services.item_pairs import item_pairs, pair_item
from tests.conftest import add_responses


@pytest.fixture
def stages(make_branch, make_survey):
    """Two closed stages of one campaign. Before: q1 50% and q2 90% favourable in b01 and b02;
    b03 has 3 respondents (hidden), so b04, the smallest other branch, is hidden with it. After:
    q1 95%, q2 25% in b01; b02 has no responses; b03 and b04 have 20 each."""
    before = make_survey("pingyi", items=2, state=SurveyState.CLOSED)
    after = make_survey("manyi", items=2, state=SurveyState.CLOSED)
    names = (("b01", "甲"), ("b02", "乙"), ("b03", "丙"), ("b04", "丁"))
    b01, b02, b03, b04 = (make_branch(c, n) for c, n in names)
    per_before = {"q1": {"good": 10, "poor": 10}, "q2": {"good": 18, "poor": 2}}
    per_after = {"q1": {"good": 19, "poor": 1}, "q2": {"good": 5, "poor": 15}}
    add_responses(before, b01, {}, per_item=per_before)
    add_responses(before, b02, {}, per_item=per_before)
    add_responses(before, b03, {"good": 3})
    add_responses(before, b04, {"good": 6})
    add_responses(after, b01, {}, per_item=per_after)
    add_responses(after, b03, {"good": 20})
    add_responses(after, b04, {"good": 20})
    return before, after


def test_items_pair_by_key_and_say_when_the_wording_differs(stages):
    before, after = stages
    after.items[1].text = "第2題（改寫）"
    db.session.commit()
    view = stage_comparison(before, after)
    assert [(p.key, p.earlier_key, p.is_explicit) for p in view.pairs] == [
        ("q1", "q1", False),
        ("q2", "q2", False),
    ]
    assert [p.wording_differs for p in view.pairs] == [False, True]
    # "第2題" and "第 2 題" are the same words: spaces do not make a different question.
    after.items[1].text = "第 2 題"
    db.session.commit()
    assert not stage_comparison(before, after).pairs[1].wording_differs


def test_an_explicit_pairing_overrides_the_keys(stages, make_user):
    before, after = stages
    office = make_user("office")
    # The later q1 asks what the earlier q2 asked: compare them, and leave q2 unpaired.
    pair_item(office, after.items[0], before.items[1])
    view = stage_comparison(before, after)
    assert [(p.key, p.earlier_key, p.is_explicit) for p in view.pairs] == [("q1", "q2", True)]
    b01 = next(c for c in view.changes if c.code == "b01")
    # b01: q2 before 18/20 = 90%, q1 after 19/20 = 95%.
    assert b01.before.favourable_rate == pytest.approx(0.9)
    assert b01.after.favourable_rate == pytest.approx(0.95)
    assert b01.change.diff == pytest.approx(0.05)
    assert {c.pair.key for c in view.changes} == {"q1"}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "item.pair")).one()
    assert entry.detail == "survey=manyi item=q1 from=key to=pingyi:q2"
    assert entry.username == "office"
    # Back to pairing by key.
    pair_item(office, after.items[0], None)
    assert [(p.key, p.earlier_key) for p in item_pairs(after, before)] == [
        ("q1", "q1"),
        ("q2", "q2"),
    ]


def test_comparing_the_stages_the_other_way_round_pairs_the_same_items(stages, make_user):
    before, after = stages
    pair_item(make_user("office"), after.items[0], before.items[1])
    view = stage_comparison(after, before)
    assert [(p.key, p.earlier_key) for p in view.pairs] == [("q2", "q1")]
    b01 = next(c for c in view.changes if c.code == "b01")
    assert b01.change.diff == pytest.approx(-0.05)


def test_branches_left_out_are_listed_with_the_reason(stages):
    before, after = stages
    view = stage_comparison(before, after)
    reasons = {b.code: b.reason for b in view.left_out}
    assert set(reasons) == {"b02", "b03", "b04"}
    assert reasons["b02"] == "no responses in 測評 manyi"
    assert reasons["b03"] == (
        "hidden in 測評 pingyi: 3 respondents, fewer than the anonymity threshold of 5"
    )
    assert reasons["b04"] == (
        "hidden in 測評 pingyi (6 respondents) together with smaller branches, so that their "
        "answers cannot be worked out from the totals"
    )
    assert {c.code for c in view.changes} == {None, "b01"}


@pytest.mark.parametrize(
    ("which", "message", "refusal"),
    [
        ("same", "An item cannot be compared with an item of its own survey.", Invalid),
        ("later", "測評 manyi is not an earlier stage than 測評 pingyi", Invalid),
        ("campaign", "Only stages of the same campaign can be compared.", Invalid),
    ],
)
def test_pairing_refuses_items_it_cannot_compare(stages, make_survey, which, message, refusal):
    before, after = stages
    item, other = {
        "same": (after.items[0], after.items[1]),
        "later": (before.items[0], after.items[0]),
        "campaign": (after.items[0], make_survey("elsewhere", campaign="other").items[0]),
    }[which]
    with pytest.raises(refusal) as raised:
        pair_item(None, item, other)
    assert message in str(raised.value)
    assert item.compares_with_id is None


def test_one_earlier_item_is_paired_with_one_item_only(stages):
    before, after = stages
    pair_item(None, after.items[0], before.items[1])
    with pytest.raises(Conflict) as raised:
        pair_item(None, after.items[1], before.items[1])
    assert raised.value.status == 409
    assert "Item q1 is already compared with “第2題”" in str(raised.value)


def test_csv_and_xlsx_hold_the_page_rows_and_the_left_out_branches(stages):
    before, after = stages
    after.items[1].text = "第2題（改寫）"
    db.session.commit()
    view = stage_comparison(before, after)
    stream = io.BytesIO()
    write_comparison_csv(view, stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue().decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["Branch code", "Branch", "Item", "Earlier item", "Worded differently"]
    by_key = {(r[0], r[2]): r for r in body if r[2]}
    # b01 q1: 50.0% → 95.0%, +45.0 points, shown rounded as on the page.
    assert by_key[("b01", "第1題")][5:10] == ["20", "50.0", "20", "95.0", "45.0"]
    assert by_key[("b01", "第1題")][-1] == "improved"
    assert by_key[("b01", "第2題（改寫）")][4] == "yes"
    left = {r[0]: r[-1] for r in body if not r[2]}
    assert set(left) == {"b02", "b03", "b04"}
    assert left["b03"] == (
        "hidden in 測評 pingyi: 3 respondents, fewer than the anonymity threshold of 5"
    )

    stream = io.BytesIO()
    write_comparison_xlsx(view, stream)
    workbook = openpyxl.load_workbook(io.BytesIO(stream.getvalue()), read_only=True)
    changes, pairs, left_out = (list(s.iter_rows(values_only=True)) for s in workbook.worksheets)
    b01 = next(r for r in changes if r[0] == "b01" and r[2] == "第1題")
    assert b01[6] == pytest.approx(0.5) and b01[8] == pytest.approx(0.95)
    assert pairs[2][:4] == ("第2題（改寫）", "第2題", "same key", "yes")
    assert {r[0] for r in left_out[1:]} == {"b02", "b03", "b04"}


def test_the_demo_comparison_shows_changes_out_of_the_box(app):
    """``load-demo`` leaves a closed satisfaction stage answered online with codes for every
    branch, so comparing it with the evaluation shows changes, worded-differently pairs and the
    branches left out, with their reasons."""
    from survey.demo import EVALUATION, STAGE, load_demo
    from survey.models import AccessCode, Survey

    assert load_demo() is not None
    before = db.session.scalar(select(Survey).where(Survey.slug == EVALUATION))
    after = db.session.scalar(select(Survey).where(Survey.slug == STAGE))
    assert after.state is SurveyState.CLOSED
    coded = set(
        db.session.scalars(select(AccessCode.branch_id).where(AccessCode.survey_id == after.id))
    )
    assert len(coded) == 21, "codes for every branch"
    view = stage_comparison(before, after)
    assert len(view.pairs) == 6
    assert [p.wording_differs for p in view.pairs] == [True] * 5 + [False]
    compared = {c.code for c in view.changes if c.code}
    assert len(compared) == 18
    reasons = {b.code: b.reason for b in view.left_out}
    # b16 (3 answers) is hidden in the stage, so b04, its smallest other branch, is hidden too.
    assert set(reasons) == {"b04", "b16", "b21"}
    assert "together with smaller branches" in reasons["b04"]
    assert reasons["b21"].startswith("hidden in 分析評議階段測評表")
    assert "no responses in 整改提高階段羣眾滿意度測評表" in reasons["b21"]
    overall = [c for c in view.changes if c.code is None]
    assert len(overall) == 6 and any(c.change.change == "higher" for c in overall)
