"""Respondents in a real browser: a phone that scanned a slip (and switched language mid-form),
and someone using only a keyboard.

The survey is the demo's open satisfaction test (six items, four options, comments allowed);
each test takes its own unused code minted for branch b01 and the public (see conftest).
"""

from __future__ import annotations

import pytest

from survey.i18n import LANGUAGE_NAMES
from tests.browser.conftest import SATISFACTION, no_horizontal_scroll, screenshot

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

#: A small phone held upright, in Taiwan: Chromium sends Accept-Language zh-TW.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-TW",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


def test_phone_answers_from_a_slip_once(open_context, live_server):
    """A slip's link opens the questionnaire; every item is tapped; Back shows the thanks; the
    code cannot be used twice."""
    slip = live_server.take_slip()
    zh = lambda message: live_server.translate(message, "zh_Hant")  # noqa: E731
    before = live_server.answer_counts(SATISFACTION)
    session = open_context(**PHONE)
    page = session.new_page()

    page.goto(slip.url)
    items = page.locator("fieldset.item")
    expect(items.first).to_be_visible()
    expect(page).to_have_url(live_server.url("/questionnaire"))
    assert page.evaluate("location.hash") == ""
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    count = items.count()
    assert count == 6, f"the satisfaction test has 6 items, the page shows {count}"
    chosen = {}
    for index in range(count):
        options = items.nth(index).locator("label.option")
        option = options.nth(index % options.count())
        option.tap()
        radio = option.locator('input[type="radio"]')
        expect(radio).to_be_checked()
        chosen[radio.get_attribute("name")] = radio.get_attribute("value")
    no_horizontal_scroll(page, 360)
    screenshot(page, "1-phone-questionnaire")

    page.get_by_role("button", name=zh("Send my answers")).tap()
    page.wait_for_url("**/thanks")
    expect(page.locator("h1")).to_have_text(zh("Thank you"))
    no_horizontal_scroll(page, 360)
    screenshot(page, "1-phone-thanks")
    added = live_server.answer_counts(SATISFACTION) - before
    assert added == {(item, option): 1 for item, option in chosen.items()}

    # Back: the thank-you page again, not the browser's "send the form again?" page.
    page.go_back()
    expect(page).to_have_url(live_server.url("/thanks"))
    expect(page.locator("h1")).to_have_text(zh("Thank you"))
    assert live_server.answer_counts(SATISFACTION) - before == added

    # The same slip again: refused because the code has been used.
    session.watch.allow(r"status of 409")  # Chromium logs the 409 document as a failed load
    page.goto(slip.url)
    expect(page.locator("h1")).to_have_text(zh("Code already used"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    assert slip.code not in page.url
    no_horizontal_scroll(page, 360)
    screenshot(page, "1-phone-code-used")
    assert live_server.answer_counts(SATISFACTION) - before == added
    session.watch.check()


def test_language_switch_mid_form_keeps_the_answers(open_context, live_server):
    """Half the questions answered, then 简体中文 and 繁體中文: the answers and the comment stay
    chosen, the code stays usable, and the form is sent once."""
    slip = live_server.take_slip()
    before = live_server.answer_counts(SATISFACTION)
    session = open_context(**PHONE)
    page = session.new_page()
    page.goto(slip.url)
    items = page.locator("fieldset.item")
    expect(items.first).to_be_visible()
    chosen = {}
    for index in range(3):
        option = items.nth(index).locator("label.option").nth(index + 1)
        option.tap()
        radio = option.locator('input[type="radio"]')
        chosen[radio.get_attribute("name")] = radio.get_attribute("value")
    page.locator("textarea[name=comment]").fill("換了語言也在")

    for language, tag in (("zh_Hans", "zh-Hans"), ("zh_Hant", "zh-Hant")):
        with page.expect_navigation():
            page.locator(".lang-switch").get_by_text(LANGUAGE_NAMES[language]).tap()
        expect(page.locator("html")).to_have_attribute("lang", tag)
        expect(page).to_have_url(live_server.url("/questionnaire"))
        checked = page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('input[type=radio]:checked')]"
            ".map(r => [r.name, r.value]))"
        )
        assert checked == chosen, f"after switching to {language}: {checked}"
        expect(page.locator("textarea[name=comment]")).to_have_value("換了語言也在")
        expect(page.locator(".field-error")).to_have_count(0)
        send = live_server.translate("Send my answers", language)
        expect(page.get_by_role("button", name=send)).to_be_visible()
    assert live_server.answer_counts(SATISFACTION) == before, "a language switch stored answers"
    screenshot(page, "1-phone-questionnaire-switched")

    for index in range(3, items.count()):
        items.nth(index).locator("label.option").first.tap()
        radio = items.nth(index).locator('input[type="radio"]').first
        chosen[radio.get_attribute("name")] = radio.get_attribute("value")
    page.get_by_role("button", name=live_server.translate("Send my answers", "zh_Hant")).tap()
    page.wait_for_url("**/thanks")
    added = live_server.answer_counts(SATISFACTION) - before
    assert added == {(item, option): 1 for item, option in chosen.items()}
    assert "換了語言也在" in live_server.comment_texts(SATISFACTION)
    session.watch.check()


