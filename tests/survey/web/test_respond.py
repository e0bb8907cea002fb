"""The respondent path: start page, code entry, questionnaire, refusals, open links, back-off."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    Access,
    AccessCode,
    Action,
    Answer,
    Branch,
    CodeBatch,
    Comment,
    Item,
    RespondentCategory,
    Response,
    Role,
    ScaleOption,
    Survey,
    SurveyState,
    Throttle,
)
from survey.services import throttle
from survey.services.lifecycle import change_state
from tests.conftest import csrf_token
from tests.helpers.results import received, sealed_answer_keys, sealed_ballots

# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def english(client):
    """Ask for English pages, so tests can read the messages."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def survey_with_codes(make_survey, make_branch, mint):
    """An open code survey with three items, branch b01 and three member codes."""
    survey = make_survey("pingyi", items=3)
    branch = make_branch("b01", "第一支部")
    return survey, branch, mint(survey, branch, 3)


def all_answers(survey: Survey, option: str = "good") -> dict[str, str]:
    """The same option for every item of ``survey``, keyed as the form names them."""
    return {item.key: option for item in survey.items}


def open_questionnaire(client, code: str):
    """POST a code from the start page; returns (response, CSRF token)."""
    token = csrf_token(client)
    return client.post("/start", data={"csrf_token": token, "code": code}), token


def submit(client, token: str, code: str, answers: dict[str, str], **extra):
    """POST the questionnaire as the browser would."""
    return client.post("/submit", data={"csrf_token": token, "code": code, **answers, **extra})


def count(model) -> int:
    """Rows of ``model`` in the database, read fresh."""
    return db.session.scalar(select(func.count()).select_from(model))


def used_codes() -> int:
    """How many codes are marked used."""
    return db.session.scalar(
        select(func.count()).select_from(AccessCode).where(AccessCode.is_used.is_(True))
    )


def radio_groups(html: str) -> dict[str, list[str]]:
    """Radio input values by name, in page order."""
    groups: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*type=\"radio\"[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag).group(1)
        groups.setdefault(name, []).append(value)
    return groups


def checked_values(html: str) -> dict[str, str]:
    """The checked radio value of each group."""
    checked = {}
    for tag in re.findall(r"<input[^>]*type=\"radio\"[^>]*>", html):
        if re.search(r"\bchecked\b", tag):
            name = re.search(r'name="([^"]+)"', tag).group(1)
            checked[name] = re.search(r'value="([^"]*)"', tag).group(1)
    return checked


# ------------------------------------------------------------------------------ the walk


def test_start_page_asks_for_the_code_and_promises_anonymity(english):
    response = english.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    field = re.search(r'<input[^>]*name="code"[^>]*>', html).group(0)
    for attribute in (
        'autocomplete="off"',
        'autocapitalize="characters"',
        'inputmode="text"',
        'spellcheck="false"',
        'type="text"',
    ):
        assert attribute in field
    assert re.search(r'<label for="code">[^<]+</label>', html)
    assert 'name="csrf_token"' in html
    assert "Your answers are anonymous" in html
    assert re.search(r'<form method="post" action="/start">', html)
    assert '<script src="/static/js/respond.js" defer></script>' in html


