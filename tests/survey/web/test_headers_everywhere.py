"""Security headers on every response of every route, and no inline script without the nonce.

Every GET route of the URL map is requested anonymously, as an admin and as a branch viewer,
with real ids and slugs (``tests/helpers/routes.py``), plus the respondent path's POST pages and
the error pages (400, 403, 404, 405, 409, 413). Each response must carry:

* a Content-Security-Policy with ``default-src 'self'``, ``object-src 'none'`` and
  ``frame-ancestors 'none'``, and no ``'unsafe-inline'`` for scripts;
* ``X-Content-Type-Options: nosniff``;
* on respondent pages and error pages, ``Referrer-Policy: no-referrer`` and
  ``Cache-Control: no-store`` (a questionnaire holds its code in a hidden field); elsewhere a
  Referrer-Policy that never sends the address to another site.

Every HTML page is parsed: each ``<script>`` without ``src`` must carry the nonce of the CSP
header of that very response; no element may have an inline event handler or a ``javascript:``
address (both are inline script without a nonce); and nothing is loaded from another origin.
"""

from __future__ import annotations

import re

import pytest
from flask import Response

from benchmarks.submission_load import form_posting_to
from survey.db import db
from tests.conftest import csrf_token
from tests.helpers.routes import rules, seed_world, urls_for
from tests.helpers.web import sign_in_as

#: Referrer policies that never send a page's address to another site.
SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin"}
_TAG = re.compile(
    r"<([a-zA-Z][\w-]*)((?:\s+[^\s=>]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*/?>"
)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
#: Attributes through which a page loads something.
_LOADING = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
            "audio": "src", "video": "src", "embed": "src", "object": "data"}  # fmt: skip


def _attributes(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
        for m in _ATTRIBUTE.finditer(text)
    }


def _directives(policy: str) -> dict[str, list[str]]:
    """A CSP header as {directive: sources}."""
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def header_problems(response, *, respondent: bool) -> list[str]:
    """What is wrong with the security headers of one response."""
    problems = []
    headers = response.headers
    policy = _directives(headers.get("Content-Security-Policy", ""))
    if policy.get("default-src") != ["'self'"]:
        problems.append(f"CSP default-src is {policy.get('default-src')}")
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append(f"CSP frame-ancestors is {policy.get('frame-ancestors')}")
    if policy.get("object-src") != ["'none'"]:
        problems.append(f"CSP object-src is {policy.get('object-src')}")
    scripts = policy.get("script-src", policy.get("default-src", []))
    if "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts:
        problems.append(f"CSP script-src allows {scripts}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options is {headers.get('X-Content-Type-Options')!r}")
    referrer = headers.get("Referrer-Policy")
    if respondent:
        if referrer != "no-referrer":
            problems.append(f"Referrer-Policy on a respondent page is {referrer!r}")
        if "no-store" not in headers.get("Cache-Control", ""):
            problems.append(f"Cache-Control on a respondent page is {headers.get('Cache-Control')}")
    elif referrer not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy is {referrer!r}")
    return problems


def page_problems(response) -> list[str]:
    """What is wrong with the scripts and loaded resources of an HTML page."""
    if response.mimetype != "text/html":
        return []
    page = response.get_data(as_text=True)
    policy = _directives(response.headers.get("Content-Security-Policy", ""))
    nonces = {
        s[len("'nonce-") : -1] for s in policy.get("script-src", []) if s.startswith("'nonce-")
    }
    problems = []
    for attributes, body in _SCRIPT.findall(page):
        attrs = _attributes(attributes)
        if "src" in attrs:
            continue
        if not body.strip() and "nonce" not in attrs:
            problems.append("an empty inline <script> without nonce")
        elif attrs.get("nonce") not in nonces or not attrs.get("nonce"):
            problems.append(f"inline <script> with nonce {attrs.get('nonce')!r}, CSP has {nonces}")
    for tag, attributes in _TAG.findall(page):
        attrs = _attributes(attributes)
        handlers = [name for name in attrs if name.startswith("on")]
        if handlers:
            problems.append(f"<{tag}> has inline event handlers {handlers}")
        for name in ("href", "src", "action", "formaction"):
            if attrs.get(name, "").strip().lower().startswith("javascript:"):
                problems.append(f"<{tag} {name}> is a javascript: address")
        loading = _LOADING.get(tag.lower())
        if loading and re.match(r"^\s*(https?:)?//", attrs.get(loading, ""), re.I):
            problems.append(f"<{tag}> loads {attrs[loading]} from another origin")
    return problems


def _check(response, label: str, failures: list[str], *, respondent: bool) -> None:
    problems = header_problems(response, respondent=respondent) + page_problems(response)
    if response.status_code >= 500:
        problems.append("server error")
    response.close()  # file responses (static, plotly.js) hold their file open until closed
    failures += [f"{label} → {response.status_code}: {p}" for p in problems]


