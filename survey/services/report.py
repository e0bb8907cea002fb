"""The published report of a survey: tallies → :mod:`analytics` → one typed :class:`Report`.

Every page, chart, export and API answer reads :func:`build_report`, so they all show the same
figures and hide the same groups. The report holds the survey's facts and the frozen
dataclasses that :mod:`analytics` returns, as they are: nothing is flattened into strings and
dug out again. JSON is written at the edge, by :mod:`survey.services.report_json`.

Only ballots that the ballot box has mixed are counted (:mod:`survey.services.ballot_box`), so
every figure moves by whole batches of at least the threshold. ``ballot_box`` says how many are
still sealed: ``waiting`` to be counted while the survey is open, ``held_back`` once it is
closed. The omnibus tests compare the shown branches only.
"""

from __future__ import annotations

import dataclasses
import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from analytics import (
    BranchResult,
    Comparison,
    Headline,
    SurveyAnalysis,
    analyse,
    headline,
)
from analytics import compare as compare_counts
from analytics.headline import BranchHeadline
from analytics.report import SHOWN, SUPPRESSED
from survey.db import db
from survey.models import (
    Branch,
    Comment,
    Survey,
    SurveyKind,
    SurveyState,
    User,
)
from survey.refusals import BadRequest, Conflict
from survey.services import audit, ballot_box
from survey.services.item_pairs import paired_counts
from survey.services.report_counts import branch_statuses, report_branches, survey_counts

#: Confidence level of every interval in the report.
CONFIDENCE = 0.95


class ResultsSealed(Conflict):
    """The survey's results stay hidden until it closes (a live count could identify people)."""

    def __init__(self, survey: Survey):
        super().__init__(sealed_message(survey), title=_("Results are not out yet"))
        self.survey = survey


def sealed_message(survey: Survey) -> str:
    """Why a survey's results are not shown yet, in the reader's language."""
    return _(
        "The results of %(title)s appear after the survey closes. Until then only the turnout "
        "is shown, because a count that changes while people answer could tell who answered "
        "what.",
        title=survey.title,
    )


def check_unsealed(survey: Survey) -> None:
    """Raise :class:`ResultsSealed` when the survey's results must stay hidden for now."""
    if survey.results_are_sealed:
        raise ResultsSealed(survey)


def check_comparable(survey: Survey, other: Survey) -> None:
    """Refuse to compare a survey with itself or with a survey of another campaign: stages are
    compared within one campaign, item by item."""
    if other.id == survey.id or other.campaign_id != survey.campaign_id:
        raise BadRequest(_("Compare with another survey of the same campaign."))


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class SurveyFacts:
    """What the report is about."""

    slug: str
    title: str
    kind: SurveyKind
    state: SurveyState
    campaign: str
    threshold: int
    min_rank_respondents: int
    #: The survey's yardstick: a favourable share in (0, 1], or None (no target).
    target: float | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One option of the answer scale."""

    key: str
    label: str
    weight: float
    favourable: bool


@dataclass(frozen=True, slots=True)
class Category:
    """One respondent category and its weight in the composite (None: unweighted)."""

    key: str
    label: str
    weight: float | None


@dataclass(frozen=True, slots=True)
class Question:
    """One item of the questionnaire; ``number`` counts from 1 as on the form."""

    key: str
    text: str
    number: int

    def short(self, width: int = 18) -> str:
        """A short unique label for a chart's axis: its number and the start of its text."""
        text = self.text if len(self.text) <= width else self.text[: width - 1] + "…"
        return f"{self.number}. {text}"


@dataclass(frozen=True, slots=True)
class BranchReport:
    """One listed branch: its name, a label unique in the report, and its analysis."""

    code: str
    name: str
    #: The name, with the code appended where two listed branches share a name.
    label: str
    result: BranchResult

    @property
    def status(self) -> str:
        """``shown``, ``suppressed`` or ``empty``."""
        return self.result.status

    @property
    def respondents(self) -> int:
        """How many responded (shown even for a suppressed branch: turnout is no answer)."""
        return self.result.respondents

    @property
    def headline(self) -> BranchHeadline | None:
        """The one figure every page, chart and export names this branch by (None when its
        figures are not shown); call it ``display.headline_name()``, and say what it is with
        ``display.headline_basis``."""
        return self.result.headline

    @property
    def is_shown(self) -> bool:
        """Whether the branch's figures are published."""
        return self.result.status == SHOWN

    @property
    def is_suppressed(self) -> bool:
        """Whether the branch is hidden to protect anonymity."""
        return self.result.status == SUPPRESSED


@dataclass(frozen=True, slots=True)
class BallotBoxState:
    """Ballots still sealed: waiting to be counted (open survey) or held back (closed)."""

    waiting: int
    held_back: int


@dataclass(frozen=True, slots=True)
class StageComparison:
    """This survey against an earlier stage, per shared item: overall and per branch shown in
    both (only the report's listed branches)."""

    against: str
    against_title: str
    overall: dict[str, Comparison]
    branches: dict[str, dict[str, Comparison]]