def test_full_walk_from_code_to_thanks(english, survey_with_codes):
    survey, branch, codes = survey_with_codes
    page, token = open_questionnaire(english, codes[0])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert survey.title in html
    assert "第一支部" in html
    option_keys = [o.key for o in survey.options]
    assert radio_groups(html) == {item.key: option_keys for item in survey.items}
    for option in survey.options:
        assert f"<span>{option.label}</span>" in html
    for item in survey.items:
        assert f"<legend>{item.position + 1}. {item.text}</legend>" in html
    assert html.count("<fieldset") == len(survey.items)
    assert re.search(r'<form method="post" action="/submit">', html)
    assert re.search(r'<textarea[^>]*maxlength="2000"[^>]*name="comment"', html)

    answers = {"q1": "good", "q2": "average", "q3": "poor"}
    done = submit(english, token, codes[0], answers)
    assert done.status_code == 303
    assert done.headers["Location"] == "/thanks"
    thanks = english.get("/thanks")
    assert thanks.status_code == 200
    assert "stored anonymously" in thanks.get_data(as_text=True)

    # Stored sealed in the ballot box, not yet counted: the code is used, the answers wait.
    assert used_codes() == 1
    assert count(Response) == 0 and count(Comment) == 0
    assert sealed_answer_keys(survey) == [answers]

    # Closing counts what waits (this survey's results were never shown).
    change_state(None, survey, "close")
    assert count(Response) == 1 and count(Comment) == 0 and sealed_ballots() == []
    stored = db.session.execute(
        select(Item.key, ScaleOption.key)
        .select_from(Answer)
        .join(Item, Item.id == Answer.item_id)
        .join(ScaleOption, ScaleOption.id == Answer.option_id)
    ).all()
    assert dict(stored) == answers


@pytest.mark.parametrize(
    "variant",
    [
        lambda c: c.lower(),
        lambda c: c.replace("-", ""),
        lambda c: c.replace("-", " "),
        lambda c: "  " + c.lower().replace("-", " - ") + " ",
        lambda c: c[:7].lower() + c[7:],
    ],
    ids=["lowercase", "no-dashes", "spaces", "padded-spaced-dashes", "mixed-case"],
)
def test_code_is_accepted_however_it_is_typed(english, survey_with_codes, variant):
    survey, _branch, codes = survey_with_codes
    typed = variant(codes[0])
    page, token = open_questionnaire(english, typed)
    assert page.status_code == 200
    assert set(radio_groups(page.get_data(as_text=True))) == {i.key for i in survey.items}
    assert submit(english, token, typed, all_answers(survey)).status_code == 303
    assert used_codes() == 1 and received() == 1


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize("typed", ["22222-22222-22222", "hello", "K7QMX-4HBTZ-9WRE0", ""])
def test_unknown_or_malformed_code_is_refused_on_the_start_page(english, survey_with_codes, typed):
    token = csrf_token(english)
    response = english.post("/start", data={"csrf_token": token, "code": typed})
    html = response.get_data(as_text=True)
    if typed:
        assert response.status_code == 404
        assert "We do not know this code" in html
        assert f'value="{typed}"' in html  # what the respondent typed is kept
    else:
        assert response.status_code == 422
        assert "Please enter the code printed on your slip." in html
    assert 'aria-invalid="true"' in html


def test_unknown_code_in_the_questionnaire_post_is_refused(english, survey_with_codes):
    survey, _branch, _codes = survey_with_codes
    token = csrf_token(english)
    response = submit(english, token, "22222-22222-22222", all_answers(survey))
    assert response.status_code == 404
    assert "We do not know this code" in response.get_data(as_text=True)
    assert received() == 0


def test_used_code_is_refused_at_entry_and_at_submission(english, survey_with_codes):
    survey, _branch, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    assert submit(english, token, codes[0], all_answers(survey)).status_code == 303

    again, _token = open_questionnaire(english, codes[0].lower())
    assert again.status_code == 409
    assert "This code has already been used" in again.get_data(as_text=True)
    twice = submit(english, token, codes[0], all_answers(survey, "poor"))
    assert twice.status_code == 409
    assert "This code has already been used" in twice.get_data(as_text=True)
    assert received() == 1


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (SurveyState.CLOSED, "This survey is closed"),
        (SurveyState.DRAFT, "This survey is not open yet"),
    ],
)
def test_code_of_a_survey_that_is_not_open_is_refused(
    english, make_survey, make_branch, mint, state, message
):
    survey = make_survey("later", state=state)
    codes = mint(survey, make_branch("b01"))
    page, token = open_questionnaire(english, codes[0])
    assert page.status_code == 403
    assert message in page.get_data(as_text=True)
    posted = submit(english, token, codes[0], all_answers(survey))
    assert posted.status_code == 403
    assert message in posted.get_data(as_text=True)
    assert received() == 0 and used_codes() == 0


