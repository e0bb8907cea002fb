"""Security headers on the respondent pages: CSP, no sniffing, no referrer, no caching."""

from __future__ import annotations

import re

import pytest

from survey.models import Access
from tests.conftest import csrf_token


@pytest.fixture
def english(client):
    """Ask for English pages, so tests can read the messages."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def respondent_pages(english, make_survey, make_branch, mint):
    """Each respondent page's response, fetched the way a respondent reaches it."""
    survey = make_survey("pingyi", items=2)
    make_survey("manyi", items=2, access=Access.LINK)
    code = mint(survey, make_branch("b01"))[0]
    token = csrf_token(english)
    pages = {
        "start": english.get("/"),
        "unknown code": english.post("/start", data={"csrf_token": token, "code": "nope"}),
        "questionnaire": english.post("/start", data={"csrf_token": token, "code": code}),
        "missing answers": english.post("/submit", data={"csrf_token": token, "code": code}),
        "submitted": english.post(
            "/submit", data={"csrf_token": token, "code": code, "q1": "good", "q2": "good"}
        ),
        "used code": english.post("/start", data={"csrf_token": token, "code": code}),
        "thanks": english.get("/thanks"),
        "link form": english.get("/s/manyi/b01"),
        "csrf failure": english.post("/start", data={"code": code}),
    }
    expected = {
        "start": 200,
        "unknown code": 404,
        "questionnaire": 200,
        "missing answers": 422,
        "submitted": 303,
        "used code": 409,
        "thanks": 200,
        "link form": 200,
        "csrf failure": 400,
    }
    assert {name: r.status_code for name, r in pages.items()} == expected
    return pages


def test_respondent_pages_carry_the_security_headers(respondent_pages):
    for name, response in respondent_pages.items():
        policy = response.headers["Content-Security-Policy"]
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        assert directives["default-src"] == ["'self'"], name
        assert directives["frame-ancestors"] == ["'none'"], name
        assert directives["object-src"] == ["'none'"], name
        assert "'unsafe-inline'" not in directives["script-src"], name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"] == "no-referrer", name
        assert "no-store" in response.headers["Cache-Control"], name


def test_respondent_pages_have_no_inline_script(respondent_pages):
    for name, response in respondent_pages.items():
        for tag in re.findall(r"<script\b[^>]*>", response.get_data(as_text=True)):
            assert "src=" in tag or "nonce=" in tag, (name, tag)


def test_fragment_script_is_served_from_this_site(english):
    script = english.get("/static/js/respond.js")
    assert script.status_code == 200
    assert script.mimetype in ("text/javascript", "application/javascript")
    source = script.get_data(as_text=True)
    assert "location.hash" in source and "replaceState" in source
    assert "http" not in source.replace("https://host", "")  # no external address
    script.close()
