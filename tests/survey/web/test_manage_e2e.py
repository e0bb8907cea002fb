"""A campaign office that has never seen Ceping runs a whole stage in the browser.

Create a survey from the template, import 21 branches from an .xlsx file, mint and print slips,
open the survey, watch turnout move as codes are used, key in 10 paper ballots twice (one
disagreement flagged and settled), and close the survey.
"""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    AuditEntry,
    BallotDraft,
    Branch,
    Campaign,
    Response,
    Role,
    Source,
    Survey,
    SurveyState,
)
from survey.services.codes import slip_url
from survey.services.responses import submit_with_code
from survey.services.slips import qr_svg
from tests.conftest import csrf_token, isolated_client
from tests.helpers.results import received, sealed_ballots
from tests.helpers.web import branches_xlsx, hidden, sign_in_as, token, token_in

CODE = re.compile(r'<p class="slip-code" lang="en">([0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})</p>')


def _turnout(client, survey_id: int, code: str) -> dict:
    data = client.get(f"/manage/surveys/{survey_id}/turnout.json").get_json()
    return next(b for b in data["counts"]["branches"] if b["code"] == code)


def _grid(survey: Survey, rows: list[tuple[str, str, list[str]]], csrf: str) -> dict[str, str]:
    data = {"csrf_token": csrf, "submit": "1"}
    for index, (branch, category, answers) in enumerate(rows):
        data[f"ballots-{index}-branch"] = branch
        data[f"ballots-{index}-category"] = category
        for position, answer in enumerate(answers):
            data[f"ballots-{index}-item{position}"] = answer
    return data


