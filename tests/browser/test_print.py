"""Printed results: every results page printed to PDF lays out cleanly on A4.

What a supervisor saw before: printing a survey's results collapsed three of its four chart
boxes to zero height, so the charts covered their own tables; a branch page printed from a
desktop-width window had its chart over the first category table's caption; the print header
read "Printed on 2026年12月1日" in both Chinese interfaces.

Each page is opened at a desktop width, switched to the print medium (which is what a browser's
print preview does, and what ``charts.js`` listens for), measured at that width and at the
printable width of A4, and printed with ``page.pdf()``. Chart boxes and tables are compared as
rectangles: none may overlap, and every chart box has a real height.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import (
    CAMPAIGN,
    CLOSED_SATISFACTION,
    EVALUATION,
    SUPERVISOR,
    sign_in,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
#: A4 less print.css's 12 mm side margins, in CSS pixels (96 per inch): what a page lays out at.
A4_CONTENT_WIDTH = round((210 - 2 * 12) / 25.4 * 96)

#: Every results page: the survey, a branch, the campaign, two stages compared.
PAGES = {
    "survey": f"/results/surveys/{EVALUATION}",
    "branch": f"/results/surveys/{EVALUATION}/branches/b01",
    "campaign": f"/results/campaigns/{CAMPAIGN}",
    "compare": f"/results/campaigns/{CAMPAIGN}/compare?a={EVALUATION}&b={CLOSED_SATISFACTION}",
}

#: The boxes of every chart container and every table, and the print header's text.
MEASURE = """
() => {
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, height: r.height};
  };
  return {
    charts: [...document.querySelectorAll("[data-figure]")].map((chart) => ({
      id: chart.dataset.figure, drawnFor: chart.dataset.drawnFor || null, ...box(chart),
    })),
    tables: [...document.querySelectorAll("main table")].map((table) => ({
      caption: (table.querySelector("caption") || {}).textContent || "", ...box(table),
    })),
    header: (document.querySelector(".print-header") || {}).innerText || "",
    headerShown: getComputedStyle(document.querySelector(".print-header")).display !== "none",
    thead: [...document.querySelectorAll("main thead")].map(
      (head) => getComputedStyle(head).display),
    rows: [...document.querySelectorAll("main tbody tr")].map(
      (row) => getComputedStyle(row).breakInside),
  };
}
"""

ALL_PRINT_SIZED = """
() => [...document.querySelectorAll("[data-figure]")].every(
  (chart) => chart.dataset.drawnFor === "print")
