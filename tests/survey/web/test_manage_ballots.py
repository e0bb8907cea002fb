"""Paper ballots in the browser: the keying grid, blind second keying, disagreements, uploads."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    AuditEntry,
    BallotDraft,
    Branch,
    Response,
    Role,
    Source,
    SurveyState,
)
from tests.helpers.dbstate import snapshot
from tests.helpers.results import sealed_ballots
from tests.helpers.web import field_error, token, xlsx_bytes

GOOD = ["good", "good", "good"]


@pytest.fixture
def survey(make_survey, make_branch):
    """An open three-item survey with comments, and branches b01 and b02."""
    make_branch("b01", "第一支部")
    make_branch("b02", "第二支部")
    return make_survey("pingyi", items=3, comments=True)


@pytest.fixture
def clerk(signed_in):
    """A data-entry account's browser: the second person who keys each batch."""
    return signed_in(Role.DATA_ENTRY, username="clerk")


def _grid(rows, csrf: str, **extra) -> dict[str, str]:
    """Form data of a keying grid; a row is (branch, category, answers[, comment])."""
    data = {"csrf_token": csrf, "submit": "1", **extra}
    for index, row in enumerate(rows):
        if row is None:
            continue
        branch, category, answers, *comment = row
        data[f"ballots-{index}-branch"] = branch
        data[f"ballots-{index}-category"] = category
        for position, answer in enumerate(answers):
            data[f"ballots-{index}-item{position}"] = answer
        if comment:
            data[f"ballots-{index}-comment"] = comment[0]
    return data


def _token(client, survey) -> str:
    """A CSRF token from the keying grid (a page every account that keys may open)."""
    return token(client, f"/manage/surveys/{survey.id}/ballots/key")


def _key(client, survey, rows, **extra):
    response = client.post(
        f"/manage/surveys/{survey.id}/ballots/key", data=_grid(rows, token(client), **extra)
    )
    return response, response.get_data(as_text=True)


def _draft() -> BallotDraft:
    db.session.expire_all()
    return db.session.scalar(select(BallotDraft))


def _paper() -> int:
    """Paper ballots received: counted, or still sealed in the ballot box."""
    counted = select(func.count(Response.id)).where(Response.source == Source.PAPER)
    return db.session.scalar(counted) + sum(
        group.source is Source.PAPER for group, _ballot in sealed_ballots()
    )


def _selected(page: str, name: str) -> str | None:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    for option in re.findall(r"<option[^>]*>", select_html.group(1)):
        if re.search(r"\sselected\b", option):
            return re.search(r'value="([^"]*)"', option).group(1)
    return None


def test_grid_refuses_incomplete_rows_next_to_the_cell_and_keeps_input(admin, survey):
    before = snapshot()
    rows = [
        ("b01", "member", GOOD),
        ("", "public", ["poor", "", "average"]),  # the branch was forgotten
        None,  # a blank row in between is ignored
        ("b02", "", ["good", "", ""]),  # the category was forgotten
    ]
    response, page = _key(admin, survey, rows)
    assert response.status_code == 422
    assert field_error(page, "ballots-1-branch") == "the branch code is missing"
    assert field_error(page, "ballots-3-category") == "the respondent category is missing"
    assert field_error(page, "ballots-0-branch") is None
    assert _selected(page, "ballots-1-item0") == "poor"
    assert _selected(page, "ballots-1-category") == "public"
    assert _selected(page, "ballots-0-branch") == "b01"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "No ballot was entered."),
        # Branch and category alone are a blank row (Enter carries them over): nothing to save.
        ([("b01", "member", ["", "", ""])], "No ballot was entered."),
        ([("b01", "member", ["excellent", "", ""])], "Not a valid choice"),
        ([("b99", "member", GOOD)], "Not a valid choice"),
    ],
)
def test_grid_refuses_empty_or_forged_ballots(admin, survey, rows, message):
    before = snapshot()
    response, page = _key(admin, survey, rows)
    assert response.status_code == 422
    assert message in html.unescape(page)
    assert snapshot() == before


def test_grid_of_a_draft_survey_is_refused(admin, make_survey, make_branch):
    make_branch("b01")
    draft_survey = make_survey("draft", state=SurveyState.DRAFT)
    response, page = _key(admin, draft_survey, [("b01", "member", GOOD)])
    assert response.status_code == 422
    assert "open it before keying in paper ballots" in page
    assert db.session.scalar(select(func.count(BallotDraft.id))) == 0


