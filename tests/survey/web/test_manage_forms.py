"""Every administration form refuses bad input next to the field, keeps what was typed, and
never answers 500; nothing is written by a refused form."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    AuditEntry,
    Branch,
    Campaign,
    Item,
    Role,
    Survey,
    SurveyState,
    User,
)
from tests.helpers.dbstate import snapshot
from tests.helpers.web import (
    field_error,
    input_value,
    token,
    xlsx_bytes,
)


@pytest.fixture
def draft_survey(make_survey, make_branch):
    """A draft survey (three items, four-level scale, member/public) and branch b01."""
    make_branch("b01", "第一支部")
    return make_survey("pingyi", state=SurveyState.DRAFT)


def _post(client, path: str, data: dict, **kwargs):
    response = client.post(path, data={"csrf_token": token(client), **data}, **kwargs)
    assert response.status_code != 500
    return response, response.get_data(as_text=True)


# ---- campaigns and surveys --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"slug": "Bad Slug", "title": "活動"}, "slug", 'Use lower-case letters, digits, "_"'),
        ({"slug": "x" * 65, "title": "活動"}, "slug", "At most 64 characters."),
        ({"slug": "xjx2", "title": ""}, "title", "Please enter a title."),
        ({"slug": "xjx", "title": "again"}, "slug", "already used by another campaign"),
    ],
)
def test_campaign_form_refuses_bad_input(admin, make_survey, data, field, message):
    make_survey("existing", campaign="xjx")
    before = snapshot()
    response, page = _post(admin, "/manage/campaigns/new", data)
    assert response.status_code == 422
    assert message in field_error(page, field)
    typed = data[field]
    assert input_value(page, field) == typed
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"slug": "Pingyi 2"}, "slug", 'Use lower-case letters, digits, "_"'),
        ({"slug": "pingyi"}, "slug", "already used by another survey"),
        ({"title": ""}, "title", "Please enter a title."),
        ({"start": ""}, "start", "Choose how to start the survey."),
        ({"start": "template:nonexistent"}, "start", "Not a valid choice"),
        ({"campaign": "999"}, "campaign", "Please choose a campaign"),
    ],
)
def test_new_survey_form_refuses_bad_input(admin, draft_survey, change, field, message):
    campaign = db.session.scalar(select(Campaign))
    data = {
        "campaign": str(campaign.id),
        "slug": "manyidu",
        "title": "滿意度測評",
        "kind": "satisfaction",
        "start": "blank",
        **change,
    }
    before = snapshot()
    response, page = _post(admin, "/manage/surveys/new", data)
    assert response.status_code == 422
    assert message in field_error(page, field)
    if field in {"slug", "title"}:
        assert input_value(page, field) == data[field]
    else:
        assert input_value(page, "title") == "滿意度測評"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"threshold": "2"}, "threshold", "At least 3"),
        ({"threshold": "abc"}, "threshold", "At least 3"),
        ({"threshold": ""}, "threshold", "Please enter a whole number."),
        ({"comment_max_length": "0"}, "comment_max_length", "Between 1 and 20000."),
        ({"title": ""}, "title", "Please enter a title."),
        ({"access": "email"}, "access", "Not a valid choice"),
    ],
)
def test_settings_form_refuses_bad_input(admin, draft_survey, change, field, message):
    data = {
        "title": "新標題",
        "kind": "evaluation",
        "access": "codes",
        "threshold": "5",
        "results": "after_close",
        "comments": "y",
        "comment_max_length": "800",
        "min_rank_respondents": "30",
        **change,
    }
    before = snapshot()
    response, page = _post(admin, f"/manage/surveys/{draft_survey.id}/settings", data)
    assert response.status_code == 422
    assert message in field_error(page, field)
    assert input_value(page, "title") == data["title"]
    assert snapshot() == before


def test_settings_are_saved_and_audited(admin, draft_survey):
    response, _page = _post(
        admin,
        f"/manage/surveys/{draft_survey.id}/settings",
        {
            "title": "新標題",
            "kind": "evaluation",
            "access": "link",
            "threshold": "7",
            "results": "live",
            "comment_max_length": "800",
            "min_rank_respondents": "12",
        },
    )
    assert response.status_code == 302
    survey = db.session.get(Survey, draft_survey.id)
    assert (survey.title, survey.access.value, survey.threshold) == ("新標題", "link", 7)
    assert (survey.results_visibility.value, survey.allows_comments) == ("live", False)
    assert (survey.comment_max_length, survey.min_rank_respondents) == (800, 12)
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.update")).username
        == "office"
    )


# ---- questionnaire ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"key": "bad key", "text": "新問題"}, "key", 'Use letters, digits, "_", "." or "-"'),
        ({"key": "q1", "text": "新問題"}, "key", "Another item already uses this key."),
        ({"key": "Q1", "text": "新問題"}, "key", "Another item already uses this key."),
        ({"key": "code", "text": "新問題"}, "key", "is reserved"),
        ({"key": "branch", "text": "新問題"}, "key", "is reserved"),
        ({"key": "q9", "text": ""}, "text", "Please enter the question."),
        ({"key": "q9", "text": "長" * 501}, "text", "At most 500 characters."),
    ],
)
def test_item_form_refuses_bad_input(admin, draft_survey, data, field, message):
    before = snapshot()
    response, page = _post(admin, f"/manage/surveys/{draft_survey.id}/items/add", data)
    assert response.status_code == 422
    assert message in field_error(page, field)
    assert input_value(page, "key") == data["key"]
    assert input_value(page, "text") == data["text"]
    assert snapshot() == before


def _scale(preset: str, rows: list[tuple[str, str, str, bool]]) -> dict[str, str]:
    data = {"preset": preset}
    for index, (key, label, weight, favourable) in enumerate(rows):
        data[f"options-{index}-key"] = key
        data[f"options-{index}-label"] = label
        data[f"options-{index}-weight"] = weight
        if favourable:
            data[f"options-{index}-favourable"] = "y"
    return data


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        ([("yes", "是", "100", True)], None, "A scale needs at least two options."),
        (
            [("yes", "是", "lots", True), ("no", "否", "0", False)],
            "options-0-weight",
            "Please enter a number",
        ),
        ([("yes", "是", "100", True), ("", "否", "0", False)], "options-1-key", "enter a key"),
        (
            [("yes", "是", "100", True), ("no", "否", "0", True)],
            None,
            "at least one favourable and one unfavourable",
        ),
        ([("yes", "是", "100", True), ("yes", "否", "0", False)], None, "is used twice"),
    ],
)
def test_custom_scale_is_checked(admin, draft_survey, rows, field, message):
    before = snapshot()
    response, page = _post(
        admin, f"/manage/surveys/{draft_survey.id}/scale", _scale("custom", rows)
    )
    assert response.status_code == 422
    if field is None:
        assert message in page
    else:
        assert message in field_error(page, field)
    assert input_value(page, "options-0-label") == rows[0][1]
    assert snapshot() == before


def test_scale_presets_and_custom_scales_are_saved(admin, draft_survey):
    path = f"/manage/surveys/{draft_survey.id}/scale"
    response, _page = _post(admin, path, _scale("three_level", []))
    assert response.status_code == 302
    db.session.expire_all()
    survey = db.session.get(Survey, draft_survey.id)
    assert [(o.label, o.weight, o.is_favourable) for o in survey.options] == [
        ("滿意", 100, True),
        ("基本滿意", 60, True),
        ("不滿意", 0, False),
    ]
    rows = [("yes", "是", "1", True), ("no", "否", "0", False)]
    response, _page = _post(admin, path, _scale("custom", rows))
    assert response.status_code == 302
    db.session.expire_all()
    assert [(o.key, o.weight) for o in db.session.get(Survey, draft_survey.id).options] == [
        ("yes", 1),
        ("no", 0),
    ]
    page = admin.get(path).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="custom"', page)


def _categories(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    data = {}
    for index, (key, label, weight) in enumerate(rows):
        data[f"categories-{index}-key"] = key
        data[f"categories-{index}-label"] = label
        data[f"categories-{index}-weight"] = weight
    return data


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        ([], None, "at least one respondent category"),
        ([("member", "", "")], "categories-0-label", "Please enter a label."),
        ([("member", "黨員", "-1")], "categories-0-weight", "A weight is a number above 0"),
        ([("member", "黨員", "0.4"), ("public", "羣眾", "")], None, "every category needs one"),
        ([("a b", "黨員", "")], "categories-0-key", 'Use letters, digits, "_", "." or "-"'),
    ],
)
def test_categories_are_checked(admin, draft_survey, rows, field, message):
    before = snapshot()
    response, page = _post(
        admin, f"/manage/surveys/{draft_survey.id}/categories", _categories(rows)
    )
    assert response.status_code == 422
    if field is None:
        assert message in page
    else:
        assert message in field_error(page, field)
    if rows:
        assert input_value(page, "categories-0-key") == rows[0][0]
    assert snapshot() == before


def test_category_with_codes_is_not_removed(admin, draft_survey, mint):
    """A category in use is a conflict with what exists (409), like a locked questionnaire."""
    mint(draft_survey, db.session.scalar(select(Branch)), 2, category="public")
    before = snapshot()
    response, page = _post(
        admin,
        f"/manage/surveys/{draft_survey.id}/categories",
        _categories([("member", "黨員", "")]),
    )
    assert response.status_code == 409
    assert "has responses or access codes and cannot be removed" in page
    assert snapshot() == before


# ---- branches ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "", "name": "新支部"}, "code", "Please enter a code."),
        ({"code": "=cmd", "name": "新支部"}, "code", 'Use letters, digits, "_", "." or "-"'),
        ({"code": "b01", "name": "新支部"}, "code", "Another branch already has this code."),
        ({"code": "b02", "name": ""}, "name", "Please enter a name."),
        ({"code": "b02", "name": "新支部", "parent": "abc"}, "parent", "Not a valid choice"),
    ],
)
def test_branch_form_refuses_bad_input(admin, draft_survey, data, field, message):
    before = snapshot()
    response, page = _post(admin, "/manage/branches/new", {"parent": "0", **data})
    assert response.status_code == 422
    assert message in field_error(page, field)
    assert input_value(page, "code") == data["code"]
    assert input_value(page, "name") == data["name"]
    assert snapshot() == before


def test_branch_cannot_become_its_own_ancestor(admin, make_branch):
    top = make_branch("top", "機關黨委")
    child = make_branch("c1", "第一支部", parent_id=top.id)
    response, page = _post(
        admin,
        f"/manage/branches/{top.id}",
        {"code": "top", "name": "機關黨委", "parent": str(child.id)},
    )
    assert response.status_code == 422
    assert "loop of branches" in field_error(page, "parent")


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "Please choose a file."),
        ((b"%PDF-1.4", "branches.pdf"), "Only CSV or .xlsx files can be read."),
    ],
)
def test_import_form_needs_a_readable_file(admin, upload, message):
    data = {} if upload is None else {"file": (io.BytesIO(upload[0]), upload[1])}
    response, page = _post(
        admin, "/manage/branches/import", data, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert message in field_error(page, "file")


def test_import_preview_lists_errors_with_line_numbers(admin, make_branch):
    make_branch("b01", "第一支部")
    workbook = xlsx_bytes(
        [
            ["code", "name", "parent"],
            ["b01", "第一支部（改名）", None],
            ["b02", None, None],
            ["b03", "第三支部", "zz"],
            ["b03", "重複", None],
        ]
    )
    before = snapshot()
    response, page = _post(
        admin,
        "/manage/branches/import",
        {"file": (io.BytesIO(workbook), "branches.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = html.unescape(page)
    assert "line 3, name: the branch name is missing" in page
    assert 'line 4, parent: unknown branch "zz"' in page
    assert 'line 5, code: duplicate code "b03" (first on line 4)' in page
    assert "Import these branches" not in page
    assert snapshot() == before


def test_import_preview_shows_changes_and_a_forged_payload_is_refused(admin, make_branch):
    make_branch("b01", "第一支部")
    csv_file = "code,name\nb01,第一支部（改名）\nb02,第二支部\n".encode()
    response, page = _post(
        admin,
        "/manage/branches/import",
        {"file": (io.BytesIO(csv_file), "branches.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "1 to add, 1 to change, 0 unchanged." in page
    assert "<del>第一支部</del> → 第一支部（改名）" in page
    before = snapshot()
    response, page = _post(admin, "/manage/branches/import/confirm", {"payload": "forged.data"})
    assert response.status_code == 400
    assert "expired or was changed" in page
    assert snapshot() == before


# ---- codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"count": "0"}, "count", "Between 1 and 1000."),
        ({"count": "1001"}, "count", "Between 1 and 1000."),
        ({"count": ""}, "count", "Please enter how many codes to mint."),
        ({"branch": "999"}, "branch", "Please choose one of the campaign's active branches."),
        ({"category": "999"}, "category", "Please choose a respondent category."),
    ],
)
def test_mint_form_refuses_bad_input(admin, draft_survey, change, field, message):
    branch = db.session.scalar(select(Branch))
    data = {
        "branch": str(branch.id),
        "category": str(draft_survey.categories[0].id),
        "count": "5",
        **change,
    }
    before = snapshot()
    response, page = _post(admin, f"/manage/surveys/{draft_survey.id}/codes", data)
    assert response.status_code == 422
    assert message in field_error(page, field)
    assert input_value(page, "count") == data["count"]
    assert snapshot() == before


def test_inactive_branch_gets_no_codes(admin, draft_survey, make_branch):
    old = make_branch("old", "撤銷支部", is_active=False)
    before = snapshot()
    response, page = _post(
        admin,
        f"/manage/surveys/{draft_survey.id}/codes",
        {"branch": str(old.id), "category": str(draft_survey.categories[0].id), "count": "5"},
    )
    assert response.status_code == 422
    assert "Please choose one of the campaign's active branches." in field_error(page, "branch")
    assert snapshot() == before


# ---- users ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": ""}, "username", "Please enter a username."),
        ({"username": "two words"}, "username", "A username has no spaces."),
        ({"username": "office"}, "username", "This username is already taken."),
        ({"password": "short", "confirm": "short"}, "password", "at least 10 characters"),
        ({"confirm": "something else entirely"}, "confirm", "The two passwords are not the same."),
        ({"role": "branch_viewer", "branch": "0"}, "branch", "A branch viewer needs a branch."),
        ({"role": "root"}, "role", "Not a valid choice"),
    ],
)
def test_new_user_form_refuses_bad_input(admin, draft_survey, change, field, message):
    data = {
        "username": "secretary",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "role": "supervisor",
        "branch": "0",
        **change,
    }
    before = snapshot()
    response, page = _post(admin, "/manage/users/new", data)
    assert response.status_code == 422
    assert message in field_error(page, field)
    assert input_value(page, "username") == data["username"]
    assert 'value="a long enough password"' not in page  # passwords are never sent back
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"password": "short", "confirm": "short"}, "password", "at least 10 characters"),
        ({"password": "long enough 123", "confirm": "other"}, "confirm", "not the same"),
    ],
)
def test_password_reset_form_refuses_bad_input(admin, make_user, data, field, message):
    account = make_user("viewer", Role.SUPERVISOR)
    before = snapshot()
    response, page = _post(admin, f"/manage/users/{account.id}/password", data)
    assert response.status_code == 422
    assert message in field_error(page, field)
    assert snapshot() == before


def test_admin_cannot_lock_the_office_out(admin):
    me = db.session.scalar(select(User).where(User.username == "office"))
    before = snapshot()
    response, page = _post(admin, f"/manage/users/{me.id}", {"role": "supervisor", "branch": "0"})
    assert response.status_code == 422
    assert "cannot take the administrator role from yourself" in field_error(page, "role")
    response, page = _post(admin, f"/manage/users/{me.id}/deactivate", {})
    assert response.status_code == 409
    assert "cannot deactivate your own account" in page
    assert snapshot() == before


# ---- nothing answers 500 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/manage/surveys/999",
        "/manage/surveys/999/settings",
        "/manage/surveys/999/codes",
        "/manage/surveys/999/turnout.json",
        "/manage/branches/999",
        "/manage/users/999",
        "/manage/campaigns/999",
    ],
)
def test_unknown_objects_are_404(admin, path):
    assert admin.get(path).status_code == 404


def test_items_of_another_survey_and_unknown_directions_are_404(admin, draft_survey, make_survey):
    other = make_survey("other")
    item = other.items[0]
    response, _page = _post(admin, f"/manage/surveys/{draft_survey.id}/items/{item.id}/move/up", {})
    assert response.status_code == 404
    response, _page = _post(
        admin, f"/manage/surveys/{draft_survey.id}/items/{draft_survey.items[0].id}/move/left", {}
    )
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Item.id))) == 6
