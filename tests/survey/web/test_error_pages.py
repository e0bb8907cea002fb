"""Error pages speak in words: a heading and a message in the visitor's language, also in the
window's title; the status number comes last, small, for whoever helps."""

from __future__ import annotations

import re

import pytest

from survey.models import Role


def _parts(html: str) -> dict[str, str]:
    """The window title, the heading, the message and the small print of an error page."""
    found = {
        "title": re.search(r"<title>(.*?)</title>", html, re.S).group(1),
        "heading": re.search(r"<h1>(.*?)</h1>", html, re.S).group(1),
        "message": re.search(r'<p class="refusal-message">(.*?)</p>', html, re.S).group(1),
        "small": re.search(r'<p class="muted small">(.*?)</p>', html, re.S).group(1),
    }
    return {key: " ".join(value.split()) for key, value in found.items()}


@pytest.mark.parametrize(
    ("language", "heading", "message", "small"),
    [
        ("en", "Page not found", "This page does not exist.", "Error code 404"),
        ("zh-TW", "找不到頁面", "此頁不存在。", "錯誤代碼 404"),
        ("zh-CN", "找不到页面", "此页不存在。", "错误代码 404"),
    ],
)
def test_a_missing_page_says_so_in_words(client, language, heading, message, small):
    response = client.get("/no/such/page", headers={"Accept-Language": language})
    assert response.status_code == 404
    parts = _parts(response.get_data(as_text=True))
    assert parts["heading"] == heading and parts["message"] == message
    assert parts["title"].startswith(heading)
    assert parts["small"].startswith(small)
    assert "404" not in parts["title"] + parts["heading"] + parts["message"]


@pytest.mark.parametrize(
    ("status", "path", "method", "heading"),
    [
        (405, "/thanks", "post", "Not possible here"),
        (400, "/start", "post", "The page has expired"),
    ],
)
def test_every_status_has_a_heading_in_words(client, status, path, method, heading):
    response = getattr(client, method)(path, headers={"Accept-Language": "en"})
    assert response.status_code == status
    parts = _parts(response.get_data(as_text=True))
    assert parts["heading"] == heading and str(status) not in parts["heading"]
    assert parts["small"] == f"Error code {status}, for whoever helps you with this."


def test_a_refusal_keeps_its_own_title(client):
    response = client.get("/s/nope/b01", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    parts = _parts(response.get_data(as_text=True))
    assert parts["heading"] and "404" not in parts["heading"]


def test_the_way_back_fits_the_visitor(client, signed_in):
    respondent = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert 'href="/">Back to the start page<' in respondent.get_data(as_text=True)
    office = signed_in(Role.SUPERVISOR).get("/no/such/page").get_data(as_text=True)
    assert 'href="/results/">Back to your pages<' in office


def test_the_api_still_answers_in_json(client):
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code in (401, 404)
    assert response.is_json and response.get_json()["status"] == response.status_code