def test_a_stage_from_setup_to_close(app, web, make_user):
    admin = make_user("office")
    sign_in_as(web, admin)
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    # A campaign, then a survey from the evaluation template (the 2005 campaign's).
    csrf = token(web)
    response = web.post(
        "/manage/campaigns/new", data={"csrf_token": csrf, "slug": "xjx", "title": "先進性教育"}
    )
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "xjx"))
    page = web.get("/manage/surveys/new").get_data(as_text=True)
    assert 'value="template:evaluation"' in page
    response = web.post(
        "/manage/surveys/new",
        data={
            "csrf_token": csrf,
            "campaign": campaign.id,
            "slug": "pingyi-2025",
            "title": "分析評議階段測評表",
            "kind": "evaluation",
            "start": "template:evaluation",
        },
    )
    assert response.status_code == 302
    survey = db.session.scalar(select(Survey).where(Survey.slug == "pingyi-2025"))
    assert response.headers["Location"].endswith(f"/manage/surveys/{survey.id}")
    assert [i.key for i in survey.items] == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert [o.label for o in survey.options] == ["好", "比較好", "一般", "差"]
    assert survey.state is SurveyState.DRAFT

    # Import the 21 branches from an .xlsx file: preview first, nothing stored yet.
    response = web.post(
        "/manage/branches/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(branches_xlsx()), "branches21.xlsx")},
        content_type="multipart/form-data",
    )
    preview = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "21 to add, 0 to change, 0 unchanged." in preview
    assert db.session.scalar(select(func.count(Branch.id))) == 0
    response = web.post(
        "/manage/branches/import/confirm",
        data={"csrf_token": token_in(preview), "payload": hidden(preview, "payload")},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Branch.id))) == 21
    b01 = db.session.scalar(select(Branch).where(Branch.code == "b01"))

    # Mint 12 codes for b01; the answer is the printable slips page with one QR code per slip.
    member = survey.category("member")
    response = web.post(
        f"/manage/surveys/{survey.id}/codes",
        data={"csrf_token": csrf, "branch": b01.id, "category": member.id, "count": 12},
        follow_redirects=True,
    )
    slips = response.get_data(as_text=True)
    assert response.status_code == 200
    codes = CODE.findall(slips)
    assert len(codes) == 12 == len(set(codes))
    assert slips.count("<svg") == 12
    assert "These codes are shown once." in slips
    for code in codes:  # each QR encodes the start page with the code in the fragment
        assert str(qr_svg(slip_url("http://ceping.test", code))) in slips
    assert 'class="slip-sheet"' in slips and slips.count('class="slip-sheet"') == 2
    assert (
        "http"
        not in re.sub(r"http://ceping\.test/?", "", slips.split("<main")[1]).split("</main>")[0]
    )
    # The CSV of exactly these codes, posted back from the page.
    response = web.post(
        f"/manage/surveys/{survey.id}/codes/download",
        data={"csrf_token": token_in(slips), "codes": hidden(slips, "codes")},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r["code"] for r in rows) == sorted(codes)
    assert {r["branch_code"] for r in rows} == {"b01"}

    # Open the survey.
    response = web.post(
        f"/manage/surveys/{survey.id}/state", data={"csrf_token": csrf, "action": "open"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).state is SurveyState.OPEN

    # Turnout moves as codes are used.
    before = _turnout(web, survey.id, "b01")
    assert (before["codes_issued"], before["codes_used"]) == (12, 0)
    assert before["turnout_rate"] == 0
    survey = db.session.get(Survey, survey.id)
    first_item = {item.id: survey.options[0].id for item in survey.items}
    for code in codes[:2]:
        submit_with_code(code, first_item, None)
    # The third respondent scans the slip and answers in a browser of their own.
    phone = isolated_client(app)
    form = phone.post("/start", data={"csrf_token": csrf_token(phone), "code": codes[2]})
    assert form.status_code == 200
    answers = {item.key: "fairly_good" for item in survey.items}
    page = form.get_data(as_text=True)
    data = {"csrf_token": token_in(page), "code": codes[2], **answers}
    thanks = phone.post("/submit", data=data)
    assert thanks.status_code == 303
    after = _turnout(web, survey.id, "b01")
    assert (after["codes_issued"], after["codes_used"]) == (12, 3)
    assert after["turnout_rate"] == 0.25
    page = web.get(f"/manage/surveys/{survey.id}/turnout").get_data(as_text=True)
    assert "25.0%" in page
    assert "manage-turnout.js" in page

    # Ten paper ballots for b02, keyed twice; the second keyer reads ballot 7, item 3 differently.
    ballots = [
        ("b02", "public", ["good", "fairly_good", "average", "good", "poor", "good"])
        for _ in range(10)
    ]
    page = web.get(f"/manage/surveys/{survey.id}/ballots/key").get_data(as_text=True)
    response = web.post(
        f"/manage/surveys/{survey.id}/ballots/key", data=_grid(survey, ballots, token_in(page))
    )
    assert response.status_code == 302
    draft = db.session.scalar(select(BallotDraft))
    assert draft is not None
    assert received() == 3  # the three web answers; nothing from paper yet
    second = [list(b[2]) for b in ballots]
    second[6][2] = "poor"
    # A clerk (data entry) keys the batch a second time and settles it: never its first keyer.
    clerk = isolated_client(app)
    sign_in_as(clerk, make_user("clerk", Role.DATA_ENTRY))
    clerk_csrf = token(clerk, f"/manage/surveys/{survey.id}/ballots/key")
    keyed = [(b[0], b[1], a) for b, a in zip(ballots, second, strict=True)]
    response = clerk.post(
        f"/manage/surveys/{survey.id}/ballots/{draft.id}/verify",
        data=_grid(survey, keyed, clerk_csrf),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/ballots/{draft.id}/resolve")
    page = clerk.get(response.headers["Location"]).get_data(as_text=True)
    assert page.count('class="disagreement"') == 1
    assert "3. 撰寫黨性材料是否結合實際" in page  # the item of the disagreeing cell
    assert received() == 3
    response = clerk.post(
        f"/manage/surveys/{survey.id}/ballots/{draft.id}/resolve",
        data={"csrf_token": clerk_csrf, "d-7-q3": "average"},  # the paper says 一般
    )
    assert response.status_code == 302
    assert received() == 13
    # Ten paper ballots in one group: a batch of 5 is counted at once, 5 wait for more.
    paper = db.session.scalar(
        select(func.count(Response.id)).where(Response.source == Source.PAPER)
    )
    assert paper == 5
    assert db.session.scalar(select(func.count(BallotDraft.id))) == 0
    assert _turnout(web, survey.id, "b02")["paper_ballots"] == 10

    # Close the survey after the confirmation step.
    response = web.post(
        f"/manage/surveys/{survey.id}/state", data={"csrf_token": csrf, "action": "close"}
    )
    assert response.status_code == 200 and "Are you sure?" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).state is SurveyState.OPEN
    response = web.post(
        f"/manage/surveys/{survey.id}/state",
        data={"csrf_token": csrf, "action": "close", "confirmed": "yes"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).state is SurveyState.CLOSED
    # Closing counted everything that waited: all 13 answers are in the results.
    assert db.session.scalar(select(func.count(Response.id))) == 13
    assert sealed_ballots() == []

    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.username == "office").order_by(AuditEntry.id)
    ).all()
    for expected in (
        "campaign.create",
        "survey.create",
        "branches.import",
        "codes.mint",
        "survey.open",
        "ballots.draft",
        "survey.close",
    ):
        assert expected in actions
    by_clerk = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.username == "clerk").order_by(AuditEntry.id)
    ).all()
    assert by_clerk == ["ballots.verify", "ballots.commit"]
