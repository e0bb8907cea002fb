"""The rectification pages: the office's loop through opinions, plans and progress, who may do
what, the public page that shows filed plans only, and its anonymous feedback."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import (
    Measure,
    MeasureStatus,
    Opinion,
    Plan,
    PlanState,
    PublicFeedback,
    Role,
    SurveyState,
)
from tests.conftest import isolated_client


@pytest.fixture
def campaign(app, make_survey, make_branch):
    survey = make_survey("pingyi", state=SurveyState.CLOSED, threshold=3)
    make_branch("b01", "第一支部")
    make_branch("b02", "第二支部")
    return survey.campaign


@pytest.fixture
def supervisor(signed_in):
    return signed_in(Role.SUPERVISOR)


def _post(client, url: str, data: dict | None = None, page: str | None = None, **kwargs):
    token = csrf_token_of(client, page or url)
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def csrf_token_of(client, page: str) -> str:
    html = client.get(page).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, f"no CSRF token on {page}"
    return found.group(1)


def test_the_office_adds_imports_and_tags_opinions(admin, campaign):
    page = f"/rectify/{campaign.slug}/opinions"
    answer = _post(
        admin,
        page,
        {
            "text": "辦事拖拉",
            "source": "forum",
            "branch": "0",
            "themes": "作風、效率",
            "count": "2",
        },
    )
    assert answer.status_code == 302
    data = "意見,來源,支部\n食堂太貴,意見箱,b01\n".encode("big5")
    answer = _post(
        admin,
        f"/rectify/{campaign.slug}/opinions/import",
        {"file": (io.BytesIO(data), "意見.csv"), "source": "form"},
        page=page,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    listing = admin.get(page).get_data(as_text=True)
    assert "辦事拖拉" in listing and "食堂太貴" in listing
    summary = admin.get(f"/rectify/{campaign.slug}/summary").get_data(as_text=True)
    assert "作風" in summary and "效率" in summary


def test_a_bad_import_names_the_line_and_adds_nothing(admin, campaign):
    page = f"/rectify/{campaign.slug}/opinions"
    data = "意見,來源,支部\n辦事拖拉,座談會,第九支部\n".encode()
    answer = _post(
        admin,
        f"/rectify/{campaign.slug}/opinions/import",
        {"file": (io.BytesIO(data), "意見.csv"), "source": "form"},
        page=page,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert '意見.csv:2: unknown branch "第九支部"' in html.unescape(answer.get_data(as_text=True))
    assert db.session.scalars(select(Opinion)).all() == []


def test_a_plan_goes_from_draft_to_the_public_page(admin, supervisor, campaign, client):
    b01 = campaign.branches[0]
    answer = _post(
        admin,
        f"/rectify/{campaign.slug}/plans",
        {"branch": str(b01.id), "title": "第一支部整改方案"},
        page=f"/rectify/{campaign.slug}",
    )
    plan = db.session.scalars(select(Plan)).one()
    assert answer.headers["Location"].endswith(f"/rectify/plans/{plan.id}")
    measure = {
        "problem": "服務意識不強",
        "method": "設立接待日",
        "expected_effect": "羣眾滿意",
        "problem_class": "by_deadline",
        "department": "辦公室",
        "deadline": "",
        "items": [str(campaign.surveys[0].items[0].id)],
    }
    answer = _post(admin, f"/rectify/plans/{plan.id}", measure)
    assert answer.status_code == 422
    assert "A measure fixed by a deadline needs its deadline." in answer.get_data(as_text=True)
    measure["deadline"] = (date.today() + timedelta(days=30)).isoformat()
    assert _post(admin, f"/rectify/plans/{plan.id}", measure).status_code == 302
    answer = _post(
        admin,
        f"/rectify/plans/{plan.id}/discuss",
        {"meeting": date.today().isoformat()},
        page=f"/rectify/plans/{plan.id}",
    )
    assert answer.status_code == 302
    # The office cannot file; a supervisor does.
    refused = _post(admin, f"/rectify/plans/{plan.id}/file", page=f"/rectify/plans/{plan.id}")
    assert refused.status_code == 403
    assert "Only a supervisor can file a plan" in refused.get_data(as_text=True)
    assert client.get(f"/plans/{campaign.slug}").status_code == 404
    _post(supervisor, f"/rectify/plans/{plan.id}/file", page=f"/rectify/plans/{plan.id}")
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).state is PlanState.FILED
    _post(admin, f"/rectify/{campaign.slug}/public", page=f"/rectify/{campaign.slug}")
    public = client.get(f"/plans/{campaign.slug}").get_data(as_text=True)
    assert "設立接待日" in public and "第一支部" in public


def test_the_public_page_never_shows_an_unfiled_plan(admin, campaign, client):
    b02 = campaign.branches[1]
    _post(
        admin,
        f"/rectify/{campaign.slug}/plans",
        {"branch": str(b02.id), "title": "草稿方案"},
        page=f"/rectify/{campaign.slug}",
    )
    _post(admin, f"/rectify/{campaign.slug}/public", page=f"/rectify/{campaign.slug}")
    page = client.get(f"/plans/{campaign.slug}")
    assert page.status_code == 200
    assert "草稿方案" not in page.get_data(as_text=True)


def _public_campaign_with_a_filed_plan(campaign, supervisor_user):
    from survey.services.rectification import plans, public

    plan = plans.create_plan(None, campaign, campaign.branches[0], "第一支部整改方案")
    plans.add_measure(
        None,
        plan,
        plans.MeasureInput("問題", "辦法", "效果", plans.ProblemClass.IMMEDIATE, "辦公室", None),
    )
    plans.discuss_plan(None, plan, date.today())
    plans.file_plan(supervisor_user, plan)
    public.set_public(None, campaign, True)
    return plan


def test_feedback_goes_through_without_sign_in_and_keeps_nothing_about_its_sender(
    app, campaign, make_user, admin
):
    plan = _public_campaign_with_a_filed_plan(campaign, make_user("group", Role.SUPERVISOR))
    visitor = isolated_client(app)
    url = f"/plans/{campaign.slug}"
    answer = visitor.post(
        url,
        data={"csrf_token": csrf_token_of(visitor, url), "plan": str(plan.id), "text": "好"},
        environ_base={"REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "Phone/1.0"},
    )
    assert answer.status_code == 303
    stored = db.session.scalars(select(PublicFeedback)).one()
    assert stored.text == "好" and stored.plan_id == plan.id
    row = {c: getattr(stored, c) for c in ("campaign_id", "plan_id", "text")}
    assert "10.1.2.3" not in repr(row) and "Phone" not in repr(row)
    # Empty feedback is refused in words.
    answer = visitor.post(
        url, data={"csrf_token": csrf_token_of(visitor, url), "plan": "0", "text": " "}
    )
    assert answer.status_code == 422
    assert "Write your opinion." in answer.get_data(as_text=True)
    # The office takes it in as an opinion about the plan's branch.
    _post(
        admin,
        f"/rectify/{campaign.slug}/feedback/take-in",
        page=f"/rectify/{campaign.slug}/opinions",
    )
    opinion = db.session.scalars(select(Opinion)).one()
    assert opinion.branch_id == campaign.branches[0].id
    assert db.session.scalars(select(PublicFeedback)).all() == []


def test_a_browser_may_leave_only_a_few_feedbacks(app, campaign, make_user):
    _public_campaign_with_a_filed_plan(campaign, make_user("group", Role.SUPERVISOR))
    visitor = isolated_client(app)
    url = f"/plans/{campaign.slug}"
    for number in range(5):
        token = csrf_token_of(visitor, url)
        assert (
            visitor.post(
                url, data={"csrf_token": token, "plan": "0", "text": f"意見{number}"}
            ).status_code
            == 303
        )
    assert "already sent several opinions" in visitor.get(url).get_data(as_text=True)
    token = csrf_token_of(visitor, "/")  # the public page no longer shows its form
    refused = visitor.post(url, data={"csrf_token": token, "plan": "0", "text": "再一次"})
    assert refused.status_code == 409
    assert "already sent several opinions" in refused.get_data(as_text=True)
    assert len(db.session.scalars(select(PublicFeedback)).all()) == 5


def test_supervisors_read_but_do_not_change_and_others_cannot_enter(
    campaign, supervisor, signed_in
):
    page = f"/rectify/{campaign.slug}/opinions"
    assert supervisor.get(page).status_code == 200
    refused = _post(supervisor, page, {"text": "x", "source": "forum", "branch": "0", "count": "1"})
    assert refused.status_code == 403
    viewer = signed_in(Role.BRANCH_VIEWER, branch=campaign.branches[0])
    assert viewer.get(page).status_code == 403
    typist = signed_in(Role.DATA_ENTRY)
    assert typist.get(f"/rectify/{campaign.slug}").status_code == 403


def test_progress_and_overdue_measures_show_on_the_office_page(admin, campaign, make_user):
    plan = _public_campaign_with_a_filed_plan(campaign, make_user("group", Role.SUPERVISOR))
    measure = plan.measures[0]
    measure.deadline = date.today() - timedelta(days=2)
    db.session.commit()
    overview = admin.get(f"/rectify/{campaign.slug}").get_data(as_text=True)
    assert "1 measure is overdue" in overview
    answer = _post(
        admin, f"/rectify/measures/{measure.id}/progress", {"status": "done", "note": ""}
    )
    assert answer.status_code == 422 and "Say what was done." in answer.get_data(as_text=True)
    _post(admin, f"/rectify/measures/{measure.id}/progress", {"status": "done", "note": "已完成"})
    db.session.expire_all()
    assert db.session.get(Measure, measure.id).status is MeasureStatus.DONE
    briefing = admin.get(f"/rectify/plans/{plan.id}/briefing").get_data(as_text=True)
    assert "已完成" in briefing


def test_the_summary_exports_to_xlsx_without_cache(admin, campaign):
    from survey.models import OpinionSource
    from survey.services.rectification import opinions

    opinions.add_opinion(None, campaign, "意見", OpinionSource.FORUM, themes=["作風"], count=4)
    answer = admin.get(f"/rectify/{campaign.slug}/summary.xlsx")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[4]] == ["作風", 1, 4]
    assert sheet.page_setup.orientation == "landscape"


def test_refused_plan_steps_answer_4xx_with_the_reason_on_the_page(admin, campaign):
    page = f"/rectify/{campaign.slug}"
    answer = _post(admin, f"/rectify/{campaign.slug}/plans", {"branch": "0", "title": ""}, page)
    assert answer.status_code == 422
    assert "Give the plan a title." in answer.get_data(as_text=True)
    _post(admin, f"/rectify/{campaign.slug}/plans", {"branch": "0", "title": "方案"}, page)
    again = _post(
        admin, f"/rectify/{campaign.slug}/plans", {"branch": "0", "title": "又一個"}, page
    )
    assert again.status_code == 409
    assert "This campaign already has a plan for it." in again.get_data(as_text=True)
    plan = db.session.scalars(select(Plan)).one()
    refused = _post(
        admin,
        f"/rectify/plans/{plan.id}/discuss",
        {"meeting": date.today().isoformat()},
        page=f"/rectify/plans/{plan.id}",
    )
    assert refused.status_code == 409
    assert "A plan needs at least one measure" in refused.get_data(as_text=True)
