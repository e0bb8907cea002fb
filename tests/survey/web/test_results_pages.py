"""Result pages: charts with the right numbers, tables beside them, sealing, suppression, verdicts
and exports."""

from __future__ import annotations

import html
import json
import math
import re
from types import SimpleNamespace

import pytest
from scipy import stats
from sqlalchemy import select

from analytics import ChiSquare, ItemTests, KruskalWallis
from survey import display
from survey.db import db
from survey.models import Action, AuditEntry, Role, SurveyState
from survey.results.sentences import omnibus_details, omnibus_sentence
from tests.conftest import add_responses, sign_in

FIGURE_BLOCK = re.compile(
    r'<script type="application/json" id="(fig-[\w-]+)" nonce="[^"]+">(.*?)</script>', re.S
)


def figures(html: str) -> dict[str, dict]:
    """Every figure data block of a page, parsed."""
    return {fig_id: json.loads(body) for fig_id, body in FIGURE_BLOCK.findall(html)}


def wilson(k: int, n: int) -> tuple[float, float]:
    """An independent Wilson interval (scipy), for checking error bars."""
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


@pytest.fixture
def english(web):
    """Pages in English."""
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web


def read(response) -> str:
    """A page's text as a reader sees it (HTML entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def seeded(make_branch, make_survey):
    """A closed survey with three shown branches, a suppressed one, one hidden by the
    complementary rule and an empty one (threshold 5)."""
    survey = make_survey("pingyi", items=3, state=SurveyState.CLOSED)
    b01 = make_branch("b01", "第一支部")
    b02 = make_branch("b02", "第二支部")
    b03 = make_branch("b03", "第三支部")
    b04 = make_branch("b04", "第四支部")
    b05 = make_branch("b05", "第五支部")
    b06 = make_branch("b06", "第六支部")
    add_responses(survey, b01, {"good": 30, "fairly_good": 6, "poor": 4}, comments=["講得好"])
    add_responses(survey, b02, {"good": 10, "average": 10, "poor": 20})
    add_responses(survey, b03, {"good": 3}, comments=["secret words of three people"])
    add_responses(survey, b05, {"good": 8})
    add_responses(
        survey,
        b06,
        {"good": 30, "average": 10},
        per_item={"q3": {"good": 20, "average": 20}},
        category="public",
    )
    return {"survey": survey, "branches": (b01, b02, b03, b04, b05, b06)}


@pytest.fixture
def login_admin(english, make_user):
    """The English client, signed in as the admin "admin" through the login form (unlike the
    shared ``admin`` fixture of tests/conftest.py, which puts "office" in the session)."""
    make_user("admin", Role.ADMIN)
    assert sign_in(english, "admin").status_code == 302
    return english


# --------------------------------------------------------------------------- survey page


def test_item_view_ranks_branches_draws_the_funnel_and_the_distribution(login_admin, seeded):
    response = login_admin.get("/results/surveys/pingyi?item=q1")
    assert response.status_code == 200
    page = read(response)
    figs = figures(page)
    assert set(figs) == {"fig-rank", "fig-funnel", "fig-distribution", "fig-heatmap"}

    # Ranks: bars best first, with the Wilson interval of each branch as error bars, in points.
    bar = figs["fig-rank"]["data"][0]
    assert bar["type"] == "bar"
    assert bar["y"] == ["第一支部", "第六支部", "第二支部"]
    assert bar["x"] == [90.0, 75.0, 25.0]
    for x, plus, minus, (k, n) in zip(
        bar["x"],
        bar["error_x"]["array"],
        bar["error_x"]["arrayminus"],
        [(36, 40), (30, 40), (10, 40)],
        strict=True,
    ):
        lo, hi = wilson(k, n)
        assert plus == pytest.approx(100 * hi - x, abs=0.01)
        assert minus == pytest.approx(x - 100 * lo, abs=0.01)
    # Suppressed and empty branches are never drawn.
    assert "第三支部" not in json.dumps(figs, ensure_ascii=False)
    assert "第五支部" not in json.dumps(figs, ensure_ascii=False)
    # The numbers are in a table with a caption and scoped headers.
    assert "<caption>Favourable rate by branch: 1. 第1題</caption>" in page
    assert '<th scope="row">第一支部</th>' in page
    assert '<th scope="col">Branch</th>' in page
    assert "90.0%" in page and "25.0%" in page
    # plotly.js comes from the app, with the drawing script.
    assert '<script src="/vendor/plotly.min.js"' in page
    assert '<script src="/static/js/charts.js"' in page

    # Funnel: control limits p ± z·sqrt(p(1−p)/n) around all answers to q1
    # (36 + 10 + 3 + 8 + 30 favourable of 40 + 40 + 3 + 8 + 40).
    funnel = figs["fig-funnel"]["data"]
    p = (36 + 10 + 3 + 8 + 30) / 131
    centre = next(t for t in funnel if t["name"] == "Survey-wide rate")
    assert centre["y"] == [round(100 * p, 2)] * 2
    # The limits allow for the 3 branches drawn (Bonferroni): z = qnorm(1 − 0.05/6) = 2.393980.
    lower95 = next(t for t in funnel if t["name"] == "95% limits for 3 branches")
    n = lower95["x"][10]
    lower = max(0, p - 2.393979807 * math.sqrt(p * (1 - p) / n))
    assert lower95["y"][10] == pytest.approx(100 * lower, abs=0.01)
    dots = next(t for t in funnel if t["mode"] == "markers")
    assert dots["x"] == [40, 40, 40] and sorted(dots["y"]) == [25.0, 75.0, 90.0]
    # 90% lies beyond the 95% limit for 3 branches (84.3%) but within the 99.8% one (91.8%).
    assert "above the 95% limit" in page and "below the 99.8% limit" in page
    assert "The limits allow for the 3 branches shown together (Bonferroni)" in page

    # Distribution: favourable options right of 0, the others left, stacked from 0 outwards.
    distribution = figs["fig-distribution"]
    traces = {t["name"]: t for t in distribution["data"]}
    assert set(traces) == {"好", "比較好", "一般", "差"}
    b02 = traces["好"]["y"].index("第二支部")
    assert traces["好"]["x"][b02] == 25.0
    assert traces["一般"]["x"][b02] == -25.0
    assert traces["差"]["x"][b02] == -50.0
    assert distribution["layout"]["barmode"] == "relative"
    order = [t["name"] for t in distribution["data"]]
    assert order.index("比較好") < order.index("好")
    assert order.index("一般") < order.index("差")

    # Bad addresses get a clear refusal.
    response = login_admin.get("/results/surveys/pingyi?item=nope")
    assert response.status_code == 400
    assert "This survey has no such item" in read(response)
    assert login_admin.get("/results/surveys/missing").status_code == 404


def test_composite_view_heat_map_tests_and_hidden_branches(login_admin, seeded):
    page = read(login_admin.get("/results/surveys/pingyi"))
    figs = figures(page)
    # Without category weights the headline figure is the plain mean of items, drawn with its
    # Wilson interval on the fewest answers of an item (40 here), and grouped, not ranked.
    bar = figs["fig-rank"]["data"][0]
    assert bar["x"] == [90.0, pytest.approx(100 * (0.75 + 0.75 + 0.5) / 3, abs=0.01), 25.0]
    rate, n, z = (0.75 + 0.75 + 0.5) / 3, 40, 1.959963984540054
    hi = (rate + z**2 / (2 * n) + z * math.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2))) / (
        1 + z**2 / n
    )
    assert bar["error_x"]["array"][1] == pytest.approx(100 * (hi - rate), abs=0.01)
    assert "Wilson interval on the effective number of respondents" in page
    assert "not distinguishable from the other branches" in page
    assert '<th scope="col" class="num">Rank</th>' not in page

    # Heat map: ▲/▼ where a branch is clearly above/below the rest, with the legend.
    # Its rows are in the rank chart's order (every chart sorts branches the same way).
    heat = figs["fig-heatmap"]["data"][0]
    assert heat["y"] == bar["y"] == ["第一支部", "第六支部", "第二支部"]
    assert figs["fig-heatmap"]["layout"]["yaxis"]["categoryarray"] == heat["y"]
    assert heat["text"][0][0] == "90% ▲"
    assert heat["text"][2][0] == "25% ▼"
    assert heat["z"][1] == [75.0, 75.0, 50.0]
    # Its colours span the rates seen (25% to 90%), not 0–100%.
    assert (heat["zmin"], heat["zmax"]) == (25, 90)
    assert "▲ clearly above the other branches, ▼ clearly below the other branches" in page

    # The answer first, in plain words; the statistics one click away.
    assert "Overall, " in page and "of the answers are favourable" in page
    assert "Clearly below the other branches: 第二支部." in page
    assert "Weakest items: “第3題”" in page
    assert "On “第1題” the branches answered clearly differently (" in page
    assert "<summary>How this was tested</summary>" in page
    assert "The sentence rests on the Kruskal–Wallis test" in page
    assert "Cramér's V = " in page
    assert "Cronbach's α = " in page
    # The tests leave the two hidden branches out, and say so.
    assert "These tests compare the branches whose figures are shown; the 2 hidden branches" in page

    # Suppressed and empty branches, each with its reason.
    assert "第三支部 (3 respondents): fewer than 5 respondents, hidden to protect anonymity" in page
    assert "第五支部 (8 respondents): hidden as well" in page
    assert "第四支部: no responses yet" in page

    # Export links for those who may export.
    assert 'href="/results/surveys/pingyi/export.xlsx"' in page
    assert 'href="/results/surveys/pingyi/export.csv"' in page

    # With category weights the composite is post-stratified and drawn with its interval.
    survey = seeded["survey"]
    survey.categories[0].weight = 0.5
    survey.categories[1].weight = 0.5
    db.session.commit()
    page = read(login_admin.get("/results/surveys/pingyi"))
    assert "error_x" in figures(page)["fig-rank"]["data"][0]
    assert "weighted by respondent category" in page
    assert "The branch pages also give the unweighted mean of the items" in page


def test_omnibus_sentence_leads_with_kruskal_wallis_and_keeps_statistics_aside():
    """The sentence rests on Kruskal–Wallis and says no effect size beside "no clear
    difference"; the statistics go to the details (Hollander & Wolfe's example: H = 0.7714,
    df 2, p = 0.68, R kruskal.test; Agresti's χ² = 30.07, V = 0.1044)."""
    report = SimpleNamespace(confidence=0.95)
    chi2 = ChiSquare(30.07, 2, 2.954e-7, 0.1044, df_star=1, small_expected=0.0)
    calm = ItemTests(chi2, KruskalWallis(0.7714, 2, 0.68, 0.7714 / 13))
    assert omnibus_sentence(report, "q1", "q1", calm) == (
        "On “q1” there is no clear difference between the branches."
    )
    details = omnibus_details(calm)
    assert details.startswith(
        "The sentence rests on the Kruskal–Wallis test of the ordered answers: H = 0.77, "
        "df 2, p = 0.68, ε² = 0.059."
    )
    assert "χ² = 30.1, df 2, p < 0.001, Cramér's V = 0.10." in details
    clear = ItemTests(chi2, KruskalWallis(14.2, 6, 0.0276, 0.075))
    assert omnibus_sentence(report, "q1", "q1", clear) == (
        "On “q1” the branches answered clearly differently (a small effect)."
    )
    rough = ItemTests(
        ChiSquare(27.3, 18, 0.074, 0.22, df_star=3, small_expected=0.5), clear.kruskal
    )
    assert "50.0% of its expected counts are under 5" in omnibus_details(rough)
    assert display.p_value(0.0456) == "p = 0.046"


