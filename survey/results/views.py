"""View models of the result pages: plain sentences, tables and charts built from the report.

Templates only lay these out. Every statement about significance is made here, in plain words,
with its effect size next to it (see the statistics brief, "Presenting significance").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from survey.results import charts
from survey.results.charts import (
    Chart,
    Table,
    branch_labels,
    interval_text,
    item_texts,
    percent_text,
    points_text,
    shown_branches,
    signal_words,
)
from survey.services.turnout import SurveyTurnout

#: Below this p-value a test is reported as a clear difference.
ALPHA = 0.05


# --------------------------------------------------------------------------- sentences


def p_text(p: float) -> str:
    """A p-value as people read it: ``p < 0.001`` or ``p = 0.034``."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def cramers_v_size(v: float, df_star: int) -> str:
    """Cohen's (1988) size of an effect measured by Cramér's V with df* = min(r, c) − 1:
    small, medium and large at w = 0.1, 0.3 and 0.5, where V = w / sqrt(df*)."""
    scale = math.sqrt(max(df_star, 1))
    if v >= 0.5 / scale:
        return _("a large effect")
    if v >= 0.3 / scale:
        return _("a medium effect")
    if v >= 0.1 / scale:
        return _("a small effect")
    return _("a negligible effect")


def _table_df_star(df: int, overall_counts: dict[str, int]) -> int:
    """min(rows, columns) − 1 of the tested table: columns are the options anyone chose, and
    rows follow from df = (rows − 1)(columns − 1)."""
    columns = sum(1 for count in overall_counts.values() if count > 0)
    if columns < 2:
        return 1
    rows = df // (columns - 1) + 1
    return max(1, min(rows, columns) - 1)


def omnibus_sentence(item_text: str, test: dict[str, Any] | None, overall: dict | None) -> str:
    """Whether the branches differ on one item, in one plain sentence with the effect size."""
    chi2 = (test or {}).get("chi2") or {}
    if chi2.get("statistic") is None or chi2.get("p") is None:
        return _(
            "On “%(item)s” the branches cannot be compared: too few branches or answers.",
            item=item_text,
        )
    v = chi2.get("cramers_v") or 0.0
    size = cramers_v_size(v, _table_df_star(chi2["df"], (overall or {}).get("counts", {})))
    values = {
        "item": item_text,
        "chi2": f"{chi2['statistic']:.1f}",
        "df": chi2["df"],
        "p": p_text(chi2["p"]),
        "v": f"{v:.2f}",
        "size": size,
    }
    if chi2["p"] < ALPHA:
        return _(
            "On “%(item)s” the branches differ clearly (χ² = %(chi2)s, df %(df)s, %(p)s; "
            "Cramér's V = %(v)s, %(size)s).",
            **values,
        )
    return _(
        "On “%(item)s” there is no clear difference between the branches (χ² = %(chi2)s, "
        "df %(df)s, %(p)s; Cramér's V = %(v)s, %(size)s).",
        **values,
    )


def alpha_sentence(alpha: float | None) -> str:
    """Cronbach's α with a plain reading (George & Mallery 2003 bands)."""
    if alpha is None:
        return _(
            "Cronbach's α cannot be computed: it needs at least two items and enough complete "
            "answers that vary."
        )
    value = f"{alpha:.2f}"
    if alpha >= 0.9:
        meaning = _("excellent: the items measure one common quality very consistently")
    elif alpha >= 0.8:
        meaning = _("good: the items measure one common quality consistently")
    elif alpha >= 0.7:
        meaning = _("acceptable: the items mostly measure one common quality")
    elif alpha >= 0.6:
        meaning = _("questionable: the items agree only loosely; read them one by one")
    else:
        meaning = _("poor: the items measure different things; read them one by one")
    return _("Cronbach's α = %(alpha)s, %(meaning)s.", alpha=value, meaning=meaning)


def vs_rest_text(vs_rest: dict[str, Any] | None) -> str:
    """A branch's mark against the rest in words, with the effect in percentage points."""
    vs_rest = vs_rest or {}
    words = signal_words(vs_rest.get("signal"))
    if vs_rest.get("effect") is None:
        return words
    return _(
        "%(words)s (%(effect)s points against the rest)",
        words=words,
        effect=points_text(vs_rest["effect"]),
    )


