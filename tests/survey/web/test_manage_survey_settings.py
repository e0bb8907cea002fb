"""Survey settings (target, texts, a schedule that opens and closes by itself), deleting
drafts and archiving closed surveys, suggested slugs and item keys, the branch import's Chinese
headers and names-only lists, the preview and the open-link poster."""

from __future__ import annotations

import html
import io
from datetime import datetime, timedelta

from sqlalchemy import select

from survey.db import db
from survey.models import Access, AuditEntry, Branch, Campaign, Survey, SurveyState
from survey.services import lifecycle
from survey.services.lookup import find_survey
from survey.services.naming import next_item_key, slug_from_title
from tests.helpers.dbstate import snapshot
from tests.helpers.web import field_error, token, token_in, xlsx_bytes


def _settings(client, survey, **changes):
    data = {
        "csrf_token": token(client, f"/manage/surveys/{survey.id}/settings"),
        "title": survey.title,
        "kind": survey.kind.value,
        "access": survey.access.value,
        "threshold": "5",
        "results": "after_close",
        "comment_max_length": "2000",
        "min_rank_respondents": "30",
        **changes,
    }
    return client.post(f"/manage/surveys/{survey.id}/settings", data=data)


def _local(delta: timedelta) -> str:
    """A wall-clock time in Asia/Shanghai, as the settings form takes it."""
    return lifecycle.to_local(lifecycle.utc_now() + delta).strftime("%Y-%m-%dT%H:%M")


def test_target_texts_and_schedule_are_stored(admin, make_survey):
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    opens = _local(timedelta(days=1))
    closes = _local(timedelta(days=8))
    response = _settings(
        admin,
        survey,
        target="92.5",
        welcome_text=" 歡迎參加測評 ",
        thanks_text="謝謝",
        opens_at=opens,
        closes_at=closes,
    )
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Survey, survey.id)
    assert stored.target == 0.925
    assert (stored.welcome_text, stored.thanks_text) == ("歡迎參加測評", "謝謝")
    # Stored as UTC: Asia/Shanghai is eight hours ahead.
    entered = datetime.strptime(opens, "%Y-%m-%dT%H:%M")
    assert stored.opens_at == entered - timedelta(hours=8)
    page = admin.get(f"/manage/surveys/{survey.id}").get_data(as_text=True)
    assert "92.5%" in page and entered.strftime("%Y-%m-%d %H:%M") in page
    form = admin.get(f"/manage/surveys/{survey.id}/settings").get_data(as_text=True)
    assert f'value="{opens}"' in form and 'value="92.5"' in form


def test_bad_settings_are_refused_next_to_their_field(admin, make_survey):
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    before = snapshot()
    for changes, field, message in [
        ({"target": "120"}, "target", "A percentage between 1 and 100"),
        (
            {"opens_at": _local(timedelta(days=2)), "closes_at": _local(timedelta(days=1))},
            "closes_at",
            "The closing time must come after the opening time.",
        ),
        ({"closes_at": _local(timedelta(hours=-1))}, "closes_at", "This time has already passed."),
        ({"welcome_text": "長" * 2001}, "welcome_text", "At most 2000 characters."),
    ]:
        response = _settings(admin, survey, **changes)
        assert response.status_code == 422, changes
        assert message in field_error(response.get_data(as_text=True), field)
    assert snapshot() == before


def test_the_schedule_opens_and_closes_by_itself(admin, runner, make_survey):
    survey = make_survey("pingyi", state=SurveyState.DRAFT)
    with db.transaction():
        survey.opens_at = lifecycle.utc_now() - timedelta(minutes=1)
        survey.closes_at = lifecycle.utc_now() + timedelta(hours=1)
    # Read by a page: it opens.
    assert admin.get(f"/manage/surveys/{survey.id}").status_code == 200
    db.session.expire_all()
    assert find_survey("pingyi").state is SurveyState.OPEN
    with db.transaction():
        survey.closes_at = lifecycle.utc_now() - timedelta(seconds=1)
    # The cron command closes it, audited as done by the schedule.
    result = runner.invoke(args=["apply-schedule"])
    assert result.exit_code == 0 and "pingyi: The survey is closed." in result.output
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).state is SurveyState.CLOSED
    details = db.session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert details[-2].endswith("state=draft->open by=schedule")
    assert details[-1].startswith("survey=pingyi state=open->closed")
    assert details[-1].endswith("by=schedule")
    # Nothing is owed any more; reopening by hand clears the past closing time.
    assert runner.invoke(args=["apply-schedule"]).output == ""
    lifecycle.change_state(None, db.session.get(Survey, survey.id), "reopen")
    db.session.expire_all()
    reopened = find_survey("pingyi")
    assert reopened.state is SurveyState.OPEN and reopened.closes_at is None


