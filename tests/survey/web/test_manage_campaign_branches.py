"""A campaign's own branches: reports, turnout and codes list them; imports made for a new
campaign leave a closed campaign's report alone; minting is reload-safe and can be planned in
a file; slips start a new sheet for each branch."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import AuditEntry, Campaign, CodeBatch, SurveyState
from survey.services.codes import code_hash
from survey.services.report_counts import report_branches
from survey.services.turnout import survey_turnout
from tests.conftest import add_responses
from tests.helpers.dbstate import snapshot
from tests.helpers.web import token, token_in, xlsx_bytes

CODE = re.compile(r"[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}")


def _codes(page: str) -> list[str]:
    return re.findall(r'class="slip-code" lang="en">([^<]+)<', page)


def _import(client, csv_text: str, campaign_id: int | None = None):
    """Upload a branch file (for a campaign, or from the branches page) and confirm it."""
    query = f"?campaign={campaign_id}" if campaign_id else ""
    preview = client.post(
        f"/manage/branches/import{query}",
        data={
            "csrf_token": token(client),
            "file": (io.BytesIO(csv_text.encode("utf-8")), "branches.csv"),
        },
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    payload = re.search(r'name="payload"[^>]*value="([^"]+)"', page).group(1)
    return client.post(
        "/manage/branches/import/confirm",
        data={"csrf_token": token_in(page), "payload": html.unescape(payload)},
    )


def _codes_of(campaign: Campaign) -> list[str]:
    db.session.expire_all()
    return [b.code for b in db.session.get(Campaign, campaign.id).branches]


def test_import_for_a_new_campaign_adds_no_row_to_a_closed_campaigns_report(
    admin, make_survey, make_branch
):
    b01, b02 = make_branch("b01", "第一支部"), make_branch("b02", "第二支部")
    old = make_survey("pingyi-2005", state=SurveyState.CLOSED, campaign="xjx-2005")
    add_responses(old, b01, {"good": 6})
    shown_before = [b.code for b in report_branches(old)]
    turnout_before = [row.code for row in survey_turnout(old).branches]
    assert shown_before == turnout_before == ["b01", "b02"]

    created = admin.post(
        "/manage/campaigns/new", data={"csrf_token": token(admin), "title": "2026年測評"}
    )
    assert created.status_code == 302
    new = db.session.scalar(select(Campaign).where(Campaign.slug != "xjx-2005"))
    assert new.slug == "2026-nian-ce-ping"  # made from the title; nobody typed it
    assert _codes_of(new) == ["b01", "b02"]  # a new campaign starts with every active branch

    # Twenty new branches imported for the new campaign: the 2005 report keeps its two rows.
    rows = "".join(f"b{n},第{n}支部\n" for n in range(20, 40))
    done = _import(admin, "编号,名称\n" + rows, campaign_id=new.id)
    assert done.status_code == 302 and done.location.endswith(f"/campaigns/{new.id}/branches")
    assert len(_codes_of(new)) == 22
    assert [b.code for b in report_branches(old)] == shown_before
    assert [row.code for row in survey_turnout(old).branches] == turnout_before
    detail = db.session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "branches.import")
    )
    assert detail == f"added=20 updated=0 campaign={new.slug}"

    # A branch added from the branches page joins running campaigns only, not the closed one.
    _import(admin, "code,name\nb50,第五十支部\n")
    assert "b50" in _codes_of(new)
    assert [b.code for b in report_branches(old)] == shown_before
    # A branch with answers is always listed, even when its campaign dropped it.
    add_responses(old, b02, {"poor": 5})
    assert [b.code for b in report_branches(old)] == ["b01", "b02"]


def _mint(client, survey, branch_id, count, category=0, reason="afternoon sitting", **kw):
    return client.post(
        f"/manage/surveys/{survey.id}/codes",
        data={
            "csrf_token": token(client),
            "branch": str(branch_id),
            "category": str(category),
            "count": str(count),
            "reason": reason,
        },
        **kw,
    )


def test_codes_are_minted_only_for_the_campaigns_branches(admin, runner, make_survey, make_branch):
    make_branch("b01", "第一支部")
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    outsider = make_branch("b09", "別的活動的支部")
    with db.transaction():
        survey.campaign.branches.remove(outsider)
    page = admin.get(f"/manage/surveys/{survey.id}/codes").get_data(as_text=True)
    assert "第一支部" in page and "別的活動的支部" not in page
    before = snapshot()
    refused = _mint(admin, survey, outsider.id, 2)
    assert refused.status_code == 422
    assert "Please choose one of the campaign's active branches." in html.unescape(
        refused.get_data(as_text=True)
    )
    result = runner.invoke(
        args=["mint-codes", "pingyi", "--branch", "b09", "--count", "2", "-o", "/tmp/x.csv"]
    )
    assert result.exit_code == 1
    assert "not among the branches of the campaign" in result.output
    assert snapshot() == before
    # All branches of the campaign, every category: one batch per branch and category.
    minted = _mint(admin, survey, 0, 2, follow_redirects=True)
    batches = db.session.scalars(select(CodeBatch).order_by(CodeBatch.id)).all()
    assert [(b.branch.code, b.category.key, b.size) for b in batches] == [
        ("b01", "member", 2),
        ("b01", "public", 2),
    ]
    assert len(_codes(minted.get_data(as_text=True))) == 4


def test_a_reload_of_the_slips_mints_nothing_and_shows_the_same_codes(
    admin, make_survey, make_branch
):
    make_branch("b01", "第一支部")
    make_branch("b02", "第二支部")
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    posted = _mint(admin, survey, 0, 3, survey.category("member").id)
    assert posted.status_code == 303
    slips_url = f"/manage/surveys/{survey.id}/codes/slips"
    assert posted.location.endswith(slips_url)
    first = admin.get(slips_url).get_data(as_text=True)
    codes = _codes(first)
    assert len(codes) == 6
    stored = set(db.session.scalars(select(CodeBatch.id)))
    # The codes exist only as hashes; the session holds a seed, never a code.
    with admin.session_transaction() as session:
        assert not any(c in str(dict(session)) for c in codes)
    assert not any(c in str(row) for c in codes for row in snapshot().values())
    from survey.models import AccessCode

    assert set(db.session.scalars(select(AccessCode.code_hash))) == {code_hash(c) for c in codes}
    # A reload, and a switch of language, show the same codes and mint nothing.
    assert _codes(admin.get(slips_url).get_data(as_text=True)) == codes
    switched = admin.get(f"/lang/zh_Hant?next={slips_url}", follow_redirects=True)
    assert _codes(switched.get_data(as_text=True)) == codes
    assert set(db.session.scalars(select(CodeBatch.id))) == stored
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 2
    # Back at the batches, the codes are forgotten: the slips page no longer shows them.
    admin.get(f"/manage/surveys/{survey.id}/codes")
    gone = admin.get(slips_url, follow_redirects=True).get_data(as_text=True)
    assert not _codes(gone) and not CODE.search(gone)


def test_slips_start_a_new_sheet_for_each_branch_and_keep_the_address_whole(
    admin, make_survey, make_branch
):
    make_branch("b01", "第一支部")
    make_branch("b02", "第二支部")
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    page = _mint(admin, survey, 0, 12, survey.category("public").id, follow_redirects=True)
    text = page.get_data(as_text=True)
    heads = re.findall(r'<p class="sheet-head"><strong>([^<]+)</strong>', text)
    assert heads == ["第一支部", "第一支部", "第二支部", "第二支部"]
    assert "sheet 2 of 2" in text
    # Each sheet holds the slips of its header's branch only: 10 + 2 per branch.
    sheets = text.split('<div class="slip-sheet">')[1:]
    for sheet, head, size in zip(sheets, heads, [10, 2, 10, 2], strict=True):
        branches = re.findall(r'<p class="slip-branch">([^ ]+) ·', sheet)
        assert branches == [head] * size
    assert text.count('<p class="slip-address" lang="en">http://ceping.test/</p>') == 24


def _plan_upload(client, survey, name: str, data: bytes, reason: str = "plan"):
    return client.post(
        f"/manage/surveys/{survey.id}/codes/file",
        data={
            "csrf_token": token(client),
            "plan-file": (io.BytesIO(data), name),
            "plan-reason": reason,
        },
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_codes_per_branch_from_one_file(admin, make_survey, make_branch, kind):
    make_branch("b01", "第一支部")
    make_branch("b02", "第二支部")
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    rows = [
        ["支部", "类别", "数量"],
        ["b01", "党员", "3"],
        ["第二支部", "羣眾", "2"],
        ["b02", "黨員", ""],
    ]
    data = (
        xlsx_bytes(rows) if kind == "xlsx" else "\n".join(",".join(r) for r in rows).encode("utf-8")
    )
    response = _plan_upload(admin, survey, f"plan.{kind}", data)
    assert response.status_code == 303
    page = admin.get(response.location).get_data(as_text=True)
    assert len(_codes(page)) == 5
    batches = db.session.scalars(select(CodeBatch).order_by(CodeBatch.id)).all()
    assert [(b.branch.code, b.category.key, b.size) for b in batches] == [
        ("b01", "member", 3),
        ("b02", "public", 2),
    ]


def test_a_plan_file_with_mistakes_mints_nothing(admin, make_survey, make_branch):
    make_branch("b01", "第一支部")
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    before = snapshot()
    data = "branch,category,count\nb77,member,3\nb01,軍人,2\nb01,member,x\n".encode()
    response = _plan_upload(admin, survey, "plan.csv", data)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert 'unknown branch "b77"' in page
    assert 'unknown category "軍人"' in page
    assert '"x" is not a number of codes' in page
    assert snapshot() == before
    template = admin.get(f"/manage/surveys/{survey.id}/codes/template.csv")
    assert template.headers["Content-Disposition"].endswith('pingyi-codes-plan.csv"')
    lines = template.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines == [
        "branch,branch name,category,count",
        "b01,第一支部,黨員,",
        "b01,第一支部,羣眾,",
    ]


def test_campaign_branches_page_keeps_branches_with_codes(admin, make_survey, make_branch, mint):
    b01, b02 = make_branch("b01", "第一支部"), make_branch("b02", "第二支部")
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    mint(survey, b01, 2)
    path = f"/manage/campaigns/{survey.campaign_id}/branches"
    page = admin.get(path).get_data(as_text=True)
    assert page.count('type="checkbox"') == 2 and page.count("checked") == 2
    refused = admin.post(path, data={"csrf_token": token_in(page), "branches": [str(b02.id)]})
    assert refused.status_code == 409
    assert "already have codes or answers in this campaign, so they stay: b01" in html.unescape(
        refused.get_data(as_text=True)
    )
    saved = admin.post(path, data={"csrf_token": token_in(page), "branches": [str(b01.id)]})
    assert saved.status_code == 302
    assert _codes_of(survey.campaign) == ["b01"]
    detail = db.session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "campaign.branches")
    )
    assert detail == "campaign=xjx added=- removed=b02"


def test_branches_are_activated_and_deactivated_in_bulk(admin, make_branch):
    branches = [make_branch(f"b0{n}") for n in range(1, 4)]
    page = admin.get("/manage/branches").get_data(as_text=True)
    chosen = [str(branches[0].id), str(branches[2].id)]
    done = admin.post(
        "/manage/branches/activity",
        data={"csrf_token": token_in(page), "activity": "deactivate", "branch": chosen},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert [b.is_active for b in branches] == [False, True, False]
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["branch.deactivate", "branch.deactivate"]
    nothing = admin.post(
        "/manage/branches/activity", data={"csrf_token": token_in(page), "activity": "activate"}
    )
    assert nothing.status_code == 422
    assert "Choose one or more branches first." in nothing.get_data(as_text=True)