def headline_text(headline: dict[str, Any] | None) -> str | None:
    """The survey-wide headline, labelled as what it is: a mean over the items."""
    if not headline or headline.get("favourable_rate") is None:
        return None
    return _(
        "Headline: the mean of the %(items)s items' favourable rates is %(rate)s "
        "(interval %(ci)s).",
        items=headline.get("items_rated", headline.get("items")),
        rate=percent_text(headline["favourable_rate"]),
        ci=interval_text(*(headline.get("favourable_ci") or (None, None))),
    )


def ballot_box_sentence(report: dict[str, Any]) -> str | None:
    """What the ballot box still holds, and why it is not counted yet."""
    box = report.get("ballot_box") or {}
    k = report["threshold"]
    if box.get("held_back"):
        return ngettext(
            "%(num)d answer is held back, sealed and uncounted: it arrived after the results "
            "were first shown, in a group of fewer than %(k)d new answers, and counting it "
            "would show how those people answered. Reopening the survey lets it be counted "
            "with later answers.",
            "%(num)d answers are held back, sealed and uncounted: they arrived after the "
            "results were first shown, in groups of fewer than %(k)d new answers, and counting "
            "them would show how those people answered. Reopening the survey lets them be "
            "counted with later answers.",
            box["held_back"],
            k=k,
        )
    if box.get("waiting"):
        return ngettext(
            "%(num)d answer is waiting, sealed, to be counted: answers are counted in shuffled "
            "batches of at least %(k)d from the same branch and category, so that the figures "
            "never change by fewer than %(k)d people.",
            "%(num)d answers are waiting, sealed, to be counted: answers are counted in "
            "shuffled batches of at least %(k)d from the same branch and category, so that the "
            "figures never change by fewer than %(k)d people.",
            box["waiting"],
            k=k,
        )
    return None


def tests_scope_sentence(report: dict[str, Any]) -> str | None:
    """Which branches the tests compare, when some are hidden."""
    if not report.get("suppressed_branches"):
        return None
    return _(
        "These tests compare the branches whose figures are shown; the %(hidden)d hidden "
        "branches are left out, so that their answers cannot be worked out from the results.",
        hidden=report["suppressed_branches"],
    )


def sealed_message() -> str:
    """What a sealed survey's pages say instead of results."""
    return _(
        "Results appear when the survey is closed. Until then only the turnout is shown, "
        "because a count that changes while people answer could tell who answered what."
    )


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class HiddenBranch:
    """A branch listed without figures, and why."""

    label: str
    respondents: int
    reason: str


def suppressed_branches(report: dict[str, Any]) -> list[HiddenBranch]:
    """Suppressed branches, each with the reason in plain words."""
    labels = branch_labels(report["branches"])
    k = report["threshold"]
    hidden = []
    for branch in report["branches"]:
        if branch["status"] != "suppressed":
            continue
        if branch["respondents"] < k:
            reason = _("fewer than %(k)s respondents, hidden to protect anonymity", k=k)
        else:
            reason = _(
                "hidden as well, so that a smaller hidden branch cannot be worked out from the "
                "totals"
            )
        hidden.append(HiddenBranch(labels[branch["code"]], branch["respondents"], reason))
    return hidden


def empty_branches(report: dict[str, Any]) -> list[str]:
    """Names of branches without any response yet."""
    labels = branch_labels(report["branches"])
    return [labels[b["code"]] for b in report["branches"] if b["status"] == "empty"]


def turnout_table(turnout: SurveyTurnout, caption: str, with_total: bool = True) -> Table:
    """Codes issued and used, and responses by source, per branch (turnout is never sealed)."""
    columns = [
        _("Branch"),
        _("Codes issued"),
        _("Codes used"),
        _("Turnout"),
        _("Web responses"),
        _("Paper ballots"),
    ]
    rows = [
        [
            row.name or "",
            str(row.codes_issued),
            str(row.codes_used),
            percent_text(row.turnout_rate),
            str(row.web_responses),
            str(row.paper_ballots),
        ]
        for row in turnout.branches
    ]
    if with_total:
        total = turnout.total
        rows.append(
            [
                _("All branches"),
                str(total.codes_issued),
                str(total.codes_used),
                percent_text(total.turnout_rate),
                str(total.web_responses),
                str(total.paper_ballots),
            ]
        )
    return Table(caption, columns, rows)


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class SurveyResults:
    """Everything the survey page shows below its header (results not sealed)."""

    charts: list[Chart]
    omnibus: list[str]
    alpha: str
    hidden: list[HiddenBranch]
    empty: list[str]
    overall_hidden: bool
    respondents: int
    threshold: int
    headline: str | None
    ballot_box: str | None = None
    tests_scope: str | None = None