def test_the_checks_catch_what_they_look_for():
    """A control: a page with every fault is caught, a clean one passes."""
    nonce = "abc123"
    good_policy = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; object-src 'none'; "
        "frame-ancestors 'none'"
    )
    good_headers = {
        "Content-Security-Policy": good_policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    clean = Response(
        f'<p>ok</p><script nonce="{nonce}">go()</script><script src="/static/js/a.js"></script>',
        headers=good_headers,
        mimetype="text/html",
    )
    assert header_problems(clean, respondent=True) == []
    assert page_problems(clean) == []
    bad = Response(
        '<script>alert(1)</script><script nonce="other">x()</script>'
        '<button onclick="steal()">b</button><a href="javascript:go()">a</a>'
        '<script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//cdn.example.org/x.css">',
        headers={
            "Content-Security-Policy": "default-src *; script-src 'self' 'unsafe-inline'",
            "Referrer-Policy": "unsafe-url",
        },
        mimetype="text/html",
    )
    assert len(header_problems(bad, respondent=True)) == 7
    assert len(page_problems(bad)) == 6


@pytest.fixture
def world(app, make_branch, make_survey, mint, make_user):
    return seed_world(make_branch, make_survey, mint, make_user)


def test_every_get_route_as_anonymous_admin_and_branch_viewer(app, client, world):
    failures: list[str] = []
    checked = 0
    for rule in rules(app, "GET"):
        for url in urls_for(rule, world):
            for role in (None, "admin", "viewer"):
                sign_in_as(client, world.users.get(role))
                response = client.get(url, headers={"Accept-Language": "en"})
                respondent = rule.endpoint.startswith("respond.") or response.status_code >= 400
                if role == "admin" and response.status_code >= 400:
                    # The seeded world names real objects: an admin must reach every view.
                    failures.append(f"GET {url} as admin → {response.status_code}")
                _check(response, f"GET {url} as {role}", failures, respondent=respondent)
                response.close()  # a download's temporary file is closed with its response
                checked += 1
                db.session.rollback()
    assert checked >= 3 * len(rules(app, "GET"))
    assert not failures, "\n".join(failures)


def test_respondent_pages_and_refusals(app, client, world):
    failures: list[str] = []
    headers = {"Accept-Language": "en"}
    code, used = world.codes[0], world.codes[1]

    def start(entered: str):
        return client.post("/start", data={"csrf_token": csrf_token(client), "code": entered})

    questionnaire = start(code)
    assert questionnaire.status_code == 200
    _check(questionnaire, "questionnaire", failures, respondent=True)
    form = form_posting_to(questionnaire.get_data(as_text=True), "/submit")
    incomplete = client.post("/submit", data=dict(form.values))
    assert incomplete.status_code == 422
    _check(incomplete, "questionnaire with errors", failures, respondent=True)
    answers = {**dict(form.values), **{name: values[0] for name, values in form.radios.items()}}
    submitted = client.post("/submit", data=answers)
    assert submitted.status_code == 303
    _check(submitted, "submit redirect", failures, respondent=True)
    _check(client.get(submitted.headers["Location"]), "thanks", failures, respondent=True)

    refusals = {
        "unknown code": (start("ABCDE-FGHJK-MNPQR"), 404),
        "used code": (start(code), 409),
        "no CSRF token": (client.post("/submit", data={"code": used}, headers=headers), 400),
        "unknown page": (client.get("/no/such/page", headers=headers), 404),
        "GET on a POST-only route": (client.get("/logout", headers=headers), 405),
        "POST on a GET-only route": (client.post("/thanks", headers=headers), 405),
        "too large": (
            client.post(
                "/start",
                data=b"code=" + b"x" * app.config["MAX_CONTENT_LENGTH"],
                content_type="application/x-www-form-urlencoded",
                headers=headers,
            ),
            413,
        ),
    }
    link = f"/s/{world.link_survey.slug}/{world.branch.code}"
    refusals["open link to an unknown branch"] = (client.get(link + "x"), 404)
    sign_in_as(client, world.viewer)
    refusals["branch viewer on an admin page"] = (client.get("/manage/users"), 403)
    refusals["admin page for a missing survey"] = (client.get("/manage/surveys/999999"), 403)
    sign_in_as(client, world.admin)
    refusals["admin page for a missing survey (admin)"] = (
        client.get("/manage/surveys/999999"),
        404,
    )
    sign_in_as(client, None)
    refusals["API without credentials"] = (client.get("/api/v1/surveys/manyi/report"), 401)
    for label, (response, status) in refusals.items():
        if status != 405:  # a 405 may also be answered 400 by the CSRF check first
            assert response.status_code == status, label
        else:
            assert response.status_code in (400, 405), label
        _check(response, label, failures, respondent=True)
    assert not failures, "\n".join(failures)
