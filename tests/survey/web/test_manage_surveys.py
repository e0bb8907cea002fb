"""Survey editing in the browser: questionnaire, lock once answered, copies, export, lifecycle,
test mode."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    AccessCode,
    AuditEntry,
    Campaign,
    CodeBatch,
    Comment,
    Response,
    Survey,
    SurveyState,
)
from survey.services.definition_yaml import load_definition, parse_definition
from survey.services.definitions import definition_of
from survey.services.responses import CodeAlreadyUsed, UnknownCode, check_code, submit_with_code
from tests.helpers.dbstate import snapshot
from tests.helpers.results import received, sealed_ballots
from tests.helpers.web import token

LOCKED = "This survey already has responses, so its items and scale are locked."


def _post(client, path: str, data: dict | None = None):
    response = client.post(path, data={"csrf_token": token(client), **(data or {})})
    return response, html.unescape(response.get_data(as_text=True))


def _fresh(survey_id: int) -> Survey:
    db.session.expire_all()
    return db.session.get(Survey, survey_id)


def _answer(survey: Survey, code: str, comment: str | None = None) -> None:
    submit_with_code(code, {i.id: survey.options[0].id for i in survey.items}, comment)


# ---- questionnaire ----------------------------------------------------------------------------


def test_items_are_added_moved_and_removed_without_javascript(admin, make_survey):
    survey = make_survey("pingyi", items=3, state=SurveyState.DRAFT)
    base = f"/manage/surveys/{survey.id}/items"
    response, _page = _post(admin, f"{base}/add", {"key": "q4", "text": "第4題"})
    assert response.status_code == 302
    q1, q2, q3, q4 = _fresh(survey.id).items
    assert [q1.key, q4.key] == ["q1", "q4"]
    _post(admin, f"{base}/{q4.id}/move/up")
    _post(admin, f"{base}/{q1.id}/move/down")
    _post(admin, f"{base}/{q1.id}/move/up")  # back to the top
    _post(admin, f"{base}/{q1.id}/move/up")  # already first: nothing changes
    assert [i.key for i in _fresh(survey.id).items] == ["q1", "q2", "q4", "q3"]
    response, _page = _post(admin, f"{base}/{q2.id}/remove")
    assert response.status_code == 302
    response, _page = _post(admin, f"{base}/{q3.id}", {"key": "q3b", "text": "改寫的第3題"})
    assert response.status_code == 302
    items = _fresh(survey.id).items
    assert [(i.key, i.text, i.position) for i in items] == [
        ("q1", "第1題", 0),
        ("q4", "第4題", 1),
        ("q3b", "改寫的第3題", 2),
    ]
    page = admin.get(base).get_data(as_text=True)
    assert "Move “q1” up" not in page and "Move “q1” down" in page
    assert LOCKED not in html.unescape(page)


def test_questionnaire_is_locked_once_responses_exist(admin, make_survey, make_branch, mint):
    survey = make_survey("pingyi", items=3)
    code = mint(survey, make_branch("b01"), 1)[0]
    base = f"/manage/surveys/{survey.id}"
    for path in ("", "/items", "/scale", f"/items/{survey.items[0].id}"):
        assert LOCKED not in html.unescape(admin.get(base + path).get_data(as_text=True))
    _answer(survey, code)

    for path in ("", "/items", "/scale", f"/items/{survey.items[0].id}"):
        page = html.unescape(admin.get(base + path).get_data(as_text=True))
        assert page.count(LOCKED) == 1, path
        assert "would mix answers to different questions" in page
    items_page = admin.get(base + "/items").get_data(as_text=True)
    assert "/remove" not in items_page and "/move/" not in items_page
    assert "Add an item" not in items_page

    before = snapshot()
    q1 = survey.items[0]
    for path, data in (
        (f"{base}/items/add", {"key": "q9", "text": "新題"}),
        (f"{base}/items/{q1.id}", {"key": "q1", "text": "改過的問題"}),
        (f"{base}/items/{q1.id}/move/down", {}),
        (f"{base}/items/{q1.id}/remove", {}),
        (f"{base}/scale", {"preset": "three_level"}),
    ):
        response, page = _post(admin, path, data)
        assert response.status_code == 409, path
        assert "already has responses" in page
    assert snapshot() == before


def test_template_copy_and_export_round_trip(admin, make_survey, tmp_path):
    """A copy keeps item keys (the stages compare); the YAML export loads back identically."""
    campaign_id = make_survey("pingyi", items=4, state=SurveyState.DRAFT).campaign_id
    response, _page = _post(
        admin,
        "/manage/surveys/new",
        {
            "campaign": str(campaign_id),
            "slug": "manyidu",
            "title": "羣眾滿意度測評",
            "kind": "satisfaction",
            "start": f"copy:{db.session.scalar(select(Survey.id).where(Survey.slug == 'pingyi'))}",
        },
    )
    assert response.status_code == 302
    source = db.session.scalar(select(Survey).where(Survey.slug == "pingyi"))
    copy = db.session.scalar(select(Survey).where(Survey.slug == "manyidu"))
    assert [(i.key, i.text) for i in copy.items] == [(i.key, i.text) for i in source.items]
    assert [o.key for o in copy.options] == [o.key for o in source.options]
    assert (copy.kind.value, copy.state, copy.campaign_id) == (
        "satisfaction",
        SurveyState.DRAFT,
        campaign_id,
    )
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.copy"))

    response = admin.get(f"/manage/surveys/{copy.id}/export.yaml")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="manyidu.yaml"'
    text = response.get_data(as_text=True)
    parsed, problems = parse_definition(text, "manyidu.yaml")
    assert problems == []
    assert parsed == definition_of(copy)
    # Loading it under another slug gives the same questionnaire; loading it as is changes nothing.
    outcome = load_definition(text.replace("slug: manyidu", "slug: manyidu-2"), "x.yaml")
    assert outcome.created
    assert definition_of(outcome.survey).items == parsed.items
    assert not load_definition(text, "manyidu.yaml").changed


def test_the_demo_questionnaires_are_offered_as_templates(admin, make_survey):
    make_survey("pingyi", state=SurveyState.DRAFT)
    page = admin.get("/manage/surveys/new").get_data(as_text=True)
    assert "Template: 分析評議階段測評表" in page
    assert "Template: 羣眾滿意度測評表" in page
    campaign = db.session.scalar(select(Campaign))
    response, _page = _post(
        admin,
        "/manage/surveys/new",
        {
            "campaign": str(campaign.id),
            "slug": "manyidu-2025",
            "title": "羣眾滿意度測評",
            "kind": "satisfaction",
            "start": "template:satisfaction",
        },
    )
    assert response.status_code == 302
    survey = db.session.scalar(select(Survey).where(Survey.slug == "manyidu-2025"))
    assert [i.text for i in survey.items][0] == "整改措施是否切實可行"
    assert [c.weight for c in survey.categories] == [0.4, 0.6]
    assert survey.title == "羣眾滿意度測評"


def test_blank_survey_must_get_items_before_it_opens(admin, make_survey):
    campaign_id = make_survey("pingyi", state=SurveyState.DRAFT).campaign_id
    _post(
        admin,
        "/manage/surveys/new",
        {
            "campaign": str(campaign_id),
            "slug": "empty",
            "title": "空白",
            "kind": "satisfaction",
            "start": "blank",
        },
    )
    survey = db.session.scalar(select(Survey).where(Survey.slug == "empty"))
    assert [o.label for o in survey.options] == ["滿意", "基本滿意", "不滿意"]
    response, page = _post(admin, f"/manage/surveys/{survey.id}/state", {"action": "open"})
    assert response.status_code == 409
    assert "The questionnaire has no items yet." in page
    assert _fresh(survey.id).state is SurveyState.DRAFT


# ---- lifecycle --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (SurveyState.DRAFT, "close"),
        (SurveyState.DRAFT, "reopen"),
        (SurveyState.OPEN, "open"),
        (SurveyState.OPEN, "start_test"),
        (SurveyState.CLOSED, "close"),
        (SurveyState.OPEN, "go_live"),
    ],
)
def test_impossible_transitions_are_refused_with_409(admin, make_survey, state, action):
    survey = make_survey("pingyi", state=state)
    before = snapshot()
    response, page = _post(
        admin, f"/manage/surveys/{survey.id}/state", {"action": action, "confirmed": "yes"}
    )
    assert response.status_code == 409
    assert "is not possible now" in page
    assert snapshot() == before


def test_unknown_action_is_a_clear_400(admin, make_survey):
    survey = make_survey("pingyi")
    response, page = _post(admin, f"/manage/surveys/{survey.id}/state", {"action": "explode"})
    assert response.status_code == 400
    assert "This action does not exist." in page


def test_close_and_reopen_ask_for_confirmation(admin, make_survey, make_branch, mint):
    survey = make_survey("pingyi")
    code = mint(survey, make_branch("b01"), 1)[0]
    path = f"/manage/surveys/{survey.id}/state"
    response, page = _post(admin, path, {"action": "close"})
    assert response.status_code == 200 and "Are you sure?" in page
    assert _fresh(survey.id).state is SurveyState.OPEN
    _post(admin, path, {"action": "close", "confirmed": "yes"})
    assert _fresh(survey.id).state is SurveyState.CLOSED
    response, page = _post(admin, path, {"action": "reopen"})
    assert response.status_code == 200 and "unused codes work again" in page
    assert _fresh(survey.id).state is SurveyState.CLOSED
    response, _page = _post(admin, path, {"action": "reopen", "confirmed": "yes"})
    assert response.status_code == 302
    assert _fresh(survey.id).state is SurveyState.OPEN
    assert check_code(code).survey.id == survey.id
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["survey.close", "survey.reopen"]


def test_test_mode_then_go_live(admin, make_survey, make_branch, mint):
    """Test answers are wiped at go-live, test codes die, ordinary codes used in the test revive."""
    survey = make_survey("pingyi", state=SurveyState.DRAFT, comments=True)
    branch = make_branch("b01")
    ordinary = mint(survey, branch, 2)  # printed for the real sitting before the test
    path = f"/manage/surveys/{survey.id}/state"
    response, _page = _post(admin, path, {"action": "start_test"})
    assert response.status_code == 302
    survey = _fresh(survey.id)
    assert survey.state is SurveyState.OPEN and survey.is_test_mode
    page = admin.get(f"/manage/surveys/{survey.id}/codes").get_data(as_text=True)
    assert "codes minted now are test codes" in page
    response = admin.post(
        f"/manage/surveys/{survey.id}/codes",
        data={
            "csrf_token": token(admin),
            "branch": str(branch.id),
            "category": str(survey.categories[0].id),
            "count": "2",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    test_batch = db.session.scalar(select(CodeBatch).where(CodeBatch.is_test.is_(True)))
    assert test_batch is not None and test_batch.size == 2
    test_codes = re.findall(r"[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}", response.get_data(as_text=True))
    _answer(survey, test_codes[0], "測試意見")
    _answer(survey, ordinary[0])
    # Both test answers wait in the ballot box (one per group, too few to count).
    assert len(sealed_ballots(survey.id)) == 2 and received() == 2

    response, page = _post(admin, path, {"action": "go_live"})
    assert response.status_code == 200 and "Are you sure?" in page
    response, _page = _post(admin, path, {"action": "go_live", "confirmed": "yes"})
    assert response.status_code == 302
    survey = _fresh(survey.id)
    assert survey.state is SurveyState.OPEN and not survey.is_test_mode
    assert received() == 0 and sealed_ballots() == []
    assert db.session.scalar(select(func.count(Comment.id))) == 0
    assert db.session.get(CodeBatch, test_batch.id).is_void
    with pytest.raises(UnknownCode):
        check_code(test_codes[1])  # a tester saw it: it no longer works
    assert check_code(ordinary[0]).survey.id == survey.id  # the real holder can still answer
    _answer(survey, ordinary[0])
    with pytest.raises(CodeAlreadyUsed):
        check_code(ordinary[0])
    assert db.session.scalar(select(func.count(Response.id)).where(Response.is_test)) == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.go_live"))
    assert "test_responses_deleted=2" in entry.detail
    assert "test_batches_voided=1" in entry.detail
    assert "codes_freed=1" in entry.detail
    used = select(func.count(AccessCode.id)).where(AccessCode.is_used.is_(True))
    # The tester's code of the voided test batch, and the real respondent's code.
    assert db.session.scalar(used) == 2