def test_a_chosen_option_looks_chosen_not_wrong(open_context, live_server):
    """A chosen option is marked in the focus blue, bold, never in the red of errors; an
    unanswered question sent anyway is the one that turns red."""
    slip = live_server.take_slip()
    session = open_context(**DESKTOP)
    page = session.new_page()
    page.goto(slip.url)
    items = page.locator("fieldset.item")
    expect(items.first).to_be_visible()
    first = items.first.locator("label.option")
    first.first.click()
    style = """e => { const s = getComputedStyle(e);
        return {border: s.borderTopColor, background: s.backgroundColor, weight: s.fontWeight}; }"""
    chosen = first.first.evaluate(style)
    other = first.nth(1).evaluate(style)
    red = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bad')")
    assert red.strip() == "#b3261e"
    assert chosen["border"] == "rgb(26, 95, 180)", chosen
    assert chosen["background"] == "rgb(232, 240, 254)", chosen
    assert int(chosen["weight"]) >= 700 and int(other["weight"]) < 700
    assert other["background"] != chosen["background"] and "179, 38, 30" not in str(chosen)

    page.locator("form").last.evaluate("form => form.noValidate = true")
    session.watch.allow(r"status of 422")
    with page.expect_navigation():
        page.locator('form button[type="submit"]').last.click()
    unanswered = page.locator("fieldset.item.has-error").first
    expect(unanswered).to_be_visible()
    assert unanswered.evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(179, 38, 30)"
    kept = page.locator("fieldset.item").first.locator("label.option").first
    assert kept.evaluate(style) == chosen, "the answer kept after the error lost its marking"
    session.watch.check()


def _focused(page) -> dict:
    """What has the keyboard focus, and whether it shows a visible focus ring."""
    return page.evaluate(
        """() => {
          const e = document.activeElement;
          const style = getComputedStyle(e);
          return {
            tag: e.tagName.toLowerCase(), type: e.type || "", name: e.name || "",
            value: e.value || "", checked: !!e.checked,
            ring: e.matches(":focus-visible") && style.outlineStyle !== "none"
                  && parseFloat(style.outlineWidth) > 0,
          };
        }"""
    )


def _tab_until(page, wanted, presses: int = 20, key: str = "Tab") -> dict:
    """Press ``key`` until the focused element satisfies ``wanted``; fail after ``presses``."""
    seen = []
    for _n in range(presses):
        page.keyboard.press(key)
        focus = _focused(page)
        if wanted(focus):
            return focus
        seen.append(f"{focus['tag']}[{focus['name']}]")
    raise AssertionError(f"{key} never reached the wanted element; focus went {seen}")