def test_an_item_everyone_answered_alike_says_so(login_admin, make_survey, make_branch):
    survey = make_survey("alike", items=1, state=SurveyState.CLOSED)
    for code in ("b01", "b02"):
        add_responses(survey, make_branch(code, f"支部{code}"), {"good": 12})
    page = read(login_admin.get("/results/surveys/alike"))
    assert "On “第1題” everyone answered 好." in page
    assert "too few branches or answers" not in page


# --------------------------------------------------------------------------- branch page


def test_branch_page_lists_items_with_signal_effect_and_comments(login_admin, seeded):
    page = read(login_admin.get("/results/surveys/pingyi/branches/b01"))
    assert "clearly above the other branches (+" in page
    assert "90.0%" in page
    lo, hi = wilson(36, 40)
    assert f"{100 * lo:.1f}–{100 * hi:.1f}%" in page
    assert "講得好" in page
    assert "fig-branch-items" in figures(page)
    # Only one category answered: the other is listed without figures.
    assert "羣眾 (0 respondents): no responses" in page
    below = read(login_admin.get("/results/surveys/pingyi/branches/b02"))
    assert (
        "clearly below the other branches (−" in below
        or "clearly below the other branches (-" in below
    )


def test_suppressed_branch_page_shows_only_the_notice(login_admin, seeded):
    response = login_admin.get("/results/surveys/pingyi/branches/b03")
    page = read(response)
    assert response.status_code == 200
    assert "Fewer than 5 respondents: hidden to protect anonymity." in page
    assert "secret words" not in page
    assert not figures(page)
    assert not re.search(r"\d%", page)
    assert "Hidden to protect anonymity" in read(
        login_admin.get("/results/surveys/pingyi/branches/b05")
    )
    assert "No responses yet." in login_admin.get("/results/surveys/pingyi/branches/b04").get_data(
        as_text=True
    )


