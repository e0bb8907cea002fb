"""The office in Chromium: a reload of the slips page mints nothing and shows the same codes
(also after switching the language), and the questionnaire preview looks like the phone form."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ADMIN, EVALUATION, SATISFACTION, screenshot, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "en-GB"}
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "en-GB", "is_mobile": True}


def _survey_url(page, slug: str) -> str:
    """The office's address of the survey called ``slug`` (found on the dashboard)."""
    page.goto("/manage/?archived=1")
    link = page.locator(f'tr:has-text("{slug}") th a').first
    return link.get_attribute("href")


def test_reloading_the_slips_mints_no_second_batch(open_context, live_server):
    t = lambda message, **params: live_server.translate(message, "en", **params)  # noqa: E731
    page = open_context(**DESKTOP).new_page()
    sign_in(page, ADMIN)
    survey = _survey_url(page, SATISFACTION)
    page.goto(survey + "/codes")
    batches = page.locator("#batches-heading + .table-wrap tbody tr")
    before = batches.count()
    page.get_by_label(t("Branch"), exact=True).select_option(index=1)
    page.get_by_label(t("Respondent category")).select_option(index=1)
    page.get_by_label(t("Codes per branch")).fill("2")
    page.get_by_label(
        t("Reason (needed while the survey is open, or beyond a branch's members)"), exact=True
    ).first.fill("browser test")  # the mint form's (the file form below has its own)
    page.get_by_role("button", name=t("Mint codes")).click()
    page.wait_for_url("**/codes/slips")
    codes = page.locator(".slip .slip-code")
    expect(codes).to_have_count(2)
    first = codes.all_inner_texts()
    page.reload()
    expect(codes).to_have_count(2)
    assert codes.all_inner_texts() == first
    # The language links keep the batch on screen.
    page.get_by_role("link", name="繁體中文").click()
    page.wait_for_url("**/codes/slips")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    assert codes.all_inner_texts() == first
    screenshot(page, "office-slips-after-reload-zh-Hant")
    page.get_by_role("link", name="English").click()
    page.goto(survey + "/codes")
    expect(batches).to_have_count(before + 1)


def test_the_preview_shows_the_phone_form_without_a_code(open_context, live_server):
    page = open_context(**DESKTOP).new_page()
    sign_in(page, ADMIN)
    survey = _survey_url(page, EVALUATION)
    phone = open_context(**PHONE)
    preview = phone.new_page()
    sign_in(preview, ADMIN)
    preview.goto(survey + "/preview")
    expect(preview.locator("#preview-note")).to_be_visible()
    expect(preview.locator("fieldset.item").first).to_be_visible()
    assert preview.locator('input[name="code"]').count() == 0
    first = preview.locator("fieldset.item input[type=radio]").first
    first.check()
    expect(first).to_be_checked()
    expect(preview.get_by_role("button", name="Send my answers")).to_be_disabled()
    # As wide as the phone: nothing sticks out sideways.
    width = preview.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(preview, "office-preview-phone")
