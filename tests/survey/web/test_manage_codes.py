"""Minting, printing, downloading and voiding codes in the browser; turnout as it moves."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import AccessCode, AuditEntry, BranchMembers, CodeBatch, Role, SurveyState
from survey.services.codes import code_hash
from survey.services.responses import submit_with_code
from tests.conftest import csrf_token
from tests.helpers.dbstate import snapshot
from tests.helpers.web import hidden, token, token_in

CODE = re.compile(r"[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}")


@pytest.fixture
def setup(make_survey, make_branch):
    """An open survey and three branches, one of them inactive."""
    branches = [
        make_branch("b01", "第一支部"),
        make_branch("b02", "第二支部"),
        make_branch("b03", "撤銷支部", is_active=False),
    ]
    return make_survey("pingyi"), branches


#: The survey of these tests is open, so minting needs a reason (see the flooding test below).
REASON = "codes for the afternoon sitting"


def _mint(
    client, survey, branch_id: int, count: int, category: str = "member", reason: str = REASON
):
    return client.post(
        f"/manage/surveys/{survey.id}/codes",
        data={
            "csrf_token": token(client),
            "branch": str(branch_id),
            "category": str(survey.category(category).id),
            "count": str(count),
            "reason": reason,
        },
        follow_redirects=True,
    )


def _slip_codes(page: str) -> list[str]:
    return re.findall(r'class="slip-code" lang="en">([^<]+)<', page)


def test_mint_for_all_active_branches_prints_one_qr_per_code(admin, setup):
    survey, branches = setup
    response = _mint(admin, survey, 0, 3, "public")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    codes = _slip_codes(page)
    assert len(codes) == 6 == page.count("<svg")
    assert page.count('class="slip"') == 6
    assert "第一支部 · 羣眾" in page and "第二支部 · 羣眾" in page and "撤銷支部" not in page
    batches = db.session.scalars(select(CodeBatch).order_by(CodeBatch.id)).all()
    assert [(b.branch.code, b.size, b.is_test) for b in batches] == [
        ("b01", 3, False),
        ("b02", 3, False),
    ]
    # Only hashes are stored; the plain codes exist only in this page.
    stored = set(db.session.scalars(select(AccessCode.code_hash)))
    assert stored == {code_hash(c) for c in codes}
    assert not any(c in str(row) for c in codes for row in snapshot().values())
    # The codes are in the text of the slips and in the hidden field: never in a link or action.
    for attribute in re.findall(r'(?:href|action|src)="([^"]*)"', page):
        assert not CODE.search(attribute)
    assert "once you go back to the batches the codes cannot be shown again." in html.unescape(page)
    assert [r.status_code for r in response.history] == [303]
    entries = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "codes.mint"))
    assert all("count=3" in detail for detail in entries)


def test_slips_can_be_shown_again_and_downloaded_only_as_minted(admin, setup, make_survey):
    survey, branches = setup
    page = _mint(admin, survey, branches[0].id, 4).get_data(as_text=True)
    codes = _slip_codes(page)
    payload = hidden(page, "codes")
    again = admin.post(
        f"/manage/surveys/{survey.id}/codes/print",
        data={"csrf_token": token_in(page), "codes": payload},
    )
    assert again.status_code == 200
    assert _slip_codes(again.get_data(as_text=True)) == codes
    download = admin.post(
        f"/manage/surveys/{survey.id}/codes/download",
        data={"csrf_token": token_in(page), "codes": payload},
    )
    assert download.headers["Content-Type"].startswith("text/csv")
    assert download.headers["Content-Disposition"].startswith('attachment; filename="pingyi-codes')
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["code"] for r in rows] == codes
    assert rows[0]["url"] == f"http://ceping.test/#code={codes[0]}"
    assert rows[0]["branch"] == "第一支部"

    batch_id = payload.split(":")[0]
    other = make_survey("other")
    foreign = _mint(admin, other, branches[0].id, 1).get_data(as_text=True)
    foreign_code = hidden(foreign, "codes").split(":")[1]
    forged = [
        payload.replace(codes[0], "ABCDE-FGHJK-MNPQR"),  # a code that is not in the batch
        f"{payload} {batch_id}:{foreign_code}",  # another survey's code under this batch
        "not a payload",
        hidden(foreign, "codes"),  # a batch of another survey
        f"{payload} {payload}",  # codes repeated
    ]
    for value in forged:
        for action in ("print", "download"):
            response = admin.post(
                f"/manage/surveys/{survey.id}/codes/{action}",
                data={"csrf_token": token_in(page), "codes": value},
            )
            assert response.status_code == 422, (action, value)
            assert "Nothing was printed or downloaded." in response.get_data(as_text=True)


def test_voided_batch_codes_are_refused_at_the_start_page(admin, setup, client):
    survey, branches = setup
    page = _mint(admin, survey, branches[0].id, 3).get_data(as_text=True)
    codes = _slip_codes(page)
    submit_with_code(codes[0], {i.id: survey.options[0].id for i in survey.items}, None)
    batch = db.session.scalar(select(CodeBatch))
    confirm = admin.get(f"/manage/surveys/{survey.id}/batches/{batch.id}/void")
    assert "stop working at once" in confirm.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(CodeBatch, batch.id).is_void
    response = admin.post(
        f"/manage/surveys/{survey.id}/batches/{batch.id}/void",
        data={"csrf_token": token_in(confirm.get_data(as_text=True))},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CodeBatch, batch.id).is_void
    detail = db.session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "codes.void"))
    assert detail == f"batch={batch.id} branch=b01 unused=2"

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    start = client.post("/start", data={"csrf_token": csrf_token(client), "code": codes[1]})
    assert start.status_code == 404
    assert "We do not know this code" in start.get_data(as_text=True)
    # Turnout still counts the code used before the batch was voided, not the dead ones.
    counts = admin.get(f"/manage/surveys/{survey.id}/turnout.json").get_json()["counts"]
    b01 = next(b for b in counts["branches"] if b["code"] == "b01")
    assert (b01["codes_issued"], b01["codes_used"]) == (1, 1)
    listing = admin.get(f"/manage/surveys/{survey.id}/codes").get_data(as_text=True)
    assert "void</span>" in listing


def test_closed_survey_mints_nothing(admin, make_survey, make_branch):
    survey = make_survey("pingyi", state=SurveyState.CLOSED)
    branch = make_branch("b01")
    before = snapshot()
    response = _mint(admin, survey, branch.id, 2)
    assert response.status_code == 409
    assert "reopen it before minting codes" in response.get_data(as_text=True)
    assert snapshot() == before


def test_turnout_page_and_json_show_counts_only(admin, setup):
    survey, branches = setup
    codes = _slip_codes(_mint(admin, survey, branches[0].id, 4).get_data(as_text=True))
    page = admin.get(f"/manage/surveys/{survey.id}/turnout").get_data(as_text=True)
    assert 'data-source="/manage/surveys/' in page and 'data-interval="10000"' in page
    assert f'href="/manage/surveys/{survey.id}/turnout"' in page  # a refresh link without JS
    assert "<meta http-equiv" not in page
    before = admin.get(f"/manage/surveys/{survey.id}/turnout.json").get_json()
    submit_with_code(codes[0], {i.id: survey.options[3].id for i in survey.items}, "意見")
    after = admin.get(f"/manage/surveys/{survey.id}/turnout.json")
    assert after.headers["Cache-Control"] == "no-store"
    data = after.get_json()
    b01 = next(b for b in data["counts"]["branches"] if b["code"] == "b01")
    # Turnout counts the answer at once, though it waits sealed to be counted in the results.
    assert (b01["codes_used"], b01["web_responses"], b01["waiting"]) == (1, 1, 1)
    assert data["display"]["total"]["turnout"] == "25.0%"
    assert before["display"]["total"]["turnout"] == "0.0%"
    assert set(b01) == {
        "code",
        "name",
        "categories",
        "codes_issued",
        "codes_used",
        "paper_handed_out",
        "paper_ballots",
        "web_responses",
        "responses",
        "turnout_rate",
        "waiting",
    }
    assert "意見" not in after.get_data(as_text=True)
    assert [b["code"] for b in data["counts"]["branches"]] == ["b01", "b02"]
    assert db.session.scalar(select(func.count(CodeBatch.id))) == 1


def test_too_many_codes_at_once_are_refused(admin, setup):
    survey, _branches = setup
    before = snapshot()
    response = _mint(admin, survey, 0, 700)  # two active branches: 1400 slips
    assert response.status_code == 409
    assert "At most 1200 codes can be minted at once" in response.get_data(as_text=True)
    assert snapshot() == before


def test_codes_beyond_members_or_while_open_need_a_reason_and_reach_the_supervisors(
    admin, setup, signed_in
):
    """Flooding: extra codes for one group, used around one person's answer, would fill that
    person's counting batch with answers the office knows. Such mints need a reason and show
    on the supervisors' oversight page."""
    survey, branches = setup
    b01 = branches[0]
    db.session.add(BranchMembers(branch_id=b01.id, category_key="member", count=3))
    with db.transaction():
        survey.state = SurveyState.DRAFT
    # A draft survey, within the branch's 3 members: no reason needed, nothing flagged.
    assert _mint(admin, survey, b01.id, 3, reason="").status_code == 200
    before = snapshot()
    refused = _mint(admin, survey, b01.id, 1, reason="")
    assert refused.status_code == 409
    page = html.unescape(refused.get_data(as_text=True))
    assert "State a reason to mint these codes" in page
    assert "b01, 黨員 would have 4 codes for 3 members" in page
    assert snapshot() == before
    assert _mint(admin, survey, b01.id, 1, reason="a member joined").status_code == 200
    with db.transaction():
        survey.state = SurveyState.OPEN
    refused = _mint(admin, survey, branches[1].id, 2, reason="")
    assert refused.status_code == 409
    assert "the survey is open" in refused.get_data(as_text=True)

    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "codes.mint").order_by(AuditEntry.id)
    ).all()
    assert [e.is_flagged for e in entries] == [False, True]
    assert "reason='a member joined'" in entries[1].detail

    supervisor = signed_in(Role.SUPERVISOR, username="supervisor")
    oversight = supervisor.get("/oversight")
    assert oversight.status_code == 200
    text = html.unescape(oversight.get_data(as_text=True))
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))
    assert "reason: a member joined" in words  # the detail, labelled in the reader's language
    assert entries[0].detail not in text  # the ordinary mint is not listed
