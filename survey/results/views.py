"""View models of the result pages: tables, charts and sentences built from the typed report.

Templates only lay these out. Every statement about significance is made in
:mod:`survey.results.sentences`, in plain words, with its effect size next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from survey import display
from survey.models import Survey
from survey.results import charts, sentences
from survey.results.charts import Chart, Table
from survey.services.report import BranchReport, Report, sealed_message
from survey.services.turnout import SurveyTurnout

# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class HiddenBranch:
    """A branch listed without figures, and why."""

    label: str
    respondents: int
    reason: str


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
    shown = [*turnout.branches, turnout.total] if with_total else list(turnout.branches)
    rows = []
    for row in shown:
        cells = display.turnout_row(row)
        rows.append(
            [
                cells["name"],
                cells["codes_issued"],
                cells["codes_used"],
                cells["turnout"],
                cells["web_responses"],
                cells["paper_ballots"],
            ]
        )
    return Table(caption, columns, rows)


# --------------------------------------------------------------------------- survey page


@dataclass(frozen=True, slots=True)
class OmnibusLine:
    """Whether the branches differ on one item: the plain sentence, and the statistics behind
    it for a details element (None when no test was possible)."""

    sentence: str
    details: str | None


@dataclass(frozen=True, slots=True)
class SurveyResults:
    """Everything the survey page shows below its header (results not sealed)."""

    charts: list[Chart]
    omnibus: list[OmnibusLine]
    alpha: str
    hidden: list[HiddenBranch]
    empty: list[str]
    overall_hidden: bool
    respondents: int
    threshold: int
    headline: str | None
    ballot_box: str | None = None
    tests_scope: str | None = None
    #: Branch code → label, for the links to the branch pages.
    branch_links: dict[str, str] = field(default_factory=dict)
    #: The answer first: the survey against its target, the branches below, the weakest items.
    lead: list[str] = field(default_factory=list)


def lead_sentences(report: Report) -> list[str]:
    """One plain sentence per question a reader asks first (no statistics in them)."""
    if report.overall_suppressed:
        return []
    found = [
        sentences.overall_sentence(report),
        *sentences.branches_sentences(report),
        sentences.weakest_items_sentence(report),
    ]
    return [sentence for sentence in found if sentence]


def _survey_charts(report: Report, item: str) -> list[Chart]:
    if not report.shown:
        return []
    built = [
        charts.rank_chart(report, item),
        charts.funnel_chart(report, item),
        charts.distribution_chart(report, item),
        charts.heatmap_chart(report, item),
    ]
    return [chart for chart in built if chart is not None]


def survey_results(report: Report, item: str) -> SurveyResults:
    """Charts, test sentences, α and the hidden and empty branches of one survey."""
    hidden = report.overall_suppressed
    tests = report.analysis.tests or {}
    omnibus = (
        []
        if hidden
        else [
            OmnibusLine(
                sentences.omnibus_sentence(report, i.key, i.text, tests.get(i.key)),
                sentences.omnibus_details(tests.get(i.key)),
            )
            for i in report.items
        ]
    )
    return SurveyResults(
        charts=_survey_charts(report, item),
        omnibus=omnibus,
        alpha="" if hidden else sentences.alpha_sentence(report.analysis.cronbach_alpha),
        hidden=[
            HiddenBranch(
                b.label, b.respondents, sentences.hidden_branch_reason(report, b.respondents)
            )
            for b in report.branches
            if b.is_suppressed
        ],
        empty=[b.label for b in report.branches if b.status == "empty"],
        overall_hidden=hidden,
        respondents=report.analysis.respondents,
        threshold=report.threshold,
        headline=sentences.headline_text(report),
        ballot_box=sentences.ballot_box_sentence(report),
        tests_scope=sentences.tests_scope_sentence(report) if omnibus else None,
        branch_links={b.code: b.label for b in report.branches},
        lead=lead_sentences(report),
    )


# --------------------------------------------------------------------------- branch page


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
    #: The branch's one headline figure, named as on every page, with its interval and basis.
    headline: str | None = None
    #: Where the branch stands against the rest (its group) and against the target.
    standing: list[str] = field(default_factory=list)
    #: The plain mean of the items' rates, labelled, where it differs from the headline.
    unweighted: str | None = None
    #: Answers below which a branch is "too few to tell" (the survey's ranking minimum).
    min_rank: int = 30
    categories: list[CategoryBlock] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def _item_rows(report: Report, branch: BranchReport) -> list[ItemRow]:
    overall = report.analysis.overall or {}
    rows = []
    for item in report.items:
        summary, vs_rest = branch.result.items[item.key], branch.result.vs_rest[item.key]
        everyone = overall.get(item.key)
        rows.append(
            ItemRow(
                text=item.text,
                rate=display.percent(summary.favourable_rate),
                interval=display.interval(*(summary.favourable_ci or (None, None))),
                n=summary.n,
                overall=display.percent(everyone.favourable_rate if everyone else None),
                versus=sentences.vs_rest_text(vs_rest.verdict, vs_rest.effect),
                signal=vs_rest.signal,
            )
        )
    return rows


def _category_blocks(report: Report, branch: BranchReport) -> list[CategoryBlock]:
    labels = {c.key: c.label for c in report.categories}
    blocks = []
    for category in branch.result.categories.values():
        name = labels.get(category.key, category.key)
        if category.respondents == 0:
            blocks.append(CategoryBlock(name, 0, None, _("no responses")))
        elif category.suppressed:
            reason = _(
                "hidden to protect anonymity (fewer than %(k)s respondents, or needed to keep "
                "a smaller group hidden)",
                k=report.threshold,
            )
            blocks.append(CategoryBlock(name, category.respondents, None, reason))
        else:
            blocks.append(
                CategoryBlock(
                    name, category.respondents, _category_table(report, branch, category), None
                )
            )
    return blocks


def _category_table(report: Report, branch: BranchReport, category) -> Table:
    cells = []
    for item in report.items:
        summary = category.items[item.key]
        cells.append(
            [
                item.text,
                display.percent(summary.favourable_rate),
                display.interval(*(summary.favourable_ci or (None, None))),
                str(summary.n),
            ]
        )
    name = next((c.label for c in report.categories if c.key == category.key), category.key)
    return Table(
        _("%(category)s in %(branch)s", category=name, branch=branch.label),
        [
            _("Item"),
            _("Favourable rate"),
            display.interval_heading(report.confidence),
            _("Answers"),
        ],
        cells,
    )


def branch_results(report: Report, comments: list[str]) -> BranchResults:
    """The one branch a report was built for (``branch_id``), with its items and categories."""
    branch = report.branches[0]
    if branch.is_suppressed:
        notice = sentences.hidden_branch_notice(report, branch.respondents)
        return BranchResults(branch.label, "suppressed", branch.respondents, notice)
    if branch.status == "empty":
        return BranchResults(branch.label, "empty", 0, _("No responses yet."))
    chart = charts.items_chart(
        "fig-branch-items",
        _("Favourable rate by item: %(branch)s", branch=branch.label),
        report,
        branch.result.items,
        compare_to=report.analysis.overall or None,
        compare_name=_("All branches"),
    )
    return BranchResults(
        branch.label,
        "shown",
        branch.respondents,
        None,
        chart=chart,
        items=_item_rows(report, branch),
        **_branch_figure(report, branch),
        min_rank=report.survey.min_rank_respondents,
        categories=_category_blocks(report, branch),
        comments=comments,
    )


def _branch_figure(report: Report, branch: BranchReport) -> dict[str, Any]:
    """The headline figure of a branch page, its standing, and the unweighted mean where the
    headline is weighted (labelled, so two rates never appear without a word why)."""
    headline = branch.headline
    if headline is None:
        return {}
    standing = [
        _("Against the other branches: %(words)s.", words=display.group_words(headline.group))
    ]
    if headline.versus_target is not None:
        standing.append(
            _(
                "Against the target of %(target)s: %(words)s.",
                target=display.percent(report.survey.target),
                words=display.target_words(headline.versus_target),
            )
        )
    mean = branch.result.composite.favourable_rate if branch.result.composite else None
    unweighted = None
    if headline.is_weighted and mean is not None:
        unweighted = _(
            "Unweighted mean of the items' favourable rates: %(rate)s. It counts every "
            "answer alike; the overall favourable rate gives each kind of respondent its set "
            "weight, which is why the two differ.",
            rate=display.percent(mean),
        )
    return {
        "headline": sentences.branch_headline_text(report, headline),
        "standing": standing,
        "unweighted": unweighted,
    }


# --------------------------------------------------------------------------- campaign page


@dataclass(frozen=True, slots=True)
class SurveySummary:
    """One survey on the campaign overview."""

    survey: Any
    #: Why the results are not shown yet; None when they are.
    sealed: str | None
    turnout: Any
    headline: str | None
    chart: Chart | None
    overall_hidden: bool


def survey_summary(survey: Survey, turnout, report: Report | None) -> SurveySummary:
    """Turnout for every survey; the per-item rates and headline when results are published."""
    if report is None:
        return SurveySummary(survey, sealed_message(survey), turnout, None, None, False)
    chart = None
    if not report.overall_suppressed:
        chart = charts.items_chart(
            f"fig-overall-{survey.slug}",
            _("Favourable rate by item: %(survey)s", survey=survey.title),
            report,
            report.analysis.overall or {},
        )
    return SurveySummary(
        survey,
        None,
        turnout,
        sentences.headline_text(report),
        chart,
        report.overall_suppressed,
    )


def campaign_turnout(summaries: list[SurveySummary]) -> Table:
    """One row per survey of a campaign: codes issued and used, responses (never sealed)."""
    rows = []
    for summary in summaries:
        total = display.turnout_row(summary.turnout.total)
        rows.append(
            [
                summary.survey.title,
                summary.survey.state.label,
                total["codes_issued"],
                total["codes_used"],
                total["turnout"],
                total["responses"],
            ]
        )
    columns = [
        _("Survey"),
        _("State"),
        _("Codes issued"),
        _("Codes used"),
        _("Turnout"),
        _("Responses"),
    ]
    return Table(_("Turnout by survey"), columns, rows)


# --------------------------------------------------------------------------- comparison page


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


def _verdict(name: str, item: str, earlier, later, change) -> Verdict:
    return Verdict(
        branch=name,
        item=item,
        before=display.percent(earlier.favourable_rate),
        after=display.percent(later.favourable_rate),
        change=display.points(change.diff),
        interval=display.points_interval(change.diff_ci),
        verdict=display.change_words(change.change),
        direction=change.change,
    )


def verdicts(before: Report, after: Report) -> list[Verdict]:
    """Every branch (and all branches together) × shared item: improved, worsened or not."""
    comparison = after.comparison
    if comparison is None:
        return []
    texts = after.item_texts()
    out = []
    earlier_all, later_all = before.analysis.overall or {}, after.analysis.overall or {}
    for key, change in comparison.overall.items():
        if earlier_all.get(key) and later_all.get(key):
            out.append(
                _verdict(_("All branches"), texts[key], earlier_all[key], later_all[key], change)
            )
    before_by_code = {b.code: b for b in before.shown}
    after_by_code = {b.code: b for b in after.shown}
    for code, by_item in sorted(comparison.branches.items()):
        if code not in before_by_code or code not in after_by_code:
            continue
        label = after_by_code[code].label
        for key, change in by_item.items():
            earlier = before_by_code[code].result.items[key]
            later = after_by_code[code].result.items[key]
            out.append(_verdict(label, texts[key], earlier, later, change))
    return out
