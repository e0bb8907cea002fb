"""axe-core on the pages people use: no serious or critical violation anywhere.

axe is injected as an inline script, which Ceping's CSP rightly refuses, so these pages are
opened in contexts with ``bypass_csp=True``; every other test runs with the CSP enforced.
Each check runs in both page languages that matter most: the default zh_Hant interface for the
public pages, English for the office pages (the language does not change the structure).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    ADMIN,
    CAMPAIGN,
    CLOSED_SATISFACTION,
    EVALUATION,
    SUPERVISOR,
    describe_violations,
    require_axe,
    run_axe,
    sign_in,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-TW",
    "bypass_csp": True,
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "en-GB", "bypass_csp": True}


class Audit:
    """axe results of the pages of one test, reported together so one run shows every problem."""

    def __init__(self) -> None:
        self.findings: list[str] = []
        self.pages = 0

    def __call__(self, page, where: str) -> None:
        """Run axe on the page as it is now and keep its serious and critical violations."""
        self.pages += 1
        violations = run_axe(page)
        if violations:
            self.findings.append(describe_violations(violations, where))

    def assert_clean(self) -> None:
        """Fail with the violations of every page checked."""
        assert self.pages and not self.findings, "\n".join(self.findings)


def test_respondent_pages(open_context, live_server):
    """Start page, questionnaire (with and without errors), thank-you and refusal pages."""
    require_axe()
    check = Audit()
    session = open_context(**PHONE)
    page = session.new_page()
    page.goto("/")
    check(page, "the start page")

    slip = live_server.take_slip()
    page.close()  # a slip opens in a new tab: from "/" to "/#code=…" would not reload the page
    page = session.new_page()
    page.goto(slip.url)  # a valid code goes straight on to the questionnaire
    expect(page.locator("fieldset.item").first).to_be_visible()
    check(page, "the questionnaire")

    # Sent with the first item unanswered (the browser's own check switched off): the page
    # comes back with an error summary and the error next to the item.
    page.locator("form").last.evaluate("form => form.noValidate = true")
    for index in range(1, page.locator("fieldset.item").count()):
        page.locator("fieldset.item").nth(index).locator("label.option").first.click()
    session.watch.allow(r"status of 422")
    with page.expect_navigation() as navigation:
        page.locator('form button[type="submit"]').last.click()
    assert navigation.value.status == 422
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, "the questionnaire with an unanswered item")

    page.locator("fieldset.item").first.locator("label.option").first.click()
    page.locator('form button[type="submit"]').last.click()
    page.wait_for_url("**/thanks")
    check(page, "the thank-you page")

    session.watch.allow(r"status of 409")
    page.goto("about:blank")
    page.goto(slip.url)
    expect(page.locator(".refusal")).to_be_visible()
    check(page, "the code-already-used page")
    session.watch.check()
    check.assert_clean()


def test_sign_in_and_results_pages(open_context, live_server):
    """Login, the results list, a survey's results with its charts, and the comparison."""
    require_axe()
    check = Audit()
    session = open_context(**DESKTOP)
    page = session.new_page()
    page.goto("/login")
    check(page, "the sign-in page")
    sign_in(page, SUPERVISOR)
    page.goto("/results/")
    check(page, "the list of campaigns")
    page.goto(f"/results/campaigns/{CAMPAIGN}")
    check(page, "the campaign page")
    for url in (
        f"/results/surveys/{EVALUATION}",
        f"/results/surveys/{EVALUATION}/branches/b08",
        f"/results/campaigns/{CAMPAIGN}/compare?a={EVALUATION}&b={CLOSED_SATISFACTION}",
    ):
        page.goto(url)
        charts = page.locator("[data-figure]")
        for index in range(charts.count()):
            expect(charts.nth(index).locator(".main-svg").first).to_be_attached()
        check(page, url)
    session.watch.check()
    check.assert_clean()


def test_admin_office_pages(open_context, live_server):
    """Dashboard, new-survey form, branches, accounts and the audit log."""
    require_axe()
    check = Audit()
    session = open_context(**DESKTOP)
    page = session.new_page()
    sign_in(page, ADMIN)
    for url, what in (
        ("/manage/", "the administration dashboard"),
        ("/manage/surveys/new", "the new-survey form"),
        ("/manage/branches", "the branch list"),
        ("/manage/users", "the account list"),
        ("/audit", "the audit log"),
        ("/account", "the account page"),
    ):
        page.goto(url)
        check(page, what)
    session.watch.check()
    check.assert_clean()


def test_admin_survey_pages(open_context, live_server):
    """Every page that manages one survey, reached through its menu, and the printable slips."""
    require_axe()
    check = Audit()
    t = lambda message, **params: live_server.translate(message, "en", **params)  # noqa: E731
    session = open_context(**DESKTOP)
    page = session.new_page()
    sign_in(page, ADMIN)
    page.goto("/manage/")
    with page.expect_navigation():
        page.get_by_role("link", name="羣眾滿意度測評表", exact=True).click()
    survey_url = page.url
    check(page, "a survey's overview")
    pages = [
        t("Settings"),
        t("Questionnaire"),
        t("Scale"),
        t("Categories"),
        t("Turnout"),
        t("Paper ballots"),
        t("Codes and slips"),
    ]
    for name in pages:
        page.goto(survey_url)
        with page.expect_navigation():  # axe must meet the new page, not the one leaving
            page.locator("nav.subnav").get_by_role("link", name=name, exact=True).click()
        check(page, f"the survey's “{name}” page")
    page.get_by_label(t("Branch"), exact=True).select_option(label="b03 工業處黨支部")
    page.get_by_label(t("Codes per branch")).fill("2")
    # The survey is open: minting now needs a reason, which the supervisors see.
    page.locator('textarea[name="reason"]').fill("two more members came")
    page.get_by_role("button", name=t("Mint codes")).click()
    expect(page.locator("article.slip")).to_have_count(2)
    check(page, "the slips page")
    session.watch.check()
    check.assert_clean()


def test_rectification_pages(open_context, live_server):
    """The office's rectification pages (on the demo campaign's plans and opinions) and the
    public page on a phone."""
    require_axe()
    check = Audit()
    session = open_context(**DESKTOP)
    page = session.new_page()
    sign_in(page, ADMIN)
    for url, what in (
        (f"/rectify/{CAMPAIGN}", "the rectification overview"),
        (f"/rectify/{CAMPAIGN}/opinions", "the opinion list"),
        (f"/rectify/{CAMPAIGN}/summary", "the opinion summary"),
        (f"/rectify/{CAMPAIGN}/effect", "the effect report"),
    ):
        page.goto(url)
        check(page, what)
    page.goto(f"/rectify/{CAMPAIGN}")
    page.locator("table.data tbody a").first.click()
    expect(page.locator("table.measures")).to_be_visible()
    check(page, "a plan with its measures")
    session.watch.check()
    phone = open_context(**PHONE).new_page()
    phone.goto(f"/plans/{CAMPAIGN}")
    expect(phone.locator("table.measures").first).to_be_visible()
    check(phone, "the public page of plans")
    check.assert_clean()