def test_more_rows_keep_what_was_keyed(admin, survey):
    response, page = _key(admin, survey, [("b01", "member", GOOD)], more="1", submit="")
    assert response.status_code == 200
    assert page.count("data-row>") == 20
    assert _selected(page, "ballots-0-branch") == "b01"
    assert db.session.scalar(select(func.count(BallotDraft.id))) == 0


def test_grid_offers_keyboard_shortcuts_and_works_without_script(admin, survey):
    page = admin.get(f"/manage/surveys/{survey.id}/ballots/key").get_data(as_text=True)
    assert page.count("data-row>") == 10
    assert '<option value="fairly_good">2 比較好</option>' in page
    assert 'data-shortcuts="1"' in page and "manage-ballots.js" in page
    assert 'name="more"' in page  # "Add rows" works without JavaScript
    script = admin.get("/static/js/manage-ballots.js")
    assert script.status_code == 200
    script.close()


def test_agreeing_keyings_are_stored_at_once(admin, clerk, survey):
    rows = [("b01", "member", GOOD), ("b02", "public", ["poor", "", "average"])]
    response, _page = _key(admin, survey, rows)
    assert response.status_code == 302
    draft = _draft()
    verify = f"/manage/surveys/{survey.id}/ballots/{draft.id}/verify"
    blind = clerk.get(verify).get_data(as_text=True)
    assert "Key in the same 2 paper forms" in blind
    assert not re.search(r'<option selected value="[^"]+"', blind)  # first keying not shown
    assert _paper() == 0
    response = clerk.post(verify, data=_grid(rows, _token(clerk, survey)))
    assert response.status_code == 302
    assert _paper() == 2
    assert _draft() is None
    answers = sum(len(ballot.answers) for _group, ballot in sealed_ballots())
    assert answers == 5  # one item left blank on the second ballot
    counts = admin.get(f"/manage/surveys/{survey.id}/turnout.json").get_json()["counts"]
    assert counts["total"]["paper_ballots"] == 2
    detail = db.session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "ballots.commit")
    )
    assert "ballots=2" in detail


def test_disagreements_are_settled_cell_by_cell(admin, clerk, survey):
    first = [("b01", "member", GOOD), ("b01", "member", ["average", "poor", "good"])]
    second = [
        ("b01", "member", GOOD),
        ("b02", "member", ["average", "poor", "fairly_good"]),
        ("b01", "public", ["poor", "", ""]),  # a ballot the first keyer skipped
    ]
    _key(admin, survey, first)
    draft = _draft()
    base = f"/manage/surveys/{survey.id}/ballots/{draft.id}"
    response = clerk.post(f"{base}/verify", data=_grid(second, _token(clerk, survey)))
    assert response.headers["Location"].endswith(f"{base}/resolve")
    page = html.unescape(clerk.get(f"{base}/resolve").get_data(as_text=True))
    # Two cells of ballot 2, and the filled cells of the ballot only the second keyer typed.
    assert page.count('class="disagreement"') == 2 + 3
    assert _paper() == 0
    assert "3. 第3題" in page

    # Nothing chosen for some cells: refused next to each, choices kept, nothing stored.
    before = snapshot()
    partial = {"csrf_token": _token(clerk, survey), "d-2-branch": "b02"}
    response = clerk.post(f"{base}/resolve", data=partial)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "d-2-q3") == "Please choose a value."
    assert field_error(page, "d-2-branch") is None
    assert _selected(page, "d-2-branch") == "b02"
    response = clerk.post(
        f"{base}/resolve", data={"csrf_token": _token(clerk, survey), "d-2-branch": "b99"}
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "d-2-branch") == "Please choose a value."
    assert snapshot() == before

    # The paper says: branch b02, item 3 一般; the third ballot does not exist (all blank).
    choices = {"d-2-branch": "b02", "d-2-q3": "average"}
    choices |= {f"d-3-{c}": "-" for c in ("branch", "category", "q1")}
    response = clerk.post(f"{base}/resolve", data={"csrf_token": _token(clerk, survey), **choices})
    assert response.status_code == 302
    assert _paper() == 2
    assert _draft() is None
    branch_codes = {b.id: b.code for b in db.session.scalars(select(Branch))}
    assert sorted(branch_codes[group.branch_id] for group, _ballot in sealed_ballots()) == [
        "b01",
        "b02",
    ]
    # Committing the same draft again finds nothing.
    assert (
        clerk.post(f"{base}/resolve", data={"csrf_token": _token(clerk, survey)}).status_code == 404
    )