"""


def overlaps(a: dict, b: dict) -> bool:
    """Whether two rectangles share any area (touching edges do not count)."""
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5
    )


def check_layout(measured: dict, where: str) -> None:
    """No chart box overlaps a table; every chart box has a height; tables print cleanly."""
    for chart in measured["charts"]:
        assert chart["drawnFor"] == "print", f"{where}: {chart['id']} is not sized for print"
        assert chart["height"] > 100, f"{where}: chart {chart['id']} collapsed: {chart}"
        for table in measured["tables"]:
            assert not overlaps(chart, table), (
                f"{where}: chart {chart['id']} covers the table “{table['caption']}”: "
                f"{chart} / {table}"
            )
    assert measured["headerShown"], f"{where}: the print header is hidden"
    assert set(measured["thead"]) <= {"table-header-group"}, measured["thead"]
    assert set(measured["rows"]) <= {"avoid"}, f"{where}: rows may be cut: {measured['rows']}"


def open_printed(page, path: str) -> None:
    """Open ``path`` at a desktop width, wait for its charts, then switch to the print medium
    and wait until every chart is drawn at its print size."""
    page.set_viewport_size(DESKTOP)
    page.emulate_media(media="screen")
    page.goto(path)
    charts = page.locator("[data-figure]")
    for index in range(charts.count()):
        expect(charts.nth(index)).to_have_class(re.compile(r"\bis-drawn\b"))
    page.emulate_media(media="print")
    page.wait_for_function(ALL_PRINT_SIZED)


@pytest.mark.parametrize("name", list(PAGES))
def test_results_page_prints_on_a4(open_context, name, tmp_path):
    """Printed from a desktop window and at A4 width: charts have a height, cover no table,
    tables keep their rows whole and repeat their heading row; the PDF is written."""
    session = open_context(locale="en-GB")
    page = session.new_page()
    sign_in(page, SUPERVISOR)
    open_printed(page, PAGES[name])
    expected_charts = page.locator("[data-figure]").count()
    if name != "campaign":  # the campaign page draws one chart per survey with results
        assert expected_charts >= 1, f"{PAGES[name]} has no chart to print"
    assert page.locator("main table").count() >= 1

    check_layout(page.evaluate(MEASURE), f"{PAGES[name]} (desktop window, print medium)")
    page.set_viewport_size({"width": A4_CONTENT_WIDTH, "height": 1000})
    measured = page.evaluate(MEASURE)
    check_layout(measured, f"{PAGES[name]} (A4 width)")
    for chart in measured["charts"]:
        assert chart["right"] <= A4_CONTENT_WIDTH + 1, f"{chart['id']} is wider than A4: {chart}"

    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages >= 1, "the PDF has no page"
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    # Printing fired beforeprint and afterprint; the medium is still print, so are the charts.
    assert page.evaluate(ALL_PRINT_SIZED)
    check_layout(page.evaluate(MEASURE), f"{PAGES[name]} (after page.pdf)")

    # Back on screen the charts fill the window again.
    page.emulate_media(media="screen")
    page.wait_for_function(
        """() => [...document.querySelectorAll("[data-figure]")].every(
             (chart) => chart.dataset.drawnFor === "screen")"""
    )
    session.watch.check()


@pytest.mark.parametrize("language", ["zh_Hant", "zh_Hans"])
def test_print_header_speaks_the_interface_language(open_context, live_server, language):
    """The printed header names the survey and says when it was printed, in words of the
    interface language and with the date written the way that language writes it."""
    session = open_context(locale="en-GB")
    page = session.new_page()
    sign_in(page, SUPERVISOR)
    page.goto(f"/lang/{language}?next=/results/surveys/{EVALUATION}")
    page.wait_for_url(f"**/results/surveys/{EVALUATION}")
    page.emulate_media(media="print")
    header = page.locator(".print-header")
    expect(header).to_be_visible()
    text = header.inner_text()
    english = live_server.translate("Printed on %(date)s", "en", date="")
    translated = live_server.translate("Printed on %(date)s", language, date="")
    assert translated != english, f"{language} has no translation of the print header"
    assert english.strip() not in text, f"English words in the {language} header: {text!r}"
    assert translated.strip() in text, text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text), f"no Chinese date in {text!r}"
    assert "分析評議階段測評表" in text, f"the survey's title is not in the header: {text!r}"
    session.watch.check()


#: Per chart: its branch axis top to bottom (the pinned rows first), and its table's row
#: headers in order.
ORDERS = """
() => [...document.querySelectorAll("[data-figure]")].map((chart) => {
  const axis = chart.layout && chart.layout.yaxis;
  const block = chart.closest(".chart-block");
  const rows = block ? [...block.querySelectorAll("table tbody th[scope=row]")] : [];
  return {
    id: chart.dataset.figure,
    axis: axis && axis.categoryarray ? [...axis.categoryarray] : null,
    table: rows.map((row) => row.textContent.trim()),
  };
})
"""


def test_reader_sorts_every_chart_the_same_way(open_context, live_server):
    """All charts of the survey page list branches in one order (best rate first); choosing
    "Branch code" re-sorts every chart's axis and its table the same way."""
    session = open_context(locale="en-GB", viewport=DESKTOP)
    page = session.new_page()
    sign_in(page, SUPERVISOR)
    page.goto(PAGES["survey"])
    charts = page.locator("[data-figure]")
    for index in range(charts.count()):
        expect(charts.nth(index)).to_have_class(re.compile(r"\bis-drawn\b"))
    everyone = live_server.translate("All branches", "en")

    def branch_rows(labels):
        return [label for label in labels if label != everyone]

    def check_same_order():
        orders = page.evaluate(ORDERS)
        axes = [branch_rows(o["axis"]) for o in orders if o["axis"]]
        assert len(axes) >= 3, f"expected rank, distribution and heat map axes: {orders}"
        assert all(axis == axes[0] for axis in axes), f"charts disagree on the order: {axes}"
        for chart in orders:
            rows = branch_rows(chart["table"])
            listed = [label for label in axes[0] if label in rows]
            assert rows == listed, f"{chart['id']}'s table is not in the charts' order"
        return axes[0]

    by_rate = check_same_order()
    report = page.request.get(f"/api/v1/surveys/{EVALUATION}/report").json()
    shown = [b for b in report["branches"] if not b["suppressed"]]
    names = {b["code"]: b["name"] for b in shown}
    assert set(by_rate) == set(names.values())

    select = page.get_by_label(live_server.translate("Order of branches", "en"))
    select.select_option("code")
    page.wait_for_function(
        """(first) => {
             const axis = document.querySelector("[data-figure]").layout.yaxis.categoryarray;
             return axis[0] === first;
           }""",
        arg=names[min(names)],
    )
    assert check_same_order() == [names[code] for code in sorted(names)]
    session.watch.check()
