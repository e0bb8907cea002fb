"""Sign-in, back-off, sessions, password changes, API tokens, the audit log and cookie flags."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask import g
from sqlalchemy import select, text

from survey import create_app
from survey.auth.access import SESSION_KEY, load_user
from survey.db import db
from survey.identity.passwords import needs_rehash, verify_password
from survey.identity.tokens import token_hash
from survey.models import ApiToken, AuditEntry, Role, Throttle, User, UserSession
from survey.services import throttle
from tests.conftest import TEST_PASSWORD, isolated_client, sign_in

NEW_PASSWORD = "a brand new passphrase"


def form_token(html: bytes) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1).decode()


def audit_actions() -> list[tuple[str | None, str, str]]:
    """(username, action, detail) of every audit entry, oldest first."""
    db.session.expire_all()
    rows = db.session.execute(
        select(AuditEntry.username, AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]


def signed_in_as(client) -> str | None:
    """The username the account page greets, or None when it sends the visitor to sign in."""
    response = client.get("/account")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return None
    assert response.status_code == 200
    match = re.search(r"Account of ([^<]+)</h1>", response.get_data(as_text=True))
    return match.group(1) if match else None


@pytest.fixture
def english(web):
    """Ask for English pages, so tests can read the messages."""
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web


# --------------------------------------------------------------------------- signing in


def test_sign_in_starts_a_session_and_follows_a_same_site_next(english, make_user):
    make_user("office", Role.ADMIN)
    response = sign_in(english, "office", next="/account?tab=tokens")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account?tab=tokens"
    assert signed_in_as(english) == "office"
    with english.session_transaction() as session:
        assert session.permanent is True
        token = session[SESSION_KEY]
    # The server keeps the session (hashed), so that signing out can end it.
    stored = db.session.scalars(select(UserSession)).one()
    assert stored.user_id == db.session.scalar(select(User.id))
    assert stored.token_hash == token_hash(token) and token not in stored.token_hash
    assert [a for _, a, _ in audit_actions()] == ["auth.login"]


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_sign_in_never_redirects_off_site(english, make_user, target):
    make_user("office", Role.SUPERVISOR)
    response = sign_in(english, "office", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/results/"


def test_sign_in_clears_what_the_session_held_before(english, make_user):
    make_user("office", Role.ADMIN)
    with english.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
    sign_in(english, "office")
    with english.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"


def test_unknown_user_and_wrong_password_get_the_same_answer(english, make_user):
    make_user("office", Role.ADMIN)
    unknown = sign_in(english, "nobody", "whatever it is")
    wrong = sign_in(english, "office", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    message = "The username or password is not correct."
    assert message in unknown.get_data(as_text=True)
    assert message in wrong.get_data(as_text=True)
    # What was typed in the username field stays; the password never comes back.
    assert 'value="nobody"' in unknown.get_data(as_text=True)
    assert "whatever it is" not in unknown.get_data(as_text=True)
    assert signed_in_as(english) is None
    assert [(a, d) for _, a, d in audit_actions()] == [
        ("auth.login_failed", "username=nobody"),
        ("auth.login_failed", "username=office"),
    ]


def test_empty_fields_are_refused_next_to_the_field(english):
    response = sign_in(english, "", "")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please enter your username." in page
    assert "Please enter your password." in page
    assert 'aria-invalid="true"' in page


def test_disabled_account_cannot_sign_in(english, make_user):
    user = make_user("gone", Role.ADMIN)
    user.is_active = False
    db.session.commit()
    assert sign_in(english, "gone").status_code == 401


def test_sign_in_without_csrf_token_is_refused(english, make_user):
    make_user("office", Role.ADMIN)
    response = english.post("/login", data={"username": "office", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert signed_in_as(english) is None


def test_anonymous_visitor_is_sent_to_sign_in(web):
    response = web.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert web.get("/audit").status_code == 302


def test_a_weak_stored_hash_is_upgraded_at_sign_in(english, app):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(TEST_PASSWORD)
    assert needs_rehash(weak)
    db.session.add(User(username="old", password_hash=weak, role=Role.ADMIN))
    db.session.commit()
    assert sign_in(english, "old").status_code == 302
    db.session.expire_all()
    stored = db.session.scalar(select(User.password_hash).where(User.username == "old"))
    assert stored != weak and not needs_rehash(stored)
    assert verify_password(stored, TEST_PASSWORD)
    # The session was started with the upgraded hash's marker, so it stays valid.
    assert signed_in_as(english) == "old"


# --------------------------------------------------------------------------- back-off


def _fail(client, username: str, times: int) -> list[int]:
    return [sign_in(client, username, "wrong password!").status_code for _ in range(times)]


def test_five_failures_block_even_the_right_password(english, make_user):
    make_user("office", Role.ADMIN)
    assert _fail(english, "office", 4) == [401] * 4
    fifth = sign_in(english, "office", "wrong password!")
    assert fifth.status_code == 429
    right = sign_in(english, "office")
    assert right.status_code == 429
    page = right.get_data(as_text=True)
    assert "Please try again in 15 minutes" in page
    assert int(right.headers["Retry-After"]) > 800
    assert signed_in_as(english) is None
    # The username's case does not give a fresh counter.
    assert sign_in(english, "OFFICE").status_code == 429
    assert "auth.login_blocked" in [a for _, a, _ in audit_actions()]


def test_the_block_holds_in_another_worker(english, make_user, app, database_url):
    make_user("office", Role.ADMIN)
    _fail(english, "office", 5)
    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "DATABASE_URL": database_url,
        }
    )
    other_client = isolated_client(other)
    try:
        assert sign_in(other_client, "office").status_code == 429
    finally:
        with other.app_context():
            db.engine.dispose()


def test_failures_are_shared_between_workers(english, make_user, app, database_url):
    make_user("office", Role.ADMIN)
    other = create_app(
        {"TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "DATABASE_URL": database_url}
    )
    other_client = isolated_client(other)
    try:
        assert _fail(english, "office", 3) == [401] * 3
        assert _fail(other_client, "office", 2) == [401, 429]
        assert sign_in(english, "office").status_code == 429
    finally:
        with other.app_context():
            db.engine.dispose()


def test_success_resets_the_counter(english, make_user):
    make_user("office", Role.ADMIN)
    assert _fail(english, "office", 4) == [401] * 4
    assert sign_in(english, "office").status_code == 302
    assert db.session.scalar(select(Throttle).limit(1)) is None
    english.delete_cookie("session")
    # Four more failures are again allowed before the block.
    assert _fail(english, "office", 4) == [401] * 4
    assert sign_in(english, "office").status_code == 302


def test_the_block_ends_after_its_time(english, make_user, monkeypatch):
    make_user("office", Role.ADMIN)
    _fail(english, "office", 5)
    assert sign_in(english, "office").status_code == 429
    later = throttle._now() + throttle.LOGIN.block + timedelta(seconds=1)
    monkeypatch.setattr(throttle, "_now", lambda: later)
    assert sign_in(english, "office").status_code == 302


def test_one_blocked_username_does_not_block_another(english, make_user):
    make_user("office", Role.ADMIN)
    make_user("other", Role.SUPERVISOR)
    _fail(english, "office", 5)
    assert sign_in(english, "other").status_code == 302


# --------------------------------------------------------------------------- signing out


def test_sign_out_needs_post_with_csrf(english, make_user):
    make_user("office", Role.ADMIN)
    sign_in(english, "office")
    assert english.get("/logout").status_code == 405
    assert english.post("/logout").status_code == 400
    assert signed_in_as(english) == "office"
    page = english.get("/account").data
    # The navigation signs out with a form, not a link.
    assert re.search(rb'<form method="post" action="/logout"', page)
    response = english.post("/logout", data={"csrf_token": form_token(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert signed_in_as(english) is None
    assert [a for _, a, _ in audit_actions()] == ["auth.login", "auth.logout"]


def test_sign_out_ends_the_session_on_the_server(app, make_user):
    """A copy of the session cookie taken before signing out no longer signs anyone in."""
    make_user("office", Role.ADMIN)
    browser = isolated_client(app)
    sign_in(browser, "office")
    copied = browser.get_cookie("session").value
    thief = isolated_client(app)
    thief.set_cookie("session", copied)
    assert signed_in_as(thief) == "office"  # control: the copy works while the session lasts
    page = browser.get("/account").data
    assert browser.post("/logout", data={"csrf_token": form_token(page)}).status_code == 302
    assert signed_in_as(thief) is None
    assert thief.get("/account").status_code == 302
    assert db.session.scalars(select(UserSession)).all() == []


# --------------------------------------------------------------------------- password change


def _change(client, current: str, new: str, again: str | None = None):
    page = client.get("/account").data
    return client.post(
        "/account",
        data={
            "csrf_token": form_token(page),
            "password-current_password": current,
            "password-new_password": new,
            "password-confirm_password": new if again is None else again,
        },
    )


def test_password_change_signs_out_other_sessions(app, make_user):
    make_user("office", Role.ADMIN)
    here, elsewhere = isolated_client(app), isolated_client(app)
    sign_in(here, "office")
    sign_in(elsewhere, "office")
    assert signed_in_as(elsewhere) == "office"
    response = _change(here, TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(here) == "office"
    assert signed_in_as(elsewhere) is None
    assert sign_in(elsewhere, "office", TEST_PASSWORD).status_code == 401
    assert sign_in(elsewhere, "office", NEW_PASSWORD).status_code == 302
    assert "auth.password_change" in [a for _, a, _ in audit_actions()]


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("wrong password!", NEW_PASSWORD, None, "The current password is not correct."),
        (TEST_PASSWORD, "short", None, "The new password needs at least 10 characters."),
        (TEST_PASSWORD, NEW_PASSWORD, "something else", "The two new passwords are not the same."),
        (TEST_PASSWORD, TEST_PASSWORD, None, "The new password must differ from the current one."),
    ],
)
def test_bad_password_changes_are_refused(english, make_user, current, new, again, message):
    make_user("office", Role.ADMIN)
    sign_in(english, "office")
    response = _change(english, current, new, again)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.scalar(select(User.password_hash))
    assert verify_password(stored, TEST_PASSWORD)
    assert signed_in_as(english) == "office"


# --------------------------------------------------------------------------- API tokens


def _api_user(app, token: str) -> User | None:
    """Who a bearer token signs in as on an API path."""
    with app.test_request_context("/api/v1/x", headers={"Authorization": f"Bearer {token}"}):
        load_user()
        return g.user


def _all_stored_text() -> str:
    """Every value of every table, as one string: what someone reading the database sees."""
    chunks = []
    for table in ("api_token", "audit_entry", "user"):
        for row in db.session.execute(text(f'SELECT * FROM "{table}"')):
            chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def test_token_created_on_the_account_page_is_shown_once_and_hashed(app, english, make_user):
    make_user("office", Role.SUPERVISOR)
    sign_in(english, "office")
    page = english.get("/account").data
    response = english.post(
        "/account/tokens", data={"csrf_token": form_token(page), "token-name": "spreadsheet"}
    )
    assert response.status_code == 201
    match = re.search(r'<code class="token-value">([^<]+)</code>', response.get_data(as_text=True))
    plain = match.group(1)
    assert len(plain) >= 40
    stored = db.session.scalar(select(ApiToken))
    assert stored.name == "spreadsheet"
    assert stored.token_hash == token_hash(plain)
    assert plain not in _all_stored_text()
    assert plain not in english.get("/account").get_data(as_text=True)
    assert _api_user(app, plain).username == "office"
    assert _api_user(app, plain + "x") is None


def test_token_without_a_name_is_refused(english, make_user):
    make_user("office", Role.SUPERVISOR)
    sign_in(english, "office")
    page = english.get("/account").data
    response = english.post("/account/tokens", data={"csrf_token": form_token(page)})
    assert response.status_code == 400
    assert "Please give the token a name." in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_token_can_be_revoked_by_its_owner_only(app, english, make_user, runner):
    make_user("office", Role.SUPERVISOR)
    make_user("other", Role.SUPERVISOR)
    result = runner.invoke(args=["create-token", "other", "--name", "theirs"])
    theirs = result.stdout.strip()
    sign_in(english, "office")
    page = english.get("/account").data
    english.post("/account/tokens", data={"csrf_token": form_token(page), "token-name": "mine"})
    mine = db.session.scalar(select(ApiToken).where(ApiToken.name == "mine"))
    other = db.session.scalar(select(ApiToken).where(ApiToken.name == "theirs"))
    token = form_token(english.get("/account").data)
    assert (
        english.post(f"/account/tokens/{other.id}/revoke", data={"csrf_token": token}).status_code
        == 404
    )
    assert english.post(f"/account/tokens/{mine.id}/revoke").status_code == 400
    response = english.post(f"/account/tokens/{mine.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, mine.id).revoked_on is not None
    assert db.session.get(ApiToken, other.id).revoked_on is None
    assert _api_user(app, theirs).username == "other"
    assert "revoked on" in english.get("/account").get_data(as_text=True)
    actions = [(u, a) for u, a, _ in audit_actions()]
    assert (None, "token.create") in actions
    assert ("office", "token.create") in actions
    assert ("office", "token.revoke") in actions


def test_cli_token_is_printed_once_and_stored_hashed(app, runner, make_user):
    make_user("office", Role.SUPERVISOR)
    result = runner.invoke(args=["create-token", "office", "--name", "nightly export"])
    assert result.exit_code == 0, result.output
    plain = result.stdout.strip()
    assert "\n" not in plain and len(plain) >= 40
    stored = db.session.scalar(select(ApiToken))
    assert (stored.name, stored.token_hash) == ("nightly export", token_hash(plain))
    assert plain not in _all_stored_text()
    assert _api_user(app, plain).username == "office"


def test_cli_token_for_unknown_user_fails_and_stores_nothing(runner, app):
    result = runner.invoke(args=["create-token", "nobody"])
    assert result.exit_code != 0
    assert 'There is no account called "nobody".' in result.output
    assert db.session.scalar(select(ApiToken)) is None


# --------------------------------------------------------------------------- audit log


def test_audit_page_is_for_admins_newest_first_and_paginated(english, make_user):
    make_user("office", Role.ADMIN)
    make_user("reader", Role.SUPERVISOR)
    _fail(english, "ghost", 1)
    sign_in(english, "reader")
    assert english.get("/audit").status_code == 403
    english.delete_cookie("session")
    sign_in(english, "office")
    page = english.get("/audit").get_data(as_text=True)
    assert page.index(">Failed sign-in<") > page.index(">Signed in<")
    assert 'username: <span class="audit-value">ghost</span>' in page
    from survey.services import audit

    with db.transaction():
        for n in range(60):
            audit.record("survey_opened", f"number {n}")
    first = english.get("/audit").get_data(as_text=True)
    assert "number 59" in first and "number 0<" not in first
    assert "Page 1 of 2" in first
    second = english.get("/audit?page=2").get_data(as_text=True)
    assert "ghost" in second and "number 59" not in second
    assert english.get("/audit?page=9").status_code == 404
    assert english.get("/audit?page=abc").status_code == 200


# --------------------------------------------------------------------------- cookies


@pytest.mark.parametrize(("scheme", "secure"), [("https", True), ("http", False)])
def test_session_cookie_flags_and_forms_over_https(
    monkeypatch, database_url, make_user, scheme, secure, app
):
    make_user("office", Role.ADMIN)
    monkeypatch.setenv("PREFERRED_URL_SCHEME", scheme)
    configured = create_app({"TESTING": True, "SECRET_KEY": "k" * 32, "DATABASE_URL": database_url})
    try:
        assert configured.config["SESSION_COOKIE_SECURE"] is secure
        client = isolated_client(configured)
        # Browsers send no Referer (Referrer-Policy: no-referrer), and the form must still work.
        base = f"{scheme}://localhost"
        page = client.get("/login", base_url=base)
        token = form_token(page.data)
        response = client.post(
            "/login",
            base_url=base,
            data={"csrf_token": token, "username": "office", "password": TEST_PASSWORD},
        )
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure
    finally:
        with configured.app_context():
            db.engine.dispose()