def test_survey_closed_while_the_questionnaire_was_open(english, survey_with_codes):
    survey, _branch, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    survey.move(Action.CLOSE)
    db.session.commit()
    response = submit(english, token, codes[0], all_answers(survey))
    assert response.status_code == 403
    assert "This survey is closed" in response.get_data(as_text=True)
    assert received() == 0 and used_codes() == 0


def test_missing_answers_keep_the_given_ones_and_are_named(english, survey_with_codes):
    survey, _branch, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    response = submit(english, token, codes[0], {"q2": "fairly_good"}, comment="kept text")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert checked_values(html) == {"q2": "fairly_good"}
    for key in ("q1", "q3"):
        fieldset = re.search(
            rf'<fieldset class="item has-error" id="item-{key}".*?</fieldset>', html, re.S
        )
        assert fieldset, f"{key} is not marked"
        assert "Please choose an answer to this question." in fieldset.group(0)
    assert 'id="item-q2"' in html and 'class="item has-error" id="item-q2"' not in html
    summary = re.search(r'<section class="card" role="alert".*?</section>', html, re.S).group(0)
    assert "2 answers need your attention" in summary
    assert 'href="#item-q1-0"' in summary and 'href="#item-q3-0"' in summary
    assert "kept text</textarea>" in html
    assert f'name="code" type="hidden" value="{codes[0]}"' in html
    assert received() == 0 and used_codes() == 0

    # The kept form can then be completed with the same code.
    completed = submit(english, token, codes[0], all_answers(survey))
    assert completed.status_code == 303
    assert received() == 1


