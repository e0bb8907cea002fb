"""The stage comparison in the browser's pages: pairs worded differently are flagged next to the
item, left-out branches are listed with the reason, the comparison downloads as CSV and xlsx,
and the office pairs items explicitly on the campaign's pairing page."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import AuditEntry, Item, SurveyState
from tests.conftest import add_responses
from tests.helpers.web import token

COMPARE = "/results/campaigns/xjx/compare?a=pingyi&b=manyi"


@pytest.fixture
def stages(make_branch, make_survey):
    """Two closed stages; the later q2 is worded differently; b03 is hidden in the first."""
    before = make_survey("pingyi", items=2, state=SurveyState.CLOSED)
    after = make_survey("manyi", items=2, state=SurveyState.CLOSED)
    after.items[1].text = "第2題（改寫）"
    b01, b02, b03, b04 = (make_branch(f"b0{i}", name) for i, name in enumerate("甲乙丙丁", 1))
    for survey, good in ((before, 10), (after, 18)):
        add_responses(survey, b01, {"good": good, "poor": 20 - good})
        add_responses(survey, b02, {"good": 15, "poor": 5})
        add_responses(survey, b04, {"good": 12, "poor": 8})
    add_responses(before, b03, {"good": 3})
    add_responses(after, b03, {"good": 20})
    return before, after


def read(response) -> str:
    """A page's text with HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def test_compare_page_flags_rewording_and_lists_left_out_branches(admin, stages):
    page = read(admin.get(COMPARE + "&item=q2"))
    assert "Items compared" in page
    assert page.count("Worded differently.") == 1
    assert "第2題（改寫）" in page
    assert "The two stages asked this in different words (before: “第2題”)" in page
    assert "Branches left out of the comparison" in page
    assert (
        "丙: hidden in 測評 pingyi: 3 respondents, fewer than the anonymity threshold of 5" in page
    )
    assert 'href="/results/campaigns/xjx/compare.csv?a=pingyi&amp;b=manyi"' in (
        admin.get(COMPARE).get_data(as_text=True)
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_comparison_downloads_and_is_audited(admin, stages, fmt):
    response = admin.get(f"/results/campaigns/xjx/compare.{fmt}?a=pingyi&b=manyi")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "pingyi-manyi-comparison" in response.headers["Content-Disposition"]
    body = response.get_data()
    response.close()
    if fmt == "csv":
        text = body.decode("utf-8-sig")
        assert "甲" in text and "improved" in text
    else:
        assert body[:2] == b"PK"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "report.export")).one()
    assert entry.detail == f"survey=manyi format={fmt} compare=pingyi"
    assert admin.get("/results/campaigns/xjx/compare.pdf?a=pingyi&b=manyi").status_code == 404


def test_office_pairs_an_item_and_the_comparison_follows(admin, stages):
    before, after = stages
    campaign_id = after.campaign_id
    page = read(admin.get(f"/manage/campaigns/{campaign_id}/pairing"))
    assert "Items compared between stages" in page
    assert "測評 pingyi · q2. 第2題" in page
    later_q1 = after.items[0]
    prefix = f"item-{later_q1.id}"
    response = admin.post(
        f"/manage/campaigns/{campaign_id}/pairing",
        data={
            "csrf_token": token(admin),
            f"{prefix}-earlier": str(before.items[1].id),
            f"{prefix}-submit": "Save",
        },
    )
    assert response.status_code == 302
    assert db.session.get(Item, later_q1.id).compares_with_id == before.items[1].id
    page = read(admin.get(COMPARE))
    assert "paired by the office" in page

    # An item of the same survey is refused next to the field, with nothing saved.
    response = admin.post(
        f"/manage/campaigns/{campaign_id}/pairing",
        data={
            "csrf_token": token(admin),
            f"{prefix}-earlier": str(after.items[1].id),
            f"{prefix}-submit": "Save",
        },
    )
    assert response.status_code == 422
    assert "Choose an item of an earlier stage of this campaign." in read(response)
    db.session.expire_all()
    assert db.session.get(Item, later_q1.id).compares_with_id == before.items[1].id