# --------------------------------------------------------------------------- sealed


def test_sealed_survey_shows_turnout_only_everywhere(login_admin, make_survey, make_branch, mint):
    survey = make_survey("live", state=SurveyState.OPEN)
    branch = make_branch("b01", "第一支部")
    mint(survey, branch, 8)
    add_responses(survey, branch, {"good": 7, "poor": 3})
    pages = [
        read(login_admin.get("/results/surveys/live")),
        read(login_admin.get("/results/surveys/live?item=q1")),
        read(login_admin.get("/results/surveys/live/branches/b01")),
        read(login_admin.get("/results/campaigns/xjx")),
    ]
    for page in pages:
        assert "appear after the survey closes" in page
        assert not figures(page)
        assert "application/json" not in page
        assert "plotly" not in page
        assert "70.0%" not in page and "70%" not in page
        # The only percentage is the turnout: 0 of the 8 codes (answers were stored directly).
        assert set(re.findall(r"\d+(?:\.\d+)?%", page)) <= {"0.0%"}
    assert ">10<" in pages[0]  # the responses received are turnout, shown
    export = login_admin.get("/results/surveys/live/export.xlsx")
    assert export.status_code == 409
    assert "appear after the survey closes" in read(export)


def test_closing_unseals(login_admin, make_survey, make_branch):
    survey = make_survey("live", state=SurveyState.OPEN)
    branch = make_branch("b01", "第一支部")
    add_responses(survey, branch, {"good": 7, "poor": 3})
    assert not figures(read(login_admin.get("/results/surveys/live")))
    survey.move(Action.CLOSE)
    db.session.commit()
    figs = figures(read(login_admin.get("/results/surveys/live")))
    assert figs["fig-rank"]["data"][0]["x"] == [70.0]


