"""What a leader reads first in the workbook: the one-page ranking and the survey's facts.

The ranking sheet lists the branches as the survey page's ranking does: by their headline
figure (:attr:`BranchReport.headline`, named by :func:`display.headline_name`), best first and
ties by code, each with its interval, its group against the other branches and, where the
survey sets a target, its standing against the target, in the same words as the pages
(:mod:`survey.display`). Suppressed branches are absent; the sheet only counts them.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from survey import display
from survey.models import Source, Survey, SurveyKind
from survey.services.exports.cells import Sheet
from survey.services.report import BranchReport, Report

#: Up to this many branches the ranking prints on one page; beyond, one page wide.
ONE_PAGE_BRANCHES = 60


def kind_label(kind: SurveyKind) -> str:
    """A kind of survey in the reader's language."""
    return {
        SurveyKind.EVALUATION: _("Evaluation"),
        SurveyKind.SATISFACTION: _("Satisfaction test"),
    }.get(kind, _("Other"))


def source_labels() -> dict[str, str]:
    """Where a response came from, by the key stored, in the reader's language."""
    return {Source.WEB.value: _("Web"), Source.PAPER.value: _("Paper")}


def ranked(report: Report) -> list[BranchReport]:
    """The shown branches with a headline figure, best first, ties by code: the order of the
    survey page's ranking (``results.charts.base.branch_points`` on all items)."""
    found = [branch for branch in report.shown if branch.headline is not None]
    return sorted(found, key=lambda branch: (-branch.headline.rate, branch.code))


def _day(value) -> str:
    return display.MISSING if value is None else value.isoformat()


def facts(report: Report, survey: Survey) -> list[tuple[str, Any, str | None]]:
    """The survey's facts as (label, value, number format) rows, in the reader's language;
    figures rounded as the pages show them."""
    survey_facts, target = report.survey, report.survey.target
    headline = report.headline
    ci = headline.favourable_ci or (None, None)
    alpha = report.analysis.cronbach_alpha
    rows: list[tuple[str, Any, str | None]] = [
        (_("Survey"), survey_facts.title, None),
        (_("Campaign"), survey.campaign.title, None),
        (_("Kind"), kind_label(survey_facts.kind), None),
        (_("State"), survey_facts.state.label, None),
        (_("Opened on"), _day(survey.opened_on), None),
        (_("Closed on"), _day(survey.closed_on), None),
        (_("Respondents"), report.analysis.respondents, "int"),
        (_("Favourable rate (mean over items)"), share(headline.favourable_rate), "percent"),
        (_("Favourable rate, lower limit"), share(ci[0]), "percent"),
        (_("Favourable rate, upper limit"), share(ci[1]), "percent"),
        (_("Target"), share(target) if target is not None else _("No target"), "percent"),
        (_("Cronbach's alpha"), None if alpha is None else round(alpha, 2), "score"),
        (_("Smallest group shown (threshold)"), survey_facts.threshold, "int"),
        (_("Fewest respondents to group a branch"), survey_facts.min_rank_respondents, "int"),
        (_("Confidence level"), report.confidence, "percent"),
        (_("Branches hidden (too few respondents)"), report.analysis.suppressed_branches, "int"),
    ]
    if report.comparison is not None:
        comparison = report.comparison
        rows.append((_("Compared with"), comparison.against_title, None))
    return rows


def share(rate: float | None) -> float | None:
    """A share rounded so that a 0.0% cell shows what the page shows."""
    figure = display.percent_figure(rate)
    return None if figure is None else round(figure / 100.0, 4)


def _ranking_headers(report: Report) -> list[str]:
    columns = [
        _("Branch"),
        _("Against the other branches"),
        display.headline_name(),
        display.interval_heading(report.confidence),
        _("Respondents"),
    ]
    if report.survey.target is not None:
        columns.append(
            _("Against the target of %(target)s", target=display.percent(report.survey.target))
        )
    return columns


def _basis(report: Report) -> str:
    """What the branches' headline figures are, as the survey page's ranking note says it."""
    headlines = [branch.headline for branch in ranked(report)]
    if headlines and all(headline.is_weighted for headline in headlines):
        return display.headline_basis(max(headlines, key=lambda headline: headline.is_pooled))
    return _("the mean of the items' favourable rates")


def _ranking_notes(report: Report) -> list[str]:
    notes = [
        _(
            "%(name)s: for each branch, %(basis)s, with its %(level)s interval.",
            name=display.headline_name(),
            basis=_basis(report),
            level=f"{100 * report.confidence:g}%",
        ),
        _(
            "Branches are not given ranks where their intervals overlap: each is clearly above, "
            "clearly below or not distinguishable from the other branches, by the test against "
            "the rest used on every page, after Holm's correction."
        ),
    ]
    hidden = report.analysis.suppressed_branches
    if hidden:
        notes.append(
            ngettext(
                "%(num)d branch is not listed: it is hidden to protect anonymity.",
                "%(num)d branches are not listed: they are hidden to protect anonymity.",
                hidden,
            )
        )
    empty = sum(1 for branch in report.branches if branch.status == "empty")
    if empty:
        notes.append(
            ngettext(
                "%(num)d branch is not listed: it has no responses.",
                "%(num)d branches are not listed: they have no responses.",
                empty,
            )
        )
    return notes


def ranking_sheet(workbook, styles, report: Report) -> None:
    """The one-page ranking (see the module docstring)."""
    sheet = Sheet(workbook, _("Ranking"), styles)
    columns = _ranking_headers(report)
    sheet.widths([28, 34, 14, 18, 12, 28][: len(columns)])
    sheet.write([report.survey.title], ["title"])
    sheet.write([_("%(name)s by branch", name=display.headline_name())], ["label"])
    sheet.header(columns)
    sheet.sheet.freeze_panes(sheet.row, 1)
    branches = ranked(report)
    sheet.print_setup(
        report.survey.title, header_rows=sheet.row, one_page=len(branches) <= ONE_PAGE_BRANCHES
    )
    kinds = [None, None, "percent", None, "int", None]
    for branch in branches:
        headline = branch.headline
        values = [
            branch.label,
            display.group_words(headline.group),
            share(headline.rate),
            display.interval(*headline.ci),
            branch.respondents,
        ]
        if report.survey.target is not None:
            values.append(display.target_words(headline.versus_target))
        sheet.write(values, kinds)
    if not branches:
        sheet.write([_("No branch has figures to show.")], ["note"])
    sheet.write([])
    for note in _ranking_notes(report):
        sheet.write([note], ["note"])
