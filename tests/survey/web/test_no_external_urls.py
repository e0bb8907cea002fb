"""No page links to or loads anything from another site: intranets have no internet, and the CSP
says 'self'. Every GET route of the app is fetched as an admin, its arguments filled from seeded
data, and every ``src``/``href``/``action`` on the page must be a path on this site."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from survey.db import db
from survey.models import Access, Campaign, CodeBatch, Role, SurveyState
from tests.conftest import add_responses, sign_in

#: Attributes that make the browser fetch or navigate to a URL.
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data", "background"}

#: Query strings worth trying on top of the bare address, per endpoint.
EXTRA_QUERIES = {
    "results.show_survey": ["item=q1", "item=q2"],
    "results.compare_surveys": ["a=pingyi&b=manyi&item=q1"],
    "auth.list_audit": ["page=1"],
}


class _Links(HTMLParser):
    """Collects every URL-valued attribute of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                values = [v.strip().split(" ")[0] for v in value.split(",")]
                values = values if name == "srcset" else [value.strip()]
                self.urls.extend((tag, name, v) for v in values)


def external(url: str) -> bool:
    """Whether ``url`` leaves this site: any scheme or host; ``#…`` and paths are fine."""
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc) or url.startswith("//")


def test_external_detection():
    assert external("https://cdn.plot.ly/plotly.js")
    assert external("//cdn.example/x.js")
    assert external("javascript:alert(1)")
    assert external("data:text/html,hi")
    assert not external("/static/css/app.css")
    assert not external("#main")
    assert not external("?item=q1")
    assert not external("thanks")


def _seed(make_branch, make_survey, mint, make_user):
    """Two stages with results, an open link survey, codes, and one user per role."""
    before = make_survey("pingyi", items=2, state=SurveyState.CLOSED)
    after = make_survey("manyi", items=2, state=SurveyState.CLOSED)
    live = make_survey("live", items=2, state=SurveyState.OPEN, access=Access.LINK)
    b01, b02 = make_branch("b01", "第一支部"), make_branch("b02", "第二支部")
    for survey in (before, after):
        add_responses(survey, b01, {"good": 8, "poor": 2}, comments=["see https://x.example"])
        add_responses(survey, b02, {"good": 3, "average": 5})
    mint(before, b01, 3)
    admin = make_user("admin", Role.ADMIN)
    make_user("viewer", Role.BRANCH_VIEWER, branch=b01)
    batch = db.session.scalar(select(CodeBatch).limit(1))
    campaign = db.session.scalar(select(Campaign).limit(1))
    ints = {
        "survey_id": before.id,
        "campaign_id": campaign.id,
        "branch_id": b01.id,
        "user_id": admin.id,
        "item_id": before.items[0].id,
        "batch_id": batch.id,
        "token_id": 1,
        "draft_id": 1,
    }
    texts = {
        "code": "b01",
        "branch_code": "b01",
        "survey_slug": live.slug,
        "filename": "css/app.css",
    }
    return ints, texts, campaign.slug, before.slug


def _arguments(rule, ints, texts, campaign_slug, survey_slug) -> dict:
    """Values for a rule's arguments from the seeded data."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = ints.get(name, 1)
        elif name == "slug":
            values[name] = campaign_slug if "/campaigns/" in rule.rule else survey_slug
        elif rule.endpoint == "set_language":
            values[name] = "en"
        else:
            values[name] = texts.get(name, "x")
    return values


def test_no_page_points_to_another_site(app, web, make_branch, make_survey, mint, make_user):
    ints, texts, campaign_slug, survey_slug = _seed(make_branch, make_survey, mint, make_user)
    checked: dict[str, int] = {}
    offenders = []

    def check(address: str) -> None:
        response = web.get(address)
        if not response.content_type.startswith("text/html"):
            response.close()
            return
        parser = _Links()
        parser.feed(response.get_data(as_text=True))
        checked[address] = response.status_code
        offenders.extend(
            (address, tag, attr, url) for tag, attr, url in parser.urls if external(url)
        )

    # The sign-in page is only shown to someone not signed in.
    check("/login")
    assert checked["/login"] == 200
    assert sign_in(web, "admin").status_code == 302
    checked.clear()
    with app.test_request_context():
        from flask import url_for

        addresses = []
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in {"static", "plotly_js"}:
                continue
            values = _arguments(rule, ints, texts, campaign_slug, survey_slug)
            address = url_for(rule.endpoint, **values)
            addresses.append((rule.endpoint, address))
            for query in EXTRA_QUERIES.get(rule.endpoint, []):
                addresses.append((rule.endpoint, f"{address}?{query}"))
    for endpoint, address in addresses:
        if endpoint == "set_language":
            continue  # a redirect; its target is checked below
        check(address)
    assert offenders == []
    # The walk reached the pages that matter, with their charts and forms.
    ok = {address for address, status in checked.items() if status == 200}
    for must in (
        "/",
        "/account",
        "/audit",
        "/results/",
        "/results/campaigns/xjx",
        "/results/campaigns/xjx/compare?a=pingyi&b=manyi&item=q1",
        "/results/surveys/pingyi",
        "/results/surveys/pingyi?item=q1",
        "/results/surveys/pingyi/branches/b01",
    ):
        assert must in ok, (must, checked.get(must))
    assert len(ok) >= 15
    redirect = web.get("/lang/en?next=https://evil.example/")
    assert not external(redirect.headers["Location"])


def test_stylesheets_and_scripts_load_nothing_from_elsewhere(web):
    for path in ("/static/css/app.css", "/static/css/print.css", "/static/js/charts.js"):
        response = web.get(path)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        response.close()
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", body), path
        assert not re.search(r"@import", body), path
        assert "http://" not in body and "https://" not in body, path
