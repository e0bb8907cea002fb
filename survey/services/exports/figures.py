"""The report as long rows, one per figure line: what the CSV and the xlsx raw sheet list.

One line per item for the survey as a whole, then for each listed branch its headline figure
(:attr:`BranchReport.headline`) and one line per item, and (for the raw sheet) one line per
item of each shown category. A suppressed branch or category has no line: the report carries
no figures for it (:mod:`survey.services.exports.disclosure`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from analytics import Summary, VsRest
from analytics.headline import BranchHeadline
from survey.services.exports import disclosure
from survey.services.report import BranchReport, Category, Question, Report

#: Kinds of line, in the order they come.
OVERALL, HEADLINE, BRANCH, CATEGORY = "overall", "headline", "branch", "category"

#: Verdicts after which a page gives no difference in points (nothing was tested on enough).
UNTESTED = ("too_few", "not_tested")


@dataclass(frozen=True, slots=True)
class Line:
    """One line of figures: the survey's, a branch's or a category's, on one item (or a
    branch's headline figure, with no item)."""

    level: str
    respondents: int
    branch: BranchReport | None = None
    category: Category | None = None
    item: Question | None = None
    summary: Summary | None = None
    vs_rest: VsRest | None = None
    headline: BranchHeadline | None = None

    @property
    def effect(self) -> float | None:
        """The difference from the rest, where a page would give it (a tested verdict)."""
        if self.vs_rest is None or self.vs_rest.verdict in UNTESTED:
            return None
        return self.vs_rest.effect


def lines(report: Report, with_categories: bool = False) -> Iterator[Line]:
    """The report's figure lines (see the module docstring), in questionnaire order."""
    overall = report.analysis.overall or {}
    for item in report.items:
        if item.key in overall:
            yield Line(OVERALL, report.analysis.respondents, item=item, summary=overall[item.key])
    labels = {category.key: category for category in report.categories}
    for branch in disclosure.listed_branches(report):
        yield from _branch_lines(report, branch, labels if with_categories else None)


def _branch_lines(
    report: Report, branch: BranchReport, categories: dict[str, Category] | None
) -> Iterator[Line]:
    result = branch.result
    if branch.headline is not None:
        yield Line(HEADLINE, result.respondents, branch, headline=branch.headline)
    items, vs_rest = result.items or {}, result.vs_rest or {}
    for item in report.items:
        if item.key in items:
            summary, mark = items[item.key], vs_rest.get(item.key)
            yield Line(BRANCH, result.respondents, branch, None, item, summary, mark)
    if categories is None:
        return
    for found in result.categories.values():
        if found.suppressed or found.respondents == 0 or not found.items:
            continue
        category = categories.get(found.key) or Category(found.key, found.key, None)
        for item in report.items:
            if item.key in found.items:
                summary = found.items[item.key]
                yield Line(CATEGORY, found.respondents, branch, category, item, summary)
