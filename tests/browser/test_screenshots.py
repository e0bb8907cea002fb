"""Screenshots in Traditional Chinese of the pages an office clerk meets in a campaign, from
importing branches to printing results: the pictures of docs/office-guide.md.

Each page is its own test, so one page that fails does not hide the others, and a page whose
view does not exist is skipped with its name. The pictures are written to
``tests/browser/screenshots/guide/`` (git-ignored); with ``CEPING_SCREENSHOTS=docs`` they
replace the committed ones in ``docs/screenshots/`` (run it when a page's look changes, and
commit the pictures with it). Desktop pages are taken at 1000×700 and the respondent's at a
phone's 390×844, one screen each, so the files stay small.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from survey import ROOT
from tests.browser.conftest import (
    ADMIN,
    CAMPAIGN,
    CLOSED_SATISFACTION,
    SATISFACTION,
    SCREENSHOTS,
    sign_in,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1000, "height": 700}, "locale": "zh-TW"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 1,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-TW",
}


def _folder() -> Path:
    if os.environ.get("CEPING_SCREENSHOTS") == "docs":
        return ROOT / "docs" / "screenshots"
    return SCREENSHOTS / "guide"


def _take(page, name: str) -> Path:
    """One screen of ``page`` (not the whole length) as ``<name>.png``, in zh-Hant."""
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 5_000, f"{path.name} is nearly empty"
    return path


def _needs(live_server, endpoint: str) -> None:
    """Skip when the view of ``endpoint`` is not part of this version."""
    if endpoint not in live_server.app.view_functions:
        pytest.skip(f"the page {endpoint} does not exist in this version")


def _survey_id(live_server, slug: str) -> int:
    from sqlalchemy import select

    from survey.db import db
    from survey.models import Survey

    with live_server.app.app_context():
        found = db.session.scalar(select(Survey.id).where(Survey.slug == slug))
        db.session.commit()
    assert found is not None, f"the demo has no survey {slug}"
    return found


def _campaign_id(live_server) -> int:
    from sqlalchemy import select

    from survey.db import db
    from survey.models import Campaign

    with live_server.app.app_context():
        found = db.session.scalar(select(Campaign.id).where(Campaign.slug == CAMPAIGN))
        db.session.commit()
    return found


@pytest.fixture
def office(open_context):
    """A desktop tab in Traditional Chinese, signed in as the administrator."""
    session = open_context(**DESKTOP)
    page = session.new_page()
    sign_in(page, ADMIN)
    yield page
    session.watch.check()


#: (picture, endpoint, address) of the office's pages that need nothing but a visit; the
#: address may name {satisfaction} (the open survey's id) and {campaign} (the campaign's id).
SURVEY = "/manage/surveys/{satisfaction}"
RESULTS = f"/results/surveys/{CLOSED_SATISFACTION}"
VISITS = [
    ("01-import-branches", "manage.import_branches", "/manage/branches/import"),
    (
        "02-campaign-branches",
        "manage.edit_campaign_branches",
        "/manage/campaigns/{campaign}/branches",
    ),
    ("03-survey-settings", "manage.edit_survey", f"{SURVEY}/settings"),
    ("04-questionnaire-preview", "manage.preview_survey", f"{SURVEY}/preview"),
    ("05-codes", "manage.list_codes", f"{SURVEY}/codes"),
    ("08-keying-grid", "manage.key_ballots", f"{SURVEY}/ballots/key"),
    ("09-turnout", "manage.show_turnout", f"{SURVEY}/turnout"),
    ("10-results", "results.show_survey", RESULTS),
    ("11-branch-results", "results.show_branch", f"{RESULTS}/branches/b01"),
    ("13-stage-comparison", "results.compare_surveys", f"/results/campaigns/{CAMPAIGN}/compare"),
    ("14-rectification", "rectify.show_overview", f"/rectify/{CAMPAIGN}"),
    ("15-rectification-effect", "rectify.show_effect", f"/rectify/{CAMPAIGN}/effect"),
]


@pytest.mark.parametrize(("name", "endpoint", "address"), VISITS, ids=[v[0] for v in VISITS])
def test_office_page(office, live_server, name, endpoint, address):
    _needs(live_server, endpoint)
    path = address.format(
        satisfaction=_survey_id(live_server, SATISFACTION), campaign=_campaign_id(live_server)
    )
    response = office.goto(path)
    assert response.status == 200, f"{path} answered {response.status}"
    expect(office.locator("h1").first).to_be_visible()
    if endpoint.startswith("results."):
        office.wait_for_load_state("networkidle")
    _take(office, name)


def test_slips_after_minting(office, live_server):
    """The mint form's answer: the printable slips of exactly the codes just minted."""
    _needs(live_server, "manage.show_slips")
    t = lambda message, **params: live_server.translate(message, "zh_Hant", **params)  # noqa: E731
    office.goto(f"/manage/surveys/{_survey_id(live_server, SATISFACTION)}/codes")
    office.get_by_label(t("Branch"), exact=True).select_option(label="b01 辦公室黨支部")
    office.get_by_label(t("Respondent category")).select_option(label="羣眾")
    office.get_by_label(t("Codes per branch")).fill("4")
    reason = office.locator("textarea[name=reason]").first
    if reason.is_visible():
        reason.fill("補印遺失的測評碼條")
    with office.expect_navigation():
        office.get_by_role("button", name=t("Mint codes"), exact=True).click()
    expect(office.locator("article.slip")).to_have_count(4)
    _take(office, "06-slips")


def test_printed_results(office, live_server):
    """A survey's results as they print (print styles on): what the supervision group reads."""
    _needs(live_server, "results.show_survey")
    office.goto(f"/results/surveys/{CLOSED_SATISFACTION}")
    office.wait_for_load_state("networkidle")
    office.emulate_media(media="print")
    _take(office, "12-results-printed")


def test_respondent_form_and_language_switch(open_context, live_server):
    """A phone that scanned a slip: the questionnaire, then the same answers after switching
    to Simplified Chinese and back."""
    session = open_context(**PHONE)
    page = session.new_page()
    page.goto(live_server.take_slip().url)
    items = page.locator("fieldset.item")
    expect(items.first).to_be_visible()
    for index in range(2):
        items.nth(index).locator("label.option").nth(index).tap()
    _take(page, "07-respondent-form")
    with page.expect_navigation():
        page.locator(".lang-switch").get_by_text("简体中文").tap()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    with page.expect_navigation():
        page.locator(".lang-switch").get_by_text("繁體中文").tap()
    expect(items.nth(1).locator("input").nth(1)).to_be_checked()
    _take(page, "07-respondent-form-after-switching")
    session.watch.check()


def test_public_plans_on_a_phone(open_context, live_server):
    """The public page of the demo's filed plans (公示), as a phone shows it, without signing in."""
    _needs(live_server, "rectify.show_public")
    page = open_context(**PHONE).new_page()
    response = page.goto(f"/plans/{CAMPAIGN}")
    assert response.status == 200
    expect(page.locator("table.measures").first).to_be_visible()
    _take(page, "16-public-plans")