def test_whole_survey_below_threshold_hides_everything(login_admin, make_survey, make_branch):
    survey = make_survey("tiny", state=SurveyState.CLOSED)
    add_responses(survey, make_branch("b01", "甲"), {"good": 2})
    add_responses(survey, make_branch("b02", "乙"), {"poor": 1})
    page = read(login_admin.get("/results/surveys/tiny"))
    assert "Fewer respondents than the anonymity threshold in the whole survey" in page
    assert not figures(page)
    assert not re.search(r"\d%", page)
    assert "Cronbach" not in page


# --------------------------------------------------------------------------- campaign page


def test_campaign_overview_shows_turnout_and_item_rates(
    login_admin, seeded, make_survey, make_branch
):
    make_survey("zhenggai", state=SurveyState.OPEN)
    page = read(login_admin.get("/results/campaigns/xjx"))
    figs = figures(page)
    assert set(figs) == {"fig-overall-pingyi"}
    bars = figs["fig-overall-pingyi"]["data"][0]
    # q1: 87 favourable of 131 answers, with its Wilson interval.
    assert bars["x"][0] == round(100 * 87 / 131, 2)
    lo, hi = wilson(87, 131)
    assert bars["error_x"]["array"][0] == pytest.approx(100 * hi - bars["x"][0], abs=0.01)
    assert "Headline: the mean of the 3 items' favourable rates is" in page
    assert "<caption>Turnout by survey</caption>" in page
    assert "appear after the survey closes" in page  # the open stage
    assert login_admin.get("/results/campaigns/nope").status_code == 404
    listing = read(login_admin.get("/results/"))
    assert "保持共產黨員先進性教育活動" in listing
    assert 'href="/results/surveys/pingyi"' in listing
    assert 'href="/results/surveys/zhenggai"' in listing


