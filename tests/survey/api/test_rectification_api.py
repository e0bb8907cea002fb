"""The effect of rectification from the API and the command line: the same JSON, the same audit
entry, and only for the office and supervisors."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import AuditEntry, MeasureStatus, Role, SurveyKind, SurveyState
from survey.services.rectification import plans
from tests.conftest import add_responses
from tests.survey.api.test_api import with_token


@pytest.fixture
def campaign(app, make_survey, make_branch, make_user):
    evaluation = make_survey("pingyi", state=SurveyState.CLOSED, threshold=3)
    b01, b02 = make_branch("b01", "第一支部"), make_branch("b02", "第二支部")
    add_responses(evaluation, b01, {"good": 2, "poor": 8})
    add_responses(evaluation, b02, {"good": 9, "fairly_good": 1})
    final = make_survey("manyi", kind=SurveyKind.SATISFACTION, threshold=3)
    add_responses(final, b01, {"good": 9, "poor": 1})
    add_responses(final, b02, {"good": 9, "fairly_good": 1})
    final.state = SurveyState.CLOSED
    plan = plans.create_plan(None, evaluation.campaign, b01, "第一支部整改方案")
    plans.add_measure(
        None,
        plan,
        plans.MeasureInput(
            "服務差",
            "接待日",
            "滿意",
            plans.ProblemClass.IMMEDIATE,
            "辦公室",
            None,
            item_ids=(evaluation.items[0].id,),
        ),
    )
    plans.discuss_plan(None, plan, date.today())
    plans.file_plan(make_user("group", Role.SUPERVISOR), plan)
    plans.record_progress(None, plan.measures[0], MeasureStatus.DONE, "已設立接待日")
    return evaluation.campaign


def _audits() -> list[tuple[str, str]]:
    return [
        (e.action, e.detail)
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "rectification.export")
        )
    ]


def test_the_api_and_the_cli_give_the_same_effect_and_audit_entry(campaign, web, runner, make_user):
    token = with_token(make_user("reader", Role.SUPERVISOR))
    answer = web.get(f"/api/v1/campaigns/{campaign.slug}/rectification", headers=token)
    assert answer.status_code == 200
    from_api = answer.get_json()
    result = runner.invoke(args=["rectification-report", campaign.slug])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == from_api
    (measure,) = from_api["plans"][0]["measures"]
    assert measure["items"][0]["verdict"] == "improved"
    assert from_api["by_class"]["immediate"] == {"measures": 1, "done": 1, "moved": 1}
    detail = f"campaign={campaign.slug} what=effect format=json"
    assert _audits() == [("rectification.export", detail)] * 2


def test_a_branch_viewer_cannot_read_the_effect(campaign, web, make_user):
    viewer = make_user("viewer", Role.BRANCH_VIEWER, branch=campaign.branches[0])
    answer = web.get(f"/api/v1/campaigns/{campaign.slug}/rectification", headers=with_token(viewer))
    assert answer.status_code == 403


def test_an_unknown_campaign_is_refused_in_words(web, runner, make_user, app):
    answer = web.get(
        "/api/v1/campaigns/nope/rectification",
        headers=with_token(make_user("reader", Role.SUPERVISOR)),
    )
    assert answer.status_code == 404
    assert "nope" in answer.get_json()["error"]
    result = runner.invoke(args=["rectification-report", "nope"])
    assert result.exit_code == 1 and "nope" in result.output