def survey_results(report: dict[str, Any], item: str) -> SurveyResults:
    """Charts, test sentences, α and the hidden and empty branches of one survey."""
    built = [
        charts.rank_chart(report, item),
        charts.funnel_chart(report, item),
        charts.distribution_chart(report, item),
        charts.heatmap_chart(report),
    ]
    shown = [chart for chart in built if chart is not None]
    if not shown_branches(report):
        shown = []
    texts = item_texts(report)
    overall = report["overall"]
    omnibus = []
    if not overall["suppressed"]:
        omnibus = [
            omnibus_sentence(texts[key], report["tests"].get(key), overall["items"].get(key))
            for key in texts
        ]
    return SurveyResults(
        charts=shown,
        omnibus=omnibus,
        alpha=alpha_sentence(report["reliability"]["cronbach_alpha"])
        if not overall["suppressed"]
        else "",
        hidden=suppressed_branches(report),
        empty=empty_branches(report),
        overall_hidden=overall["suppressed"],
        respondents=report["respondents"],
        threshold=report["threshold"],
        headline=None if overall["suppressed"] else headline_text(overall["headline"]),
        ballot_box=ballot_box_sentence(report),
        tests_scope=tests_scope_sentence(report) if omnibus else None,
    )


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One item of a branch: rate, interval, n and its mark against the rest."""

    text: str
    rate: str
    interval: str
    n: int
    overall: str
    versus: str
    signal: str | None


@dataclass(frozen=True, slots=True)
class CategoryBlock:
    """A respondent category inside a branch: its rates, or why they are hidden."""

    label: str
    respondents: int
    table: Table | None
    hidden_reason: str | None


@dataclass(frozen=True, slots=True)
class BranchResults:
    """The branch page's content: shown, suppressed or empty."""

    label: str
    status: str
    respondents: int
    notice: str | None
    chart: Chart | None = None
    items: list[ItemRow] = field(default_factory=list)
    composite: str | None = None
    categories: list[CategoryBlock] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def branch_results(report: dict[str, Any], comments: list[str]) -> BranchResults:
    """The one branch a report was built for (``branch_id``), with its items and categories."""
    branch = report["branches"][0]
    label = branch_labels(report["branches"])[branch["code"]]
    if branch["status"] == "suppressed":
        k = report["threshold"]
        notice = (
            _("Fewer than %(k)s respondents: hidden to protect anonymity.", k=k)
            if branch["respondents"] < k
            else _(
                "Hidden to protect anonymity: with it shown, a smaller hidden branch could be "
                "worked out from the totals."
            )
        )
        return BranchResults(label, "suppressed", branch["respondents"], notice)
    if branch["status"] == "empty":
        return BranchResults(label, "empty", 0, _("No responses yet."))
    texts = item_texts(report)
    overall_items = report["overall"]["items"]
    rows = []
    for key, text in texts.items():
        summary = branch["items"][key]
        ci = summary["favourable_ci"] or (None, None)
        rows.append(
            ItemRow(
                text=text,
                rate=percent_text(summary["favourable_rate"]),
                interval=interval_text(*ci),
                n=summary["n"],
                overall=percent_text((overall_items.get(key) or {}).get("favourable_rate")),
                versus=vs_rest_text(summary.get("vs_rest")),
                signal=(summary.get("vs_rest") or {}).get("signal"),
            )
        )
    chart = charts.items_chart(
        "fig-branch-items",
        _("Favourable rate by item: %(branch)s", branch=label),
        report,
        branch["items"],
        compare_to=overall_items or None,
        compare_name=_("All branches"),
    )
    composite = (branch.get("composite") or {}).get("favourable_rate")
    category_labels = {c["key"]: c["label"] for c in report.get("categories", [])}
    blocks = []
    for category in branch.get("categories") or []:
        name = category_labels.get(category["key"], category["key"])
        if category["respondents"] == 0:
            blocks.append(CategoryBlock(name, 0, None, _("no responses")))
            continue
        if category["suppressed"]:
            reason = _(
                "hidden to protect anonymity (fewer than %(k)s respondents, or needed to keep "
                "a smaller group hidden)",
                k=report["threshold"],
            )
            blocks.append(CategoryBlock(name, category["respondents"], None, reason))
            continue
        cells = [
            [
                text,
                percent_text(category["items"][key]["favourable_rate"]),
                interval_text(*(category["items"][key]["favourable_ci"] or (None, None))),
                str(category["items"][key]["n"]),
            ]
            for key, text in texts.items()
        ]
        table = Table(
            _("%(category)s in %(branch)s", category=name, branch=label),
            [_("Item"), _("Favourable rate"), charts.interval_heading(), _("Answers")],
            cells,
        )
        blocks.append(CategoryBlock(name, category["respondents"], table, None))
    return BranchResults(
        label,
        "shown",
        branch["respondents"],
        None,
        chart=chart,
        items=rows,
        composite=percent_text(composite) if composite is not None else None,
        categories=blocks,
        comments=comments,
    )