# --------------------------------------------------------------------------- comparison


@pytest.fixture
def stages(make_branch, make_survey):
    """Two closed stages: b01 improves a lot, b02 stays, b03 worsens."""
    before = make_survey("pingyi", items=2, state=SurveyState.CLOSED)
    after = make_survey("manyi", items=2, state=SurveyState.CLOSED)
    b01, b02, b03 = (make_branch(c, n) for c, n in (("b01", "甲"), ("b02", "乙"), ("b03", "丙")))
    add_responses(before, b01, {"good": 10, "poor": 10})
    add_responses(after, b01, {"good": 19, "poor": 1})
    add_responses(before, b02, {"good": 15, "poor": 5})
    add_responses(after, b02, {"good": 16, "poor": 4})
    add_responses(before, b03, {"good": 18, "poor": 2})
    add_responses(after, b03, {"good": 5, "poor": 15})
    return before, after


def test_comparison_gives_plain_verdicts(login_admin, stages):
    response = login_admin.get("/results/campaigns/xjx/compare?a=pingyi&b=manyi&item=q1")
    assert response.status_code == 200
    page = read(response)
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td>第1題</td>.*?<td class="verdict[^"]*">([^<]+)</td>',
        page,
        re.S,
    )
    assert dict(rows) == {
        "All branches": "no clear change",
        "甲": "improved",
        "乙": "no clear change",
        "丙": "worsened",
    }
    fig = figures(page)["fig-dumbbell"]
    before_dots = next(t for t in fig["data"] if t.get("name") == "測評 pingyi")
    after_dots = next(t for t in fig["data"] if t.get("name") == "測評 manyi")
    assert before_dots["y"] == ["All branches", "甲", "乙", "丙"]
    assert before_dots["x"][1:] == [50.0, 75.0, 90.0]
    assert after_dots["x"][1:] == [95.0, 80.0, 25.0]
    change = next(t for t in fig["data"] if t.get("xaxis") == "x2")
    assert change["x"][1] == 45.0
    # The change's bars are Newcombe's interval (method 10) built from Wilson limits.
    l1, u1 = wilson(19, 20)
    l2, u2 = wilson(10, 20)
    lo = 0.45 - math.sqrt((0.95 - l1) ** 2 + (u2 - 0.5) ** 2)
    assert change["error_x"]["arrayminus"][1] == pytest.approx(100 * (0.45 - lo), abs=0.01)


def test_comparison_defaults_and_refusals(login_admin, stages):
    page = read(login_admin.get("/results/campaigns/xjx/compare"))
    assert "fig-dumbbell" in figures(page)
    assert login_admin.get("/results/campaigns/xjx/compare?a=pingyi&b=pingyi").status_code == 400
    assert login_admin.get("/results/campaigns/xjx/compare?a=pingyi&b=other").status_code == 400
    assert (
        login_admin.get("/results/campaigns/xjx/compare?a=pingyi&b=manyi&item=q9").status_code
        == 400
    )


def test_comparison_with_a_sealed_stage_shows_no_figures(login_admin, stages, make_survey):
    make_survey("open", state=SurveyState.OPEN)
    page = read(login_admin.get("/results/campaigns/xjx/compare?a=pingyi&b=open"))
    assert "appear after the survey closes" in page
    assert not figures(page)
    assert "improved" not in page


# --------------------------------------------------------------------------- exports


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exports_download_and_are_audited(login_admin, seeded, fmt):
    response = login_admin.get(f"/results/surveys/pingyi/export.{fmt}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    response.close()
    if fmt == "csv":
        assert "第一支部" in body.decode("utf-8-sig")
        assert "第三支部" not in body.decode("utf-8-sig")
    else:
        assert body[:2] == b"PK"
    actions = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.username == "admin"))
    assert f"survey=pingyi format={fmt}" in list(actions)


def test_export_compare_must_be_of_the_same_campaign(login_admin, stages, make_survey):
    make_survey("elsewhere", state=SurveyState.CLOSED, campaign="other")
    ok = login_admin.get("/results/surveys/manyi/export.csv?compare=pingyi")
    assert ok.status_code == 200
    ok.close()
    assert login_admin.get("/results/surveys/manyi/export.csv?compare=elsewhere").status_code == 400
    assert login_admin.get("/results/surveys/manyi/export.csv?compare=manyi").status_code == 400
    assert login_admin.get("/results/surveys/manyi/export.pdf").status_code == 404


