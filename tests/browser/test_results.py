"""The supervision group in a real browser: charts drawn by plotly.js, the spreadsheet export
checked against the JSON API, the language switcher, and the stage comparison's dumbbell chart.

The data are the demo's closed evaluation stage (pingyi-2005, 21 branches of paper ballots) and a
closed copy of the satisfaction test with ballots of its own (see conftest), so both stages have
published figures.
"""

from __future__ import annotations

import re

import openpyxl
import pytest

from tests.browser.conftest import (
    CAMPAIGN,
    CLOSED_SATISFACTION,
    EVALUATION,
    SUPERVISOR,
    screenshot,
    sign_in,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "en-GB"}
DRAWN = re.compile(r"\bis-drawn\b")

#: Per chart container: is plotly's SVG there, and how many data marks does it hold? A bar is a
#: ``g.point`` with its path, a scatter marker a ``path.point``; a heat map is an ``image`` in
#: ``g.hm``; a line is a ``path.js-line``.
CHART_MARKS = """
() => [...document.querySelectorAll("[data-figure]")].map(chart => ({
  id: chart.dataset.figure,
  plotly: chart.classList.contains("js-plotly-plot"),
  svg: chart.querySelectorAll(".main-svg").length,
  marks: chart.querySelectorAll(
    ".cartesianlayer g.point > path, .cartesianlayer path.point,"
    + ".cartesianlayer g.hm > image, .cartesianlayer path.js-line"
  ).length,
}))
"""


def wait_for_charts(page) -> list[dict]:
    """Wait until plotly has drawn every chart of the page; return what each one holds."""
    charts = page.locator("[data-figure]")
    expect(charts.first).to_be_attached()
    for index in range(charts.count()):
        # charts.js marks a chart "is-drawn" when plotly's promise resolves.
        expect(charts.nth(index)).to_have_class(DRAWN)
    return page.evaluate(CHART_MARKS)


def assert_all_drawn(charts: list[dict], where: str) -> None:
    """Every chart container became a plotly plot with an SVG holding data marks."""
    empty = [c for c in charts if not (c["plotly"] and c["svg"] > 0 and c["marks"] > 0)]
    assert charts and not empty, f"charts on {where} not drawn with data: {empty} of {charts}"


def test_supervisor_reads_charts_and_exports(open_context, live_server, tmp_path):
    """Every chart of a closed survey is drawn with data; the xlsx matches the JSON report; the
    language switcher re-renders the page in Traditional Chinese."""
    session = open_context(**DESKTOP)
    page = session.new_page()
    sign_in(page, SUPERVISOR)
    page.goto(f"/results/surveys/{EVALUATION}")
    charts = wait_for_charts(page)
    assert_all_drawn(charts, page.url)
    assert len(charts) >= 3, f"expected the rank, funnel and distribution charts at least: {charts}"
    screenshot(page, "3-supervisor-results")

    response = page.request.get(f"/api/v1/surveys/{EVALUATION}/report")
    assert response.status == 200, response.text()
    report = response.json()

    with page.expect_download() as download_info:
        page.get_by_role(
            "link", name=live_server.translate("Download spreadsheet (xlsx)", "en")
        ).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = workbook.sheetnames
        summary = [row for row in workbook[names[1]].iter_rows(values_only=True)]
        # The raw sheet holds every figure at full precision, its second row names the columns.
        raw = [row for row in workbook[names[-1]].iter_rows(values_only=True)]
    finally:
        workbook.close()

    respondents = live_server.translate("Respondents", "en")
    cells = {row[0]: row[1] for row in summary if row and len(row) > 1 and row[0]}
    assert cells[respondents] == report["respondents"]
    keys, records = raw[1], [dict(zip(raw[1], row, strict=False)) for row in raw[2:]]
    assert keys[:3] == ("level", "branch_code", "branch_name")
    by_item = {r["item_key"]: r for r in records if r["level"] == "overall"}
    assert set(by_item) == set(report["overall"]["items"])
    for key, overall in report["overall"]["items"].items():
        assert by_item[key]["n"] == overall["n"], key
        assert by_item[key]["favourable_rate"] == pytest.approx(overall["favourable_rate"]), key
    shown = {b["code"]: b for b in report["branches"] if not b["suppressed"]}
    rows = {r["branch_code"]: r for r in records if r["level"] == "headline"}
    assert set(rows) == {c for c, b in shown.items() if b["headline"]}, (
        "the spreadsheet lists other branches than the report"
    )
    for code, row in rows.items():
        assert row["respondents"] == shown[code]["respondents"], code
        assert row["favourable_rate"] == pytest.approx(shown[code]["headline"]["rate"]), code

    # The language switcher: the same page comes back in Traditional Chinese, charts and all.
    summary = page.locator("#summary-heading")
    before = live_server.translate("Summary", "en")
    after = live_server.translate("Summary", "zh_Hant")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(summary).to_have_text(before)
    page.locator(".lang-switch a[lang='zh-Hant']").click()
    page.wait_for_url(f"**/results/surveys/{EVALUATION}*")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(page.locator(".lang-switch a[aria-current]")).to_have_attribute("lang", "zh-Hant")
    expect(summary).to_have_text(after)
    assert_all_drawn(wait_for_charts(page), page.url)
    screenshot(page, "3-supervisor-results-zh-Hant", full_page=False)
    session.watch.check()
    assert after != before, (
        "the zh_Hant catalog does not translate the results page (“Summary” stays English)"
    )


def test_stage_comparison_draws_its_dumbbell(open_context, live_server):
    """The comparison of two closed stages draws a dumbbell chart with points per branch."""
    session = open_context(**DESKTOP)
    page = session.new_page()
    sign_in(page, SUPERVISOR)
    page.goto(f"/results/campaigns/{CAMPAIGN}/compare?a={EVALUATION}&b={CLOSED_SATISFACTION}")
    charts = wait_for_charts(page)
    assert len(charts) == 1, charts
    assert_all_drawn(charts, page.url)
    # Two markers (before, after) per branch shown in both stages.
    points = page.locator("[data-figure] .scatterlayer path.point").count()
    assert points >= 2, points
    verdicts = page.locator("#verdicts-heading")
    expect(verdicts).to_be_visible()
    screenshot(page, "4-stage-comparison")
    session.watch.check()