def test_unknown_option_value_is_refused(english, survey_with_codes):
    survey, _branch, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    answers = {**all_answers(survey), "q2": "excellent"}
    response = submit(english, token, codes[0], answers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This answer is not one of the choices." in html
    assert checked_values(html) == {"q1": "good", "q3": "good"}
    assert received() == 0 and used_codes() == 0


def test_comment_over_the_limit_is_refused_and_kept(english, survey_with_codes):
    survey, _branch, codes = survey_with_codes
    survey.comment_max_length = 20
    db.session.commit()
    page, token = open_questionnaire(english, codes[0])
    assert 'maxlength="20"' in page.get_data(as_text=True)
    too_long = "意見" * 10 + "!"
    response = submit(english, token, codes[0], all_answers(survey), comment=too_long)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please shorten your comment to 20 characters." in html
    assert f"{too_long}</textarea>" in html
    assert checked_values(html) == all_answers(survey)
    assert received() == 0 and count(Comment) == 0 and used_codes() == 0

    # Line breaks count once, as in the browser's maxlength, though browsers send CRLF.
    at_limit = "一二三四五六七八九\r\n一二三四五六七八九"
    assert (
        submit(english, token, codes[0], all_answers(survey), comment=at_limit).status_code == 303
    )
    [(_group, ballot)] = sealed_ballots()
    assert ballot.comment == at_limit.replace("\r\n", "\n")


def test_missing_csrf_token_is_refused_and_nothing_is_stored(english, survey_with_codes):
    survey, _branch, codes = survey_with_codes
    csrf_token(english)
    response = english.post("/submit", data={"code": codes[0], **all_answers(survey)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This page has expired or was not sent from this site." in html
    assert "your code can still be used" in html
    assert english.post("/start", data={"code": codes[0]}).status_code == 400
    assert received() == 0 and used_codes() == 0


def test_expired_session_is_refused_and_the_code_stays_usable(english, survey_with_codes):
    survey, _branch, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    english.delete_cookie("session")  # the browser was closed, or the session expired
    response = submit(english, token, codes[0], all_answers(survey))
    assert response.status_code == 400
    assert "This page has expired" in response.get_data(as_text=True)
    assert received() == 0 and used_codes() == 0


def test_forged_csrf_token_is_refused(english, survey_with_codes):
    survey, _branch, codes = survey_with_codes
    csrf_token(english)
    response = submit(english, "forged.token.value", codes[0], all_answers(survey))
    assert response.status_code == 400
    assert received() == 0


def test_comment_is_stored_apart_from_the_response(english, survey_with_codes):
    survey, branch, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    text = "  The rectification list was published on time.  "
    assert submit(english, token, codes[0], all_answers(survey), comment=text).status_code == 303
    change_state(None, survey, "close")
    comment = db.session.scalars(select(Comment)).one()
    assert comment.text == text.strip()
    assert (comment.survey_id, comment.branch_id) == (survey.id, branch.id)
    response = db.session.scalars(select(Response)).one()
    assert comment.id != response.id
    assert not {c.name for c in Comment.__table__.columns} & {"response_id", "category_id"}


def test_survey_without_comments_offers_no_comment_box_and_ignores_one(
    english, make_survey, make_branch, mint
):
    survey = make_survey("nocomment", comments=False)
    codes = mint(survey, make_branch("b01"))
    page, token = open_questionnaire(english, codes[0])
    assert "<textarea" not in page.get_data(as_text=True)
    posted = submit(english, token, codes[0], all_answers(survey), comment="smuggled")
    assert posted.status_code == 303
    [(_group, ballot)] = sealed_ballots()
    assert ballot.comment is None


def test_voided_batch_code_is_unknown(english, survey_with_codes):
    _survey, _branch, codes = survey_with_codes
    db.session.scalars(select(CodeBatch)).one().is_void = True
    db.session.commit()
    page, _token = open_questionnaire(english, codes[0])
    assert page.status_code == 404


# ---------------------------------------------------------------------------- open links


@pytest.fixture
def link_survey(make_survey, make_branch):
    """An open-link survey with two categories and branches b01 (active) and b02 (inactive)."""
    survey = make_survey("manyi", items=2, access=Access.LINK)
    make_branch("b01", "第一支部")
    make_branch("b02", "撤銷支部", is_active=False)
    return survey


def answered_cookie(client):
    """The browser's 'already answered' cookie, or None."""
    return client.get_cookie("ceping_answered", path="/s/")


def test_code_survey_has_no_open_link(english, survey_with_codes):
    assert english.get("/s/pingyi/b01").status_code == 404
    token = csrf_token(english)
    posted = english.post("/s/pingyi/b01", data={"csrf_token": token, "q1": "good"})
    assert posted.status_code == 404
    assert received() == 0


@pytest.mark.parametrize("path", ["/s/manyi/b02", "/s/manyi/nope", "/s/nope/b01"])
def test_open_link_needs_a_known_survey_and_active_branch(english, link_survey, path):
    assert english.get(path).status_code == 404


def test_open_link_of_a_closed_survey_is_refused(english, link_survey):
    link_survey.move(Action.CLOSE)
    db.session.commit()
    response = english.get("/s/manyi/b01")
    assert response.status_code == 403
    assert "This survey is closed" in response.get_data(as_text=True)


def test_open_link_walk_with_category_choice_and_duplicate_refusal(app, english, link_survey):
    page = english.get("/s/manyi/b01")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "第一支部" in html
    assert "Please answer once: this browser keeps a cookie that it has answered." in html
    assert radio_groups(html) == {
        "category": ["member", "public"],
        "q1": ["good", "fairly_good", "average", "poor"],
        "q2": ["good", "fairly_good", "average", "poor"],
    }
    assert re.search(r'<form method="post" action="/s/manyi/b01">', html)
    assert 'name="code"' not in html
    token = csrf_token(english)

    no_category = english.post(
        "/s/manyi/b01", data={"csrf_token": token, **all_answers(link_survey)}
    )
    assert no_category.status_code == 422
    assert "Please choose who you are answering as." in no_category.get_data(as_text=True)
    assert received() == 0

    bad_category = english.post(
        "/s/manyi/b01",
        data={"csrf_token": token, "category": "boss", **all_answers(link_survey)},
    )
    assert bad_category.status_code == 422

    done = english.post(
        "/s/manyi/b01",
        data={
            "csrf_token": token,
            "category": "public",
            **all_answers(link_survey),
            "comment": "ok",
        },
    )
    assert done.status_code == 303
    assert done.headers["Location"] == "/thanks"
    [(group, ballot)] = sealed_ballots()
    public = db.session.scalar(
        select(RespondentCategory.id).where(RespondentCategory.key == "public")
    )
    branch = db.session.scalar(select(Branch.id).where(Branch.code == "b01"))
    assert (group.category_id, group.branch_id) == (public, branch)
    assert len(ballot.answers) == 2 and ballot.comment == "ok"

    cookie = answered_cookie(english)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    # Signed, and holding the survey's slug only: no id, no time.
    serializer = URLSafeSerializer(app.secret_key, salt="ceping.respond.answered")
    assert serializer.loads(cookie.value) == ["manyi"]
    set_cookie = done.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "Path=/s/" in set_cookie

    # Back to the questionnaire in this browser session: the thank-you page.
    back = english.get("/s/manyi/b01")
    assert back.status_code == 303 and back.headers["Location"] == "/thanks"
    # Opened again in a later session: this browser has answered.
    with english.session_transaction() as stored:
        stored.pop("respond_sent")
    again = english.get("/s/manyi/b01")
    assert again.status_code == 409
    assert "This browser has already sent an answer to this survey" in again.get_data(as_text=True)
    second = english.post(
        "/s/manyi/b01",
        data={"csrf_token": token, "category": "member", **all_answers(link_survey, "poor")},
    )
    assert second.status_code == 409
    assert received() == 1


def test_open_link_duplicates_are_discouraged_not_prevented(english, link_survey):
    english_token = csrf_token(english)
    data = {"category": "member", **all_answers(link_survey)}
    assert (
        english.post("/s/manyi/b01", data={"csrf_token": english_token, **data}).status_code == 303
    )

    # A browser without the cookie (another device, or the cookie deleted) can answer again:
    # the page says so plainly.
    english.delete_cookie("ceping_answered", path="/s/")
    assert (
        english.post("/s/manyi/b01", data={"csrf_token": english_token, **data}).status_code == 303
    )
    assert received() == 2


def test_forged_answered_cookie_is_ignored(english, link_survey):
    english.set_cookie("ceping_answered", '["manyi"]', path="/s/")
    assert english.get("/s/manyi/b01").status_code == 200


def test_open_link_with_one_category_asks_no_category(english, link_survey):
    link_survey.categories.pop()
    db.session.commit()
    page = english.get("/s/manyi/b01")
    assert "category" not in radio_groups(page.get_data(as_text=True))
    token = csrf_token(english)
    posted = english.post("/s/manyi/b01", data={"csrf_token": token, **all_answers(link_survey)})
    assert posted.status_code == 303
    member = db.session.scalar(
        select(RespondentCategory.id).where(RespondentCategory.key == "member")
    )
    [(group, _ballot)] = sealed_ballots()
    assert group.category_id == member


def test_open_link_missing_answer_keeps_category_and_answers(english, link_survey):
    token = csrf_token(english)
    response = english.post(
        "/s/manyi/b01", data={"csrf_token": token, "category": "public", "q2": "average"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert checked_values(html) == {"category": "public", "q2": "average"}
    assert "Please answer once" in html
    assert received() == 0


# ------------------------------------------------------------------------------- back-off


def test_code_guessing_is_blocked_across_requests_and_the_row_holds_no_address(
    app, english, survey_with_codes, monkeypatch
):
    survey, _branch, codes = survey_with_codes
    address = "198.51.100.23"
    english.environ_base["REMOTE_ADDR"] = address
    start = throttle._now()
    clock = {"now": start}
    monkeypatch.setattr(throttle, "_now", lambda: clock["now"])
    token = csrf_token(english)

    limit = throttle.CODE_ENTRY.limit
    for guess in range(limit):
        wrong = "23456-789AB-" + f"{guess:05d}".replace("0", "C").replace("1", "D")
        response = english.post("/start", data={"csrf_token": token, "code": wrong})
        # The guess that reaches the limit is already refused.
        assert response.status_code == (404 if guess < limit - 1 else 429), guess

    blocked = english.post("/start", data={"csrf_token": token, "code": "22222-22222-22222"})
    assert blocked.status_code == 429
    assert "Too many codes that do not exist" in blocked.get_data(as_text=True)
    assert 0 < int(blocked.headers["Retry-After"]) <= 600
    # While blocked, even a valid code is refused (else the block would reveal valid codes).
    assert english.post("/start", data={"csrf_token": token, "code": codes[0]}).status_code == 429
    assert submit(english, token, codes[0], all_answers(survey)).status_code == 429
    assert received() == 0

    rows = db.session.execute(select(Throttle.__table__)).all()
    assert len(rows) == 1
    assert rows[0].key.startswith("code:")
    assert all(address not in str(value) for value in rows[0])
    assert rows[0].failures == limit

    # Another address is not affected.
    other = app.test_client()
    other.environ_base.update(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="192.0.2.9")
    db.session.commit()  # release SQLite's write lock before another session reads
    with app.app_context():  # a fresh context, so the other browser gets its own CSRF token
        page, _token = open_questionnaire(other, codes[1])
        assert page.status_code == 200

    # After the block, the respondent gets in.
    clock["now"] = start + throttle.CODE_ENTRY.block + timedelta(seconds=1)
    page, token = open_questionnaire(english, codes[0])
    assert page.status_code == 200
    assert submit(english, token, codes[0], all_answers(survey)).status_code == 303


def test_asking_again_about_a_used_code_counts_towards_the_limit(english, survey_with_codes):
    """An insider who keeps asking whether one person's code has been used yet is slowed down
    like a guesser; typing mistakes below the limit block nobody."""
    survey, _branch, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    assert submit(english, token, codes[0], all_answers(survey)).status_code == 303
    limit = throttle.CODE_ENTRY.limit
    for _ in range(limit // 2):
        assert (
            english.post("/start", data={"csrf_token": token, "code": codes[0]}).status_code == 409
        )
    for _ in range(limit - 1 - limit // 2):
        assert english.post("/start", data={"csrf_token": token, "code": "nope"}).status_code == 404
    page, _token = open_questionnaire(english, codes[1])
    assert page.status_code == 200
    # The next used code reaches the limit: refused, and so is everything after it.
    assert english.post("/start", data={"csrf_token": token, "code": codes[0]}).status_code == 429
    assert english.post("/start", data={"csrf_token": token, "code": codes[2]}).status_code == 429


def test_double_submissions_do_not_count_towards_the_limit(english, survey_with_codes):
    """A hall behind one address sends many double submissions (a second tap, the back button):
    each is refused as already used, and none of them blocks the hall."""
    survey, _branch, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    assert submit(english, token, codes[0], all_answers(survey)).status_code == 303
    for _ in range(throttle.CODE_ENTRY.limit + 5):
        assert submit(english, token, codes[0], all_answers(survey)).status_code == 409
    page, _token = open_questionnaire(english, codes[1])
    assert page.status_code == 200


def test_open_link_without_csrf_token_is_refused(english, link_survey):
    english.get("/s/manyi/b01")
    response = english.post("/s/manyi/b01", data={"category": "member", **all_answers(link_survey)})
    assert response.status_code == 400
    assert "open the survey link again" in response.get_data(as_text=True)
    assert received() == 0 and answered_cookie(english) is None


def test_thanks_page_is_shared_by_respondents_but_not_by_the_signed_in(app, signed_in):
    """The thank-you page is rendered once per language for respondents; a signed-in visitor
    still gets the navigation of their own page."""
    from tests.conftest import isolated_client

    first, second = isolated_client(app), isolated_client(app)
    first.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    second.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-TW"
    english = first.get("/thanks").get_data(as_text=True)
    chinese = second.get("/thanks").get_data(as_text=True)
    assert "stored anonymously" in english and "stored anonymously" not in chinese
    assert first.get("/thanks").get_data(as_text=True) == english
    office = signed_in(Role.ADMIN, username="office")
    page = office.get("/thanks").get_data(as_text=True)
    assert 'action="/logout"' in page and 'action="/logout"' not in english


def test_shared_questionnaire_page_carries_each_respondents_own_code_and_token(
    app, survey_with_codes
):
    """The unanswered questionnaire is rendered once and shared; each respondent's copy holds
    their own code and CSRF token, never those of whoever opened it first."""
    from tests.conftest import isolated_client

    _, _, codes = survey_with_codes
    pages = []
    for code in codes[:2]:
        client = isolated_client(app)
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        html = open_questionnaire(client, code)[0].get_data(as_text=True)
        hidden = dict(
            re.findall(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]+)">', html)
        )
        pages.append((html, code.replace("-", ""), hidden))
    (first, first_code, first_hidden), (second, second_code, second_hidden) = pages
    assert first_hidden["code"] == first_code and second_hidden["code"] == second_code
    assert first_hidden["csrf_token"] != second_hidden["csrf_token"]
    assert first_code not in second and first_hidden["csrf_token"] not in second
    assert "\ufffc" not in first + second
    # Apart from the two slots, it is the same page.
    assert first.replace(first_code, "C").replace(first_hidden["csrf_token"], "T") == (
        second.replace(second_code, "C").replace(second_hidden["csrf_token"], "T")
    )


# ------------------------------------------------------- language, history and the survey's texts


def session_values(client) -> str:
    """Everything the signed session cookie holds, as text."""
    with client.session_transaction() as stored:
        return repr(dict(stored))


def test_switching_language_keeps_the_answers_and_the_code_and_stores_nothing(
    english, survey_with_codes
):
    survey, _, codes = survey_with_codes
    page, token = open_questionnaire(english, codes[0])
    first = survey.items[0].key
    switched = submit(english, token, codes[0], {first: "poor"}, comment="半句", language="zh_Hans")
    assert switched.status_code == 200
    html = switched.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert "Send my answers" not in html and "Branch:" not in html  # no longer English
    assert checked_values(html) == {first: "poor"}
    assert re.search(r'<textarea[^>]*name="comment"[^>]*>\s*半句</textarea>', html)
    assert f'name="code" type="hidden" value="{codes[0]}"' in html
    assert 'id="error-summary"' not in html and "field-error" not in html
    assert received() == 0 and used_codes() == 0
    # The code is in no address and not in the session; the session keeps the language only.
    assert codes[0] not in session_values(english)
    assert codes[0].replace("-", "") not in session_values(english)
    assert "zh_Hans" in session_values(english)

    done = submit(english, token, codes[0], all_answers(survey, "fairly_good"))
    assert done.status_code == 303 and done.headers["Location"] == "/thanks"
    assert received() == 1 and used_codes() == 1
    assert codes[0] not in session_values(english)


def test_switching_language_checks_the_code_like_any_entry(english, survey_with_codes):
    survey, _, codes = survey_with_codes
    token = csrf_token(english)
    unknown = submit(english, token, "AAAAA-AAAAA-AAAAA", {}, language="zh_Hant")
    assert unknown.status_code == 404
    submit(english, token, codes[0], all_answers(survey))
    used = submit(english, token, codes[0], {}, language="zh_Hant")
    assert used.status_code == 409
    assert "已" in used.get_data(as_text=True)  # refused in the language just chosen


def test_an_unknown_language_is_an_ordinary_submission(english, survey_with_codes):
    survey, _, codes = survey_with_codes
    _page, token = open_questionnaire(english, codes[0])
    response = submit(english, token, codes[0], {survey.items[0].key: "good"}, language="xx")
    assert response.status_code == 422
    assert received() == 0


def test_switching_language_on_an_open_link_keeps_category_and_answers(english, link_survey):
    token = csrf_token(english)
    response = english.post(
        "/s/manyi/b01",
        data={"csrf_token": token, "category": "public", "q2": "average", "language": "zh_Hant"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hant">' in html
    assert checked_values(html) == {"category": "public", "q2": "average"}
    assert "field-error" not in html
    assert received() == 0 and answered_cookie(english) is None


def test_questionnaire_moves_its_history_entry_to_a_plain_address(english, survey_with_codes):
    """The page names the address its history entry moves to (respond.js does the move)."""
    _, _, codes = survey_with_codes
    html = open_questionnaire(english, codes[0])[0].get_data(as_text=True)
    assert 'id="questionnaire" data-history-url="/questionnaire"' in html
    assert '<script src="/static/js/respond.js" defer></script>' in html


def test_back_to_the_questionnaire_after_sending_shows_the_thanks(english, survey_with_codes):
    survey, _, codes = survey_with_codes
    never = english.get("/questionnaire")
    assert never.status_code == 303 and never.headers["Location"] == "/"
    start = english.get("/").get_data(as_text=True)
    assert "cannot be opened again from the browser" in start

    _page, token = open_questionnaire(english, codes[0])
    submit(english, token, codes[0], all_answers(survey))
    back = english.get("/questionnaire")
    assert back.status_code == 303 and back.headers["Location"] == "/thanks"
    assert english.get("/questionnaire", follow_redirects=True).status_code == 200
    # The flag names the survey, never the code, and a new code clears it.
    assert "pingyi" in session_values(english) and codes[0] not in session_values(english)
    open_questionnaire(english, codes[1])
    assert english.get("/questionnaire").headers["Location"] == "/"


def test_welcome_and_thanks_texts_are_shown_as_plain_text(english, survey_with_codes):
    survey, _, codes = survey_with_codes
    survey.welcome_text = "歡迎參加測評。\n第二行 <b>不是粗體</b>"
    survey.thanks_text = "謝謝！\n結果將在會上公布 & <i>通報</i>"
    db.session.commit()
    page, token = open_questionnaire(english, codes[0])
    html = page.get_data(as_text=True)
    assert (
        '<p class="survey-text" id="welcome-text">歡迎參加測評。\n'
        "第二行 &lt;b&gt;不是粗體&lt;/b&gt;</p>"
    ) in html
    assert html.index('id="welcome-text"') < html.index("<fieldset")
    submit(english, token, codes[0], all_answers(survey))
    thanks = english.get("/thanks").get_data(as_text=True)
    assert (
        '<p class="survey-text" id="thanks-text">謝謝！\n'
        "結果將在會上公布 &amp; &lt;i&gt;通報&lt;/i&gt;</p>"
    ) in thanks
    assert "your code" in thanks


def test_surveys_without_texts_show_none(english, survey_with_codes):
    survey, _, codes = survey_with_codes
    page, token = open_questionnaire(english, codes[0])
    assert "survey-text" not in page.get_data(as_text=True)
    submit(english, token, codes[0], all_answers(survey))
    assert "survey-text" not in english.get("/thanks").get_data(as_text=True)


def main_text(html: str) -> str:
    """The words of the page's main part, without markup."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"<[^>]+>", "", main).lower()


def test_open_link_pages_never_mention_a_code(english, link_survey):
    link_survey.thanks_text = "多謝"
    db.session.commit()
    html = english.get("/s/manyi/b01").get_data(as_text=True)
    assert "code" not in main_text(html)
    notice = re.search(r'<p class="muted small" id="duplicate-notice">([^<]+)</p>', html)
    assert notice and len(notice.group(1)) < 80
    assert html.index("</form>") < html.index('id="duplicate-notice"')
    token = csrf_token(english)
    data = {"csrf_token": token, "category": "public", **all_answers(link_survey)}
    assert english.post("/s/manyi/b01", data=data).status_code == 303
    thanks = english.get("/thanks").get_data(as_text=True)
    assert "多謝" in thanks and "code" not in main_text(thanks)
