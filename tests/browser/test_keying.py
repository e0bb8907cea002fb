"""A data-entry clerk keys paper ballots with the keyboard only, in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "en-GB"}


def test_a_clerk_keys_ballots_by_keyboard_and_the_trailing_row_does_not_block(
    open_context, live_server
):
    """Branch chosen once; category and six answers by digits; a comment typed; Enter to the
    next ballot (branch and category carried over); Enter past the last row leaves a trailing
    row with only branch and category; Ctrl+Enter saves both ballots."""
    live_server.cli(
        "create-user", "keying-clerk", "--role", "data_entry", "--password-stdin", input=PASSWORD
    )
    session = open_context(**DESKTOP)
    page = session.new_page()
    sign_in(page, "keying-clerk")
    assert page.url.endswith("/manage/keying")
    page.get_by_role("link", name="羣眾滿意度測評表", exact=True).click()
    page.get_by_role("link", name="Key in ballots").click()
    expect(page.locator("[data-ballot-grid]")).to_be_visible()

    page.locator('select[name="ballots-0-branch"]').select_option("b03")
    page.locator('select[name="ballots-0-category"]').focus()
    page.keyboard.type("2")  # 羣眾, and on to the first item
    expect(page.locator('select[name="ballots-0-item0"]')).to_be_focused()
    page.keyboard.type("121342")  # six items; the comment cell comes next
    expect(page.locator('input[name="ballots-0-comment"]')).to_be_focused()
    page.keyboard.type("多聽羣眾意見 2")  # digits in a comment are text, not shortcuts
    page.keyboard.press("Enter")
    expect(page.locator('select[name="ballots-1-item0"]')).to_be_focused()
    expect(page.locator('select[name="ballots-1-branch"]')).to_have_value("b03")
    page.keyboard.type("4")  # ballot 2 answers one item
    expect(page.locator("tr[data-row]")).to_have_count(10)
    for _n in range(9):
        page.keyboard.press("Enter")  # rows 3 to 10, then one more: a new trailing row
    expect(page.locator("tr[data-row]")).to_have_count(11)
    expect(page.locator('select[name="ballots-10-category"]')).to_have_value("public")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    expect(page.locator("main")).to_contain_text("2 ballots keyed.")
    assert re.search(r"/manage/surveys/\d+/ballots/\d+$", page.url)
    expect(page.locator("main")).to_contain_text("2 ballots, entered by keying-clerk.")
    expect(page.locator("main")).to_contain_text(
        "You keyed this batch yourself, so the second keying must be done by another account."
    )
    session.watch.check()