@dataclass(frozen=True, slots=True)
class Report:
    """A survey's published figures (see the module docstring)."""

    survey: SurveyFacts
    confidence: float
    scale: tuple[Option, ...]
    categories: tuple[Category, ...]
    items: tuple[Question, ...]
    analysis: SurveyAnalysis
    headline: Headline
    #: Every listed branch, by code (only the viewer's own for a branch viewer).
    branches: tuple[BranchReport, ...]
    ballot_box: BallotBoxState
    comparison: StageComparison | None = None

    @property
    def threshold(self) -> int:
        """The smallest group whose figures are shown."""
        return self.survey.threshold

    @property
    def overall_suppressed(self) -> bool:
        """Whether even the survey-wide figures are withheld (1 to k − 1 respondents)."""
        return self.analysis.overall_suppressed

    @property
    def shown(self) -> list[BranchReport]:
        """The listed branches whose figures are published."""
        return [b for b in self.branches if b.is_shown]

    def item_texts(self) -> dict[str, str]:
        """Item key → its full text, in questionnaire order."""
        return {item.key: item.text for item in self.items}


def _labels(branches: list[Branch]) -> list[str]:
    """Display names, unique among ``branches``: a repeated name gets its code appended."""
    seen = Counter(branch.name for branch in branches)
    return [b.name if seen[b.name] == 1 else f"{b.name} [{b.code}]" for b in branches]


def _facts(survey: Survey) -> dict:
    """The report's header: the survey, its scale, categories and items."""
    return {
        "survey": SurveyFacts(
            slug=survey.slug,
            title=survey.title,
            kind=survey.kind,
            state=survey.state,
            campaign=survey.campaign.slug,
            threshold=survey.threshold,
            min_rank_respondents=survey.min_rank_respondents,
            target=survey.target,
        ),
        "scale": tuple(
            Option(o.key, o.label, float(o.weight), bool(o.is_favourable)) for o in survey.options
        ),
        "categories": tuple(
            Category(c.key, c.label, None if c.weight is None else float(c.weight))
            for c in survey.categories
        ),
        "items": tuple(
            Question(item.key, item.text, number)
            for number, item in enumerate(survey.items, start=1)
        ),
    }


def build_report(
    survey: Survey, compare: Survey | None = None, branch_id: int | None = None
) -> Report:
    """The survey's published figures.

    ``compare`` adds a comparison with another stage of the same campaign; ``branch_id`` limits
    the listed (and compared) branches to one, for branch viewers. Raises
    :class:`ResultsSealed` when either survey's results are still sealed.
    """
    check_unsealed(survey)
    if compare is not None:
        check_comparable(survey, compare)
        check_unsealed(compare)
    with collector_paused():
        return _build(survey, compare, branch_id)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a report or its JSON is built.

    A 1,000-branch report creates a few hundred thousand small objects (summaries, then the
    JSON's dicts), none of them cyclic garbage; each full collection would rescan all of them,
    which measured as more than half of the time spent building them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(survey: Survey, compare: Survey | None, branch_id: int | None) -> Report:
    branches = report_branches(survey)
    counts = survey_counts(survey, branches)
    analysis = analyse(counts, CONFIDENCE)
    listed = [
        (branch, result)
        for branch, result in zip(branches, analysis.branches, strict=True)
        if branch_id is None or branch.id == branch_id
    ]
    labels = _labels([branch for branch, _result in listed])
    sealed = ballot_box.waiting(survey, branch_id)
    closed = survey.state is SurveyState.CLOSED
    report = Report(
        **_facts(survey),
        confidence=CONFIDENCE,
        analysis=analysis,
        headline=headline(analysis.overall),
        branches=tuple(
            BranchReport(branch.code, branch.name, label, result)
            for (branch, result), label in zip(listed, labels, strict=True)
        ),
        ballot_box=BallotBoxState(0 if closed else sealed, sealed if closed else 0),
    )
    if compare is None:
        return report
    # Items are paired by key unless the office paired them explicitly (services.item_pairs).
    earlier = paired_counts(survey_counts(compare), compare, survey)
    result = compare_counts(counts, earlier, CONFIDENCE)
    allowed = {b.code for b in report.branches}
    comparison = StageComparison(
        against=compare.slug,
        against_title=compare.title,
        overall=result.overall,
        branches={
            code: by_item
            for code, by_item in result.branches.items()
            if by_item and code in allowed
        },
    )
    return dataclasses.replace(report, comparison=comparison)


def exported_report(
    actor: User | None,
    survey: Survey,
    fmt: str,
    compare: Survey | None = None,
    branch_id: int | None = None,
) -> Report:
    """The report as it leaves Ceping (the API, the command line, a spreadsheet), with the
    audit entry that records who took which figures out: the same entry from every way out."""
    report = build_report(survey, compare=compare, branch_id=branch_id)
    detail = f"survey={survey.slug} format={fmt}"
    if compare is not None:
        detail += f" compare={compare.slug}"
    if branch_id is not None:
        detail += f" branch={branch_id}"
    with db.transaction():
        audit.record("report.export", detail, user=actor)
    return report


def comments(survey: Survey, branch: Branch) -> list[str]:
    """A shown branch's comments in random order; none for a suppressed or empty branch."""
    check_unsealed(survey)
    if branch_statuses(survey).get(branch.id) != SHOWN:
        return []
    return list(
        db.session.scalars(
            select(Comment.text)
            .where(Comment.survey_id == survey.id, Comment.branch_id == branch.id)
            .order_by(func.random())
        )
    )
