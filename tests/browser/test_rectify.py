"""The rectification loop in a real browser, in Traditional Chinese: opinions imported and
tagged, a plan made and filed, the public page opened on a phone and feedback given, a measure
done, the final test closed, and the effect report read.

The loop runs on a campaign of its own (loaded with the CLI, as an operator would), so that the
shared demo surveys other browser tests answer are left as they are.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest

from tests.browser.conftest import ADMIN, ROOT, SUPERVISOR, screenshot, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

CAMPAIGN = "zhenggai-loop"
EVALUATION = "zhenggai-pingyi"
FINAL = "zhenggai-manyi"
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-TW"}
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-TW", "is_mobile": True}


def _definition(demo: str, slug: str) -> str:
    """A demo definition moved to the loop's own campaign under ``slug``."""
    text = (ROOT / "survey" / "demo" / demo).read_text(encoding="utf-8")
    text = re.sub(
        r"(?m)^campaign: .*$", f"campaign: {{slug: {CAMPAIGN}, title: 整改測試活動}}", text
    )
    return re.sub(r"(?m)^slug: .*$", f"slug: {slug}", text, count=1)


def _ballots(good_share: float, seed: int) -> str:
    """12 ballots for each of b01–b03; b01's q1 is answered favourably by ``good_share``."""
    rng = random.Random(seed)
    lines = ["branch,category,q1,q2,q3,q4,q5,q6"]
    for branch in ("b01", "b02", "b03"):
        for number in range(12):
            first = "good" if (branch != "b01" or number < good_share * 12) else "poor"
            rest = rng.choices(("good", "fairly_good", "average"), weights=(6, 3, 1), k=5)
            lines.append(f"{branch},public,{first}," + ",".join(rest))
    return "\n".join(lines) + "\n"


def _load(live_server, folder: Path) -> None:
    for demo, slug, share, seed in (
        ("evaluation.yaml", EVALUATION, 0.1, 1),
        ("satisfaction.yaml", FINAL, 1.0, 2),
    ):
        definition, ballots = folder / f"{slug}.yaml", folder / f"{slug}.csv"
        definition.write_text(_definition(demo, slug), encoding="utf-8")
        ballots.write_text(_ballots(share, seed), encoding="utf-8")
        live_server.cli("load-survey", str(definition))
        live_server.cli("open-survey", slug)
        live_server.cli("import-responses", slug, str(ballots))
    live_server.cli("close-survey", EVALUATION)


def test_the_rectification_loop(open_context, live_server, tmp_path):
    t = lambda message, **params: live_server.translate(message, "zh_Hant", **params)  # noqa: E731
    _load(live_server, tmp_path)
    office = open_context(**DESKTOP).new_page()
    sign_in(office, ADMIN)

    # Opinions: imported from a Big5 file with Chinese headers, then tagged.
    opinions = tmp_path / "意見.csv"
    opinions.write_bytes("意見,來源,支部,主題\n徵求意見不廣泛,座談會,b01,作風\n".encode("big5"))
    office.goto(f"/rectify/{CAMPAIGN}/opinions")
    office.locator('input[type="file"]').set_input_files(str(opinions))
    office.get_by_role("button", name=t("Import"), exact=True).click()
    expect(office.get_by_text(t("%(count)d opinions imported.", count=1))).to_be_visible()
    themes = office.get_by_label(re.compile(r"意見 \d+ 的主題"))
    themes.fill("作風、徵求意見")
    themes.locator("xpath=..").get_by_role("button").click()
    expect(office.get_by_text(t("Themes saved."))).to_be_visible()

    # A plan for b01 with one measure aimed at its weakest item, discussed by the members.
    office.goto(f"/rectify/{CAMPAIGN}")
    b01 = office.locator('select[name="branch"] option', has_text="b01 ").get_attribute("value")
    office.get_by_label(t("Plan of")).select_option(b01)
    office.get_by_label(t("Title")).fill("第一支部整改方案")
    office.get_by_role("button", name=t("Create the plan")).click()
    expect(office.locator("h1")).to_have_text("第一支部整改方案")
    expect(office.get_by_text(t("clearly below the rest")).first).to_be_visible()
    office.get_by_label(t("What is the problem to fix?")).fill("徵求意見範圍太窄")
    office.get_by_label(t("How will it be fixed?")).fill("每月召開座談會")
    office.get_by_label(t("What should it achieve?")).fill("羣眾的意見都能聽到")
    office.get_by_label(t("Responsible department")).fill("辦公室")
    office.get_by_label("徵求意見是否廣泛").check()
    office.get_by_label("徵求意見不廣泛").check()
    office.get_by_role("button", name=t("Save the measure")).click()
    expect(office.get_by_text(t("Measure added."))).to_be_visible()
    office.get_by_label(t("Date of the members' meeting")).fill(date.today().isoformat())
    office.get_by_role("button", name=t("Mark as discussed")).click()
    expect(
        office.get_by_text(t("The plan is marked as discussed by the members' meeting."))
    ).to_be_visible()
    plan_url = office.url

    # A supervisor files it; the office switches the public page on.
    supervisor = open_context(**DESKTOP).new_page()
    sign_in(supervisor, SUPERVISOR)
    supervisor.goto(plan_url)
    supervisor.get_by_role("button", name=t("File the plan")).click()
    expect(
        supervisor.get_by_text(t("The plan is filed and shown on the public page."))
    ).to_be_visible()
    office.goto(f"/rectify/{CAMPAIGN}")
    office.get_by_role("button", name=t("Switch the public page on")).click()
    expect(office.get_by_text(t("The public page is on."))).to_be_visible()

    # The public page on a phone, without signing in: the plan, and feedback sent.
    phone = open_context(**PHONE).new_page()
    phone.goto(f"/plans/{CAMPAIGN}")
    expect(phone.get_by_text("每月召開座談會")).to_be_visible()
    screenshot(phone, "rectify-public-phone")
    phone.get_by_role("textbox", name=t("Your opinion"), exact=True).fill("座談會請安排在晚上")
    phone.get_by_role("button", name=t("Send")).click()
    expect(
        phone.get_by_text(t("Thank you. Your opinion was received; nothing about you was kept."))
    ).to_be_visible()

    # The office takes the feedback in and records the measure as done.
    office.goto(f"/rectify/{CAMPAIGN}/opinions")
    office.get_by_role("button", name=re.compile("公示頁面")).click()
    expect(office.get_by_text("座談會請安排在晚上")).to_be_visible()
    office.goto(plan_url)
    office.get_by_role("link", name=t("Record progress")).click()
    office.get_by_label(t("Status")).select_option("done")
    office.get_by_label(t("What was done, or why it is late")).fill("已召開三次座談會")
    office.get_by_role("button", name=t("Save progress")).click()
    expect(office.get_by_text("已召開三次座談會")).to_be_visible()

    # The final test closes; the effect report shows the item improved in b01.
    office.goto(f"/rectify/{CAMPAIGN}/effect")
    expect(office.locator("main p.notice")).to_be_visible()  # measured once the test closes
    expect(office.get_by_role("link", name=t("Download (.xlsx)"))).to_have_count(0)
    live_server.cli("close-survey", FINAL)
    office.reload()
    row = office.locator("tr", has_text="徵求意見是否廣泛")
    expect(row).to_contain_text(t("Improved"))
    expect(row).to_contain_text("整改措施是否切實可行")  # the final test words q1 otherwise
    screenshot(office, "rectify-effect")