def test_pages_of_a_closed_survey_without_responses(login_admin, make_survey, make_branch):
    make_branch("b01", "第一支部")
    make_survey("pingyi", state=SurveyState.CLOSED)
    make_survey("manyi", state=SurveyState.CLOSED)
    for address in (
        "/results/surveys/pingyi",
        "/results/surveys/pingyi?item=q2",
        "/results/surveys/pingyi/branches/b01",
        "/results/campaigns/xjx",
        "/results/campaigns/xjx/compare?a=pingyi&b=manyi",
    ):
        response = login_admin.get(address)
        assert response.status_code == 200, address
        page = read(response)
        assert not figures(page), address
    assert "No responses yet" in read(login_admin.get("/results/surveys/pingyi/branches/b01"))
    assert "第一支部: no responses yet" in read(login_admin.get("/results/surveys/pingyi"))


# --------------------------------------------------------------------------- one standard


def _pages_say(app, survey, item: str) -> dict[str, dict[str, str]]:
    """What the heat map, the rank table, the funnel table and each branch page say of every
    shown branch on ``item`` (the view models the pages lay out)."""
    from survey.results import charts, views
    from survey.services.report import build_report

    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = build_report(survey)
        said: dict[str, dict[str, str]] = {}
        heat = charts.heatmap_chart(report).figure["data"][0]
        column = [i.key for i in report.items].index(item)
        for label, row in zip(heat["y"], heat["customdata"], strict=True):
            said.setdefault(label, {})["heat map"] = row[column][1]
        for row in charts.rank_chart(report, item).table.rows:
            said.setdefault(row[0], {})["rank table"] = row[1]
        for row in charts.funnel_chart(report, item).table.rows:
            said.setdefault(row[0], {})["funnel verdict"] = row[4]
            said[row[0]]["funnel position"] = row[3]
        text = next(i.text for i in report.items if i.key == item)
        for branch in report.shown:
            page = views.branch_results(build_report(survey, branch_id=_id(branch)), [])
            row = next(r for r in page.items if r.text == text)
            said.setdefault(branch.label, {})["branch page"] = row.versus
    return said


def _id(branch) -> int:
    from survey.models import Branch

    return db.session.scalar(select(Branch.id).where(Branch.code == branch.code))


def test_no_page_calls_a_difference_another_page_denies(app, seeded):
    """On every item, the heat map, the rank table, the funnel table and the branch pages say
    the same of each branch, and the funnel marks a dot above or below a limit only where the
    others call the branch clearly above or below."""
    for item in ("q1", "q2", "q3"):
        for label, said in _pages_say(app, seeded["survey"], item).items():
            verdict = said["heat map"]
            assert said["rank table"] == verdict == said["funnel verdict"], (item, label, said)
            assert said["branch page"].startswith(verdict), (item, label, said)
            position = said["funnel position"]
            if position.startswith("above"):
                assert verdict == "clearly above the other branches", (item, label, said)
            if position.startswith("below"):
                assert verdict == "clearly below the other branches", (item, label, said)


def test_branch_pages_give_precise_reasons_and_one_headline(login_admin, make_survey, make_branch):
    """A small branch is "too few answers to tell", an item nobody could be tested on is
    "not tested", and the headline figure is named as everywhere, with its basis."""
    survey = make_survey("small", items=1, state=SurveyState.CLOSED)
    big = make_branch("b01", "大支部")
    small = make_branch("b02", "小支部")
    add_responses(survey, big, {"good": 30, "average": 10})
    add_responses(survey, small, {"good": 3, "average": 5})
    page = read(login_admin.get("/results/surveys/small/branches/b02"))
    assert "too few answers to tell a difference" in page
    assert "no clear difference (" not in page
    assert "Overall favourable rate: 37.5% (95% interval" in page
    assert "the mean of the items' favourable rates" in page
    assert "Against the other branches: too few respondents to tell a difference." in page

    everyone = make_survey("everyone", items=1, state=SurveyState.CLOSED)
    add_responses(everyone, big, {"good": 40})
    add_responses(everyone, small, {"good": 8})
    page = read(login_admin.get("/results/surveys/everyone/branches/b01"))
    assert "not tested" in page and "+0.0 points" not in page