@dataclass(frozen=True, slots=True)
class SurveySummary:
    """One survey on the campaign overview."""

    survey: Any
    sealed: bool
    turnout: Any
    headline: str | None
    chart: Chart | None
    overall_hidden: bool


def survey_summary(survey, turnout, report: dict[str, Any] | None) -> SurveySummary:
    """Turnout for every survey; the per-item rates and headline when results are published."""
    if report is None:
        return SurveySummary(survey, True, turnout, None, None, False)
    overall = report["overall"]
    chart = None
    if not overall["suppressed"]:
        chart = charts.items_chart(
            f"fig-overall-{survey.slug}",
            _("Favourable rate by item: %(survey)s", survey=survey.title),
            report,
            overall["items"],
        )
    return SurveySummary(
        survey,
        False,
        turnout,
        None if overall["suppressed"] else headline_text(overall["headline"]),
        chart,
        overall["suppressed"],
    )


def state_words(survey) -> str:
    """A survey's state in words."""
    return {
        "draft": _("in preparation"),
        "open": _("open"),
        "closed": _("closed"),
    }.get(survey.state.value, survey.state.value)


def campaign_turnout(summaries: list[SurveySummary]) -> Table:
    """One row per survey of a campaign: codes issued and used, responses (never sealed)."""
    rows = [
        [
            summary.survey.title,
            state_words(summary.survey),
            str(summary.turnout.total.codes_issued),
            str(summary.turnout.total.codes_used),
            percent_text(summary.turnout.total.turnout_rate),
            str(summary.turnout.total.responses),
        ]
        for summary in summaries
    ]
    return Table(
        _("Turnout by survey"),
        [
            _("Survey"),
            _("State"),
            _("Codes issued"),
            _("Codes used"),
            _("Turnout"),
            _("Responses"),
        ],
        rows,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """One branch × item change between stages, in plain words."""

    branch: str
    item: str
    before: str
    after: str
    change: str
    interval: str
    verdict: str
    direction: str | None


def verdicts(before: dict[str, Any], after: dict[str, Any]) -> list[Verdict]:
    """Every branch (and all branches together) × shared item: improved, worsened or not."""
    comparison = after.get("comparison") or {}
    texts = item_texts(after)
    labels = branch_labels(after["branches"])
    before_by_code = {b["code"]: b for b in before["branches"] if b["status"] == "shown"}
    after_by_code = {b["code"]: b for b in after["branches"] if b["status"] == "shown"}
    out = []

    def add(name: str, key: str, earlier: dict, later: dict, change: dict) -> None:
        out.append(
            Verdict(
                branch=name,
                item=texts[key],
                before=percent_text(earlier.get("favourable_rate")),
                after=percent_text(later.get("favourable_rate")),
                change=points_text(change.get("diff")),
                interval=charts.points_interval_text(change.get("diff_ci")),
                verdict=charts.change_words(change.get("change")),
                direction=change.get("change"),
            )
        )

    for key, change in (comparison.get("overall") or {}).items():
        earlier = before["overall"]["items"].get(key)
        later = after["overall"]["items"].get(key)
        if earlier and later:
            add(_("All branches"), key, earlier, later, change)
    for code, by_item in sorted((comparison.get("branches") or {}).items()):
        if code not in before_by_code or code not in after_by_code:
            continue
        for key, change in by_item.items():
            add(
                labels[code],
                key,
                before_by_code[code]["items"][key],
                after_by_code[code]["items"][key],
                change,
            )
    return out


def shared_items(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    """Items (of the later stage) that the earlier stage also asked, by key."""
    earlier = {i["key"] for i in before["items"]}
    return [i for i in after["items"] if i["key"] in earlier]
