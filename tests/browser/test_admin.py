"""The campaign office in a real browser: a survey from the template, slips with QR codes that
print, and opening the survey; then a freshly printed slip really opens the questionnaire.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.browser.conftest import ADMIN, screenshot, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "en-GB"}
#: The slips page's print button calls window.print(); headless Chromium prints nothing, so the
#: call is counted instead.
COUNT_PRINTS = "window.__prints = 0; window.print = function () { window.__prints += 1; };"
CODE = re.compile(r"^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$")
SLIPS = 3


#: For every slip: the code's text, whether it is cut off, and whether the QR image covers it.
SLIP_LAYOUT = """
() => [...document.querySelectorAll("article.slip")].map(slip => {
  const code = slip.querySelector(".slip-code");
  const text = code.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(code);
  const glyphs = range.getBoundingClientRect();
  const qr = slip.querySelector(".slip-qr svg").getBoundingClientRect();
  const overlaps = glyphs.right > qr.left && glyphs.left < qr.right
                   && glyphs.bottom > qr.top && glyphs.top < qr.bottom;
  return {code: code.textContent.trim(), clipped: code.scrollWidth > code.clientWidth + 1
          || glyphs.right > text.right + 1, covered: overlaps};
})
"""


def unreadable_codes(page, media: str) -> list[str]:
    """Slips whose code is cut off or partly covered by the QR image (there should be none)."""
    return [
        f"{media}: {slip}"
        for slip in page.evaluate(SLIP_LAYOUT)
        if slip["clipped"] or slip["covered"]
    ]


def test_admin_creates_prints_and_opens_a_survey(open_context, live_server, tmp_path):
    """Create from the template, mint and print slips (one QR each), open; a slip works."""
    t = lambda message, **params: live_server.translate(message, "en", **params)  # noqa: E731
    session = open_context(**DESKTOP)
    session.context.add_init_script(COUNT_PRINTS)
    page = session.new_page()
    sign_in(page, ADMIN)

    page.goto("/manage/")
    screenshot(page, "2-admin-dashboard")
    page.get_by_role("link", name=t("New survey"), exact=True).click()
    page.get_by_label(t("Campaign")).select_option(label="保持共產黨員先進性教育活動")
    page.get_by_label(t("Title")).fill("第二次羣眾滿意度測評")
    page.get_by_label(t("Short name")).fill("manyidu-second")
    page.get_by_label(t("Kind")).select_option("satisfaction")
    template = page.locator('input[name="start"][value="template:satisfaction"]')
    template.check()
    screenshot(page, "2-admin-new-survey")
    page.get_by_role("button", name=t("Create survey")).click()
    expect(page.locator("h1")).to_have_text("第二次羣眾滿意度測評")
    expect(page.get_by_text(t("Survey created."))).to_be_visible()
    survey_url = page.url

    page.get_by_role("link", name=t("Codes and slips")).click()
    page.get_by_label(t("Branch"), exact=True).select_option(label="b02 綜合規劃處黨支部")
    page.get_by_label(t("Respondent category")).select_option(label="羣眾")
    page.get_by_label(t("Codes per branch")).fill(str(SLIPS))
    page.get_by_role("button", name=t("Mint codes")).click()
    expect(page.locator("h1")).to_have_text(t("%(n)d code slips", n=SLIPS))
    slips = page.locator("article.slip")
    expect(slips).to_have_count(SLIPS)
    codes = [c.strip() for c in page.locator(".slip .slip-code").all_inner_texts()]
    assert len(set(codes)) == SLIPS and all(CODE.match(c) for c in codes), codes
    qr = page.locator(".slip .slip-qr svg")
    assert qr.count() == SLIPS, f"{qr.count()} QR images for {SLIPS} codes"
    for index in range(SLIPS):  # a QR code is drawn, not an empty box
        assert qr.nth(index).locator("path, rect").count() > 0
        box = qr.nth(index).bounding_box()
        assert box and box["width"] >= 60 and box["height"] >= 60, box
    screenshot(page, "2-admin-slips")
    # Checked at the end, so that one layout fault does not hide the rest of the journey.
    unreadable = unreadable_codes(page, "screen")

    page.get_by_role("button", name=t("Print the slips")).click()
    assert page.evaluate("window.__prints") == 1, "the print button did not call window.print()"
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(slips.first).to_be_visible()
    screenshot(page, "2-admin-slips-print")
    unreadable += unreadable_codes(page, "print")
    page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.get_by_role("button", name=t("Download the codes (CSV)")).click()
    path = tmp_path / "codes.csv"
    download_info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    listed = {cell for row in rows for cell in row}
    assert set(codes) <= listed, f"the CSV lacks printed codes: {rows}"
    assert all(live_server.url(f"/#code={c}") in listed for c in codes), rows

    page.goto(survey_url)
    page.get_by_role("button", name=t("Open the survey")).click()
    expect(page.get_by_text(t("The survey is open."))).to_be_visible()
    expect(page.locator("#state-heading .badge")).to_have_text(t("Open"))
    screenshot(page, "2-admin-survey-open")
    session.watch.check()

    # A respondent scans one of the new slips: the new survey's questionnaire opens.
    respondent = open_context(**DESKTOP)
    slip_page = respondent.new_page()
    slip_page.goto(live_server.url(f"/#code={codes[0]}"))
    # A valid code on a slip's link goes straight on to the questionnaire.
    expect(slip_page.locator("h1")).to_have_text("第二次羣眾滿意度測評")
    expect(slip_page.locator("fieldset.item")).to_have_count(6)
    respondent.watch.check()
    assert not unreadable, (
        f"codes on the slips are cut off or covered by the QR image: {unreadable}"
    )