def test_a_draft_without_codes_is_deleted_and_a_closed_survey_archived(
    admin, make_survey, make_branch, mint
):
    draft = make_survey("draft", state=SurveyState.DRAFT)
    closed = make_survey("closed", state=SurveyState.CLOSED, campaign="old")
    confirm = admin.get(f"/manage/surveys/{draft.id}/delete")
    assert "deleted for good" in confirm.get_data(as_text=True)
    assert db.session.get(Survey, draft.id) is not None  # asking deletes nothing
    done = admin.post(
        f"/manage/surveys/{draft.id}/delete",
        data={"csrf_token": token_in(confirm.get_data(as_text=True))},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Survey).where(Survey.slug == "draft")) is None
    assert db.session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "survey.delete")
    ) == ("survey=draft")

    # A draft with codes is kept.
    coded = make_survey("coded", state=SurveyState.DRAFT)
    mint(coded, make_branch("b01"), 1)
    page = admin.get(f"/manage/surveys/{coded.id}/delete").get_data(as_text=True)
    refused = admin.post(f"/manage/surveys/{coded.id}/delete", data={"csrf_token": token_in(page)})
    assert refused.status_code == 409
    assert "has codes, answers or keyed paper ballots, so it is kept." in refused.get_data(
        as_text=True
    )

    # Archiving hides the closed survey's campaign from the dashboard, and it comes back.
    admin.post(
        f"/manage/campaigns/{closed.campaign_id}/archive",
        data={"csrf_token": token(admin, "/manage/")},
    )
    db.session.expire_all()
    assert db.session.get(Campaign, closed.campaign_id).is_archived
    dashboard = admin.get("/manage/").get_data(as_text=True)
    assert f'/manage/surveys/{closed.id}"' not in dashboard
    assert "Show archived campaigns and surveys (1)" in dashboard
    assert f"/manage/surveys/{closed.id}" in admin.get("/manage/?archived=1").get_data(as_text=True)
    refused = admin.post(
        f"/manage/surveys/{coded.id}/archive", data={"csrf_token": token(admin, "/manage/")}
    )
    assert refused.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Survey, coded.id).is_archived  # only closed ones are archived


def test_slugs_and_item_keys_are_suggested():
    assert slug_from_title("2026年第一階段滿意度測評", "survey") == (
        "2026-nian-di-yi-jie-duan-man-yi-du-ce-ping"
    )
    assert slug_from_title("……", "survey", today=datetime(2026, 12, 1).date()) == ("survey-2026-12")
    assert next_item_key(["q1", "q2", "q6"]) == "q7"
    assert next_item_key(["a", "b"]) == "q3"
    assert next_item_key([]) == "q1"


def test_a_clerk_never_types_an_identifier(admin, make_survey):
    existing = make_survey("man-yi-du-ce-ping", state=SurveyState.DRAFT, items=6)
    page = admin.get("/manage/surveys/new").get_data(as_text=True)
    created = admin.post(
        "/manage/surveys/new",
        data={
            "csrf_token": token_in(page),
            "campaign": str(existing.campaign_id),
            "title": "滿意度測評",
            "kind": "satisfaction",
            "start": "blank",
        },
    )
    assert created.status_code == 302
    assert db.session.scalar(select(Survey.slug).order_by(Survey.id.desc())) == (
        "man-yi-du-ce-ping-2"
    )
    items = admin.get(f"/manage/surveys/{existing.id}/items").get_data(as_text=True)
    assert 'value="q7"' in items  # the next key, prefilled
    added = admin.post(
        f"/manage/surveys/{existing.id}/items/add",
        data={"csrf_token": token_in(items), "key": "", "text": "新問題"},
    )
    assert added.status_code == 302
    db.session.expire_all()
    assert [i.key for i in db.session.get(Survey, existing.id).items][-1] == "q7"


def _preview_import(admin, name: str, data: bytes):
    return admin.post(
        "/manage/branches/import",
        data={"csrf_token": token(admin), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_branch_import_reads_chinese_headers_and_names_only(admin, runner, tmp_path, make_branch):
    make_branch("b01", "第一黨支部")
    table = [["編號", "支部名稱", "上級"], ["p1", "機關黨委", ""], ["p2", "第二黨支部", "機關黨委"]]
    response = _preview_import(admin, "branches.xlsx", xlsx_bytes(table))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200, page
    assert "2 to add, 0 to change, 0 unchanged." in page
    # Names only: a known name keeps its code, a new one gets the next free code.
    names = tmp_path / "names.csv"
    names.write_text("名称\n第一党支部\n第三黨支部\n第三黨支部\n", encoding="utf-8")
    result = runner.invoke(args=["import-branches", str(names)])
    assert result.exit_code == 1  # the same new name twice: one code, listed twice
    names.write_text("名称\n第一党支部\n第三黨支部\n", encoding="utf-8")
    result = runner.invoke(args=["import-branches", str(names)])
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 1 unchanged" in result.output
    codes = dict(db.session.execute(select(Branch.name, Branch.code)).all())
    assert codes == {"第一黨支部": "b01", "第三黨支部": "b02"}
    assert runner.invoke(args=["import-branches", str(names)]).output.count("0 added") == 1
    for fmt in ("csv", "xlsx"):
        template = admin.get(f"/manage/branches/template.{fmt}")
        assert template.status_code == 200
        assert template.headers["Content-Disposition"] == f'attachment; filename="branches.{fmt}"'
    csv_text = admin.get("/manage/branches/template.csv").get_data(as_text=True)
    assert csv_text.lstrip("\ufeff").splitlines()[0] == "编号,名称,上级"


def test_preview_stores_nothing_and_link_surveys_have_posters(
    admin, runner, make_survey, make_branch
):
    make_branch("b01", "第一支部")
    survey = make_survey("pingyi", state=SurveyState.DRAFT, access=Access.LINK)
    before = snapshot()
    preview = admin.get(f"/manage/surveys/{survey.id}/preview").get_data(as_text=True)
    assert preview.count('type="radio"') == 3 * 4 + 2  # three items, and the category
    assert "Nothing you choose here is stored" in preview
    assert 'name="code"' not in preview
    assert snapshot() == before
    page = admin.get(f"/manage/surveys/{survey.id}").get_data(as_text=True)
    assert "http://ceping.test/s/pingyi/b01" in page
    branch = db.session.scalar(select(Branch))
    poster = admin.get(f"/manage/surveys/{survey.id}/poster/{branch.id}").get_data(as_text=True)
    assert "<svg" in poster and "http://ceping.test/s/pingyi/b01" in poster
    result = runner.invoke(args=["survey-links", "pingyi"])
    assert result.output == "b01\t第一支部\thttp://ceping.test/s/pingyi/b01\n"