def test_keyboard_only_respondent(open_context, live_server):
    """Type the code, answer with Tab, Shift+Tab, arrows and Space, send with Enter."""
    slip = live_server.take_slip()
    before = live_server.answer_counts(SATISFACTION)
    comments_before = live_server.comment_texts(SATISFACTION)
    session = open_context(**DESKTOP)
    page = session.new_page()
    page.goto("/")

    code = _tab_until(page, lambda f: f["name"] == "code")
    assert code["ring"], "the code field shows no focus ring"
    # Typed the way people do: small letters, spaces instead of dashes.
    page.keyboard.type(slip.code.lower().replace("-", " "))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    items = page.locator("fieldset.item")
    expect(items.first).to_be_visible()
    names = page.evaluate(
        "[...document.querySelectorAll('fieldset.item')]"
        ".map(f => f.querySelector('input[type=radio]').name)"
    )
    values = page.evaluate(
        "[...document.querySelector('fieldset.item').querySelectorAll('input[type=radio]')]"
        ".map(r => r.value)"
    )
    assert len(names) == 6 and len(values) == 4, (names, values)

    def at(index: int) -> dict:
        focus = _focused(page)
        assert focus["type"] == "radio" and focus["name"] == names[index], focus
        assert focus["ring"], f"no visible focus ring on {focus}"
        return focus

    first = _tab_until(page, lambda f: f["type"] == "radio")
    assert first["name"] == names[0], f"the first radio reached is not item 1's: {first}"
    page.keyboard.press("Space")  # item 1: the first option
    assert at(0)["value"] == values[0] and at(0)["checked"]
    page.keyboard.press("Tab")
    at(1)
    page.keyboard.press("ArrowDown")  # item 2: the second option
    assert at(1)["value"] == values[1] and at(1)["checked"]
    page.keyboard.press("Tab")
    at(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # item 3: the third option
    assert at(2)["value"] == values[2] and at(2)["checked"]
    page.keyboard.press("Shift+Tab")  # back to item 2, which keeps its answer until changed
    assert at(1)["value"] == values[1] and at(1)["checked"]
    page.keyboard.press("ArrowUp")  # item 2 becomes the first option
    assert at(1)["value"] == values[0] and at(1)["checked"]
    page.keyboard.press("Tab")
    assert at(2)["value"] == values[2]
    page.keyboard.press("Tab")
    at(3)
    page.keyboard.press("Space")  # item 4: first option
    page.keyboard.press("Tab")
    at(4)
    page.keyboard.press("ArrowDown")  # item 5: second option
    page.keyboard.press("Tab")
    at(5)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # item 6: the last option
    assert at(5)["value"] == values[3]

    comment = "鍵盤填寫：整改要抓落實。"
    focus = _tab_until(page, lambda f: f["tag"] in ("textarea", "button"), presses=3)
    if focus["tag"] == "textarea":
        page.keyboard.type(comment)
        focus = _tab_until(page, lambda f: f["tag"] == "button", presses=3)
    assert focus["ring"], "the send button shows no focus ring"
    screenshot(page, "5-keyboard-questionnaire")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/thanks")
    screenshot(page, "5-keyboard-thanks")

    expected = [values[0], values[0], values[2], values[0], values[1], values[3]]
    added = live_server.answer_counts(SATISFACTION) - before
    assert added == {(name, value): 1 for name, value in zip(names, expected, strict=True)}
    new_comments = [c for c in live_server.comment_texts(SATISFACTION) if c not in comments_before]
    assert new_comments == [comment]
    session.watch.check()


def test_pages_have_an_icon(open_context, live_server):
    """Browsers ask every site for an icon; a missing one is a console error on every visit.

    Chromium asks only once per browser session, so the page watchers cannot see this reliably;
    this test asks the way the browser does: the ``<link rel=icon>`` if any, else /favicon.ico.
    """
    session = open_context(**DESKTOP)
    page = session.new_page()
    page.goto("/")
    links = page.locator('link[rel~="icon"]')
    href = links.first.get_attribute("href") if links.count() else "/favicon.ico"
    response = page.request.get(href)
    assert response.status == 200, f"the icon {href} answers {response.status}"
    session.watch.check()