def test_resolution_that_leaves_a_ballot_invalid_is_refused(admin, clerk, survey):
    _key(admin, survey, [("b01", "member", GOOD)])
    draft = _draft()
    base = f"/manage/surveys/{survey.id}/ballots/{draft.id}"
    clerk.post(f"{base}/verify", data=_grid([("b02", "member", GOOD)], _token(clerk, survey)))
    before = snapshot()
    csrf = _token(clerk, survey)
    response = clerk.post(f"{base}/resolve", data={"csrf_token": csrf, "d-1-branch": "-"})
    assert response.status_code == 422
    assert "Ballot 1: the branch code is missing" in response.get_data(as_text=True)
    assert snapshot() == before


def test_upload_shows_problems_with_line_numbers(admin, survey):
    text = "branch,category,q1,q2,q3\nb01,黨員,好,比較好,一般\nb09,黨員,好,,\nb01,羣眾,極好,,\n"
    before = snapshot()
    response = admin.post(
        f"/manage/surveys/{survey.id}/ballots/upload",
        data={"csrf_token": token(admin), "file": (io.BytesIO(text.encode()), "ballots.csv")},
        content_type="multipart/form-data",
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert 'line 3, branch: unknown branch "b09"' in page
    assert 'line 4, q1: unknown option "極好"' in page
    assert snapshot() == before


def test_uploaded_ballots_are_stored_after_the_preview(admin, survey):
    workbook = xlsx_bytes(
        [
            ["branch", "category", "q1", "q2", "q3", "comment"],
            ["b01", "黨員", "好", "比較好", "一般", None],
            ["b01", "member", "good", None, "poor", "要多聽羣眾意見"],
            ["b02", "羣眾", "差", "差", "差", "服務要再改進"],
        ]
    )
    response = admin.post(
        f"/manage/surveys/{survey.id}/ballots/upload",
        data={"csrf_token": token(admin), "file": (io.BytesIO(workbook), "紙本.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    preview = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 ballots, entered by office." in preview
    assert re.search(r"<td>b01</td><td class=\"num\">2</td>", preview)
    assert _paper() == 0
    draft = _draft()
    response = admin.post(
        f"/manage/surveys/{survey.id}/ballots/{draft.id}/commit",
        data={"csrf_token": token(admin)},
    )
    assert response.status_code == 302
    assert _paper() == 3
    assert sum(ballot.comment is not None for _group, ballot in sealed_ballots()) == 2
    assert _draft() is None


def test_a_draft_can_be_discarded(admin, survey):
    _key(admin, survey, [("b01", "member", GOOD)])
    draft = _draft()
    listing = admin.get(f"/manage/surveys/{survey.id}/ballots").get_data(as_text=True)
    assert "Waiting for another person" in listing  # the first keyer cannot key it again
    response = admin.post(
        f"/manage/surveys/{survey.id}/ballots/{draft.id}/discard",
        data={"csrf_token": token(admin)},
    )
    assert response.status_code == 302
    assert _draft() is None and _paper() == 0
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ballots.discard"))


def test_a_trailing_row_with_only_branch_and_category_is_ignored(admin, survey):
    """Enter carries branch and category into a new last row; that row must not block saving."""
    rows = [("b01", "member", GOOD), ("b01", "public", ["poor", "", ""]), ("b01", "public", [])]
    response, _page = _key(admin, survey, rows)
    assert response.status_code == 302
    message = "2 ballots keyed."
    assert message in admin.get(response.headers["Location"]).get_data(as_text=True)


def test_the_grid_keys_comments_within_the_surveys_limit(admin, clerk, survey):
    page = admin.get(f"/manage/surveys/{survey.id}/ballots/key").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*maxlength="2000"[^>]*name="ballots-0-comment"', page
    ) or re.search(r'<input[^>]*name="ballots-0-comment"[^>]*maxlength="2000"', page)
    survey.comment_max_length = 10
    db.session.commit()
    before = snapshot()
    response, page = _key(admin, survey, [("b01", "member", GOOD, "多聽聽羣眾的意見再做決定吧")])
    assert response.status_code == 422
    assert field_error(html.unescape(page), "ballots-0-comment") == (
        "the comment is 13 characters long; at most 10 are allowed"
    )
    assert snapshot() == before
    # A comment alone is a ballot; a differently typed comment is settled against the paper.
    rows = [("b01", "member", GOOD, "要多聽意見"), ("b02", "public", ["", "", ""], "服務好")]
    assert _key(admin, survey, rows)[0].status_code == 302
    draft = _draft()
    base = f"/manage/surveys/{survey.id}/ballots/{draft.id}"
    second = [("b01", "member", GOOD, "要多听意見"), ("b02", "public", ["", "", ""], "服務好")]
    response = clerk.post(f"{base}/verify", data=_grid(second, _token(clerk, survey)))
    assert response.headers["Location"].endswith(f"{base}/resolve")
    page = clerk.get(f"{base}/resolve").get_data(as_text=True)
    assert page.count('class="disagreement"') == 1
    assert '<option value="要多聽意見">要多聽意見</option>' in page
    response = clerk.post(
        f"{base}/resolve", data={"csrf_token": _token(clerk, survey), "d-1-comment": "要多聽意見"}
    )
    assert response.status_code == 302
    comments = sorted(ballot.comment for _group, ballot in sealed_ballots())
    assert comments == ["服務好", "要多聽意見"]


def test_a_survey_without_comments_has_no_comment_column(admin, make_survey):
    quiet = make_survey("quiet", comments=False)
    page = admin.get(f"/manage/surveys/{quiet.id}/ballots/key").get_data(as_text=True)
    assert "ballots-0-comment" not in page


def test_batches_are_numbered_per_survey_and_numbers_are_never_reused(admin, clerk, survey):
    numbers = []
    for _n in range(3):
        _key(admin, survey, [("b01", "member", GOOD)])
        numbers.append(max(d.number for d in db.session.scalars(select(BallotDraft))))
    assert numbers == [1, 2, 3]
    # Batch 3 is stored (its draft deleted); the next batch is 4, not 3 again.
    third = db.session.scalar(select(BallotDraft).where(BallotDraft.number == 3))
    clerk.post(
        f"/manage/surveys/{survey.id}/ballots/{third.id}/verify",
        data=_grid([("b01", "member", GOOD)], _token(clerk, survey)),
    )
    assert db.session.scalar(select(func.count(BallotDraft.id))) == 2
    _key(admin, survey, [("b01", "member", GOOD)])
    assert max(d.number for d in db.session.scalars(select(BallotDraft))) == 4
    listing = admin.get(f"/manage/surveys/{survey.id}/ballots").get_data(as_text=True)
    shown = re.findall(r'/ballots/\d+">(\d+)</a></td>', listing)
    assert shown == ["1", "2", "4"]
    fourth = db.session.scalar(select(BallotDraft).where(BallotDraft.number == 4))
    page = admin.get(f"/manage/surveys/{survey.id}/ballots/{fourth.id}").get_data(as_text=True)
    assert "Ballot batch 4" in page
    details = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action.like("ballots.%"))
    ).all()
    assert "survey=pingyi batch=3 origin=grid ballots=1" in details  # the commit of batch 3
    assert all("draft=" not in detail for detail in details)


def test_the_office_records_paper_forms_handed_out(admin, survey):
    from survey.models import PaperHandout

    page = admin.get(f"/manage/surveys/{survey.id}/ballots/handouts").get_data(as_text=True)
    b01 = db.session.scalar(select(Branch).where(Branch.code == "b01"))
    member = survey.category("member")
    name = f"h-{b01.id}-{member.id}"
    assert f'name="{name}"' in page
    csrf = token(admin, f"/manage/surveys/{survey.id}/ballots/handouts")
    before = snapshot()
    response = admin.post(
        f"/manage/surveys/{survey.id}/ballots/handouts", data={"csrf_token": csrf, name: "十"}
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), name) == (
        "Enter a whole number of forms (or leave it blank)."
    )
    assert snapshot() == before
    response = admin.post(
        f"/manage/surveys/{survey.id}/ballots/handouts", data={"csrf_token": csrf, name: "12"}
    )
    assert response.headers["Location"].endswith(f"/manage/surveys/{survey.id}/turnout")
    assert db.session.get(PaperHandout, (survey.id, b01.id, member.id)).count == 12
    turnout = admin.get(f"/manage/surveys/{survey.id}/turnout")
    page = turnout.get_data(as_text=True)
    assert '<td class="num" data-field="paper_handed_out">12</td>' in page
    assert 'data-category="member"' in page
    counts = admin.get(f"/manage/surveys/{survey.id}/turnout.json").get_json()
    assert counts["counts"]["total"]["paper_handed_out"] == 12
    assert counts["display"]["total"]["categories"][0]["paper_handed_out"] == "12"
