"""The effect of rectification (整改成效), and the items a measure should move.

The final satisfaction test checks the real effect: for each measure, the items it targeted are
compared in its branch, evaluation stage against final test, with the stage comparison every
results page uses (:func:`survey.services.report.build_report` with ``compare``: Newcombe's
interval of the difference, Mann–Whitney), so the figures here are the comparison's own. A
branch hidden in either stage stays hidden: its measures say "not measured", never a figure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from analytics.report import BELOW, HIGHER, LOWER, NO_CLEAR_CHANGE, Comparison
from survey.db import db
from survey.models import Campaign, Item, Measure, MeasureStatus, Plan, SurveyState, User
from survey.services import audit
from survey.services.item_pairs import ItemPair, item_pairs
from survey.services.rectification.plans import evaluation_survey, final_test, plans_of
from survey.services.report import Report, build_report

IMPROVED, NO_CHANGE, WORSENED, NOT_MEASURED = "improved", "no_change", "worsened", "not_measured"
VERDICT_LABELS = {
    IMPROVED: _l("Improved"),
    NO_CHANGE: _l("No clear change"),
    WORSENED: _l("Worsened"),
    NOT_MEASURED: _l("Not measured"),
}
_VERDICT_OF_CHANGE = {HIGHER: IMPROVED, NO_CLEAR_CHANGE: NO_CHANGE, LOWER: WORSENED}

#: How many of a branch's weakest items are proposed for a new measure.
PROPOSED = 3


@dataclass(frozen=True, slots=True)
class ProposedItem:
    item: Item
    favourable_rate: float
    clearly_below: bool


def proposed_items(plan: Plan) -> list[ProposedItem]:
    """The evaluation stage's weak items for the plan's branch (or the whole survey for the
    committee): items clearly below the rest first, then the lowest favourable rates. Empty
    when there is no closed evaluation stage, or the branch is hidden there."""
    survey = evaluation_survey(plan.campaign)
    if survey is None:
        return []
    report = build_report(survey)
    by_key = {item.key: item for item in survey.items}
    if plan.branch is None:
        summaries, below = report.analysis.overall, set()
    else:
        shown = next((b for b in report.shown if b.code == plan.branch.code), None)
        if shown is None:
            return []
        result = shown.result
        summaries = result.items or {}
        below = {k for k, v in (result.vs_rest or {}).items() if v.signal == BELOW}
    rated = [
        ProposedItem(by_key[key], s.favourable_rate, key in below)
        for key, s in summaries.items()
        if s.favourable_rate is not None and key in by_key
    ]
    rated.sort(key=lambda p: (not p.clearly_below, p.favourable_rate, p.item.position))
    return [p for p in rated if p.clearly_below] or rated[:PROPOSED]


@dataclass(frozen=True, slots=True)
class ItemEffect:
    """A targeted item's change; ``asked_as`` is the final test's wording when it differs
    from the evaluation stage's, so the reader can judge whether the two compare."""

    item: Item
    comparison: Comparison | None
    verdict: str
    asked_as: str | None = None


@dataclass(frozen=True, slots=True)
class MeasureEffect:
    measure: Measure
    items: list[ItemEffect]

    @property
    def moved(self) -> bool:
        """At least one targeted item improved clearly."""
        return any(e.verdict == IMPROVED for e in self.items)


@dataclass
class Tally:
    """Measures of one class or department: how many, done, and done ones that moved an item."""

    measures: int = 0
    done: int = 0
    moved: int = 0


@dataclass
class EffectReport:
    campaign: Campaign
    final_title: str | None
    evaluation_title: str | None
    ready: bool
    plans: list[tuple[Plan, list[MeasureEffect]]] = field(default_factory=list)
    by_class: dict[str, Tally] = field(default_factory=dict)
    by_department: dict[str, Tally] = field(default_factory=dict)
    verdicts: Counter = field(default_factory=Counter)


def _item_effect(report: Report, pairs: dict[str, ItemPair], plan: Plan, item: Item) -> ItemEffect:
    """The comparison of evaluation ``item`` in the plan's branch (overall for the committee's
    plan). The comparison is keyed by the final test's items; ``pairs`` maps an evaluation key
    to the final item it is compared with (by key, or as the office paired them)."""
    pair = pairs.get(item.key)
    if pair is None:  # the final test asks nothing the item is compared with
        return ItemEffect(item, None, NOT_MEASURED)
    comparisons = report.comparison
    if plan.branch is None:
        found = comparisons.overall.get(pair.key)
    else:
        found = comparisons.branches.get(plan.branch.code, {}).get(pair.key)
    change = found.change if found is not None else None
    asked_as = pair.text if pair.wording_differs else None
    return ItemEffect(item, found, _VERDICT_OF_CHANGE.get(change, NOT_MEASURED), asked_as)


def effect_report(campaign: Campaign) -> EffectReport:
    """Each filed plan's measures with the change of their items, and the campaign's tallies;
    ``ready`` is False until the final satisfaction test is closed."""
    evaluation, final = evaluation_survey(campaign), final_test(campaign)
    ready = evaluation is not None and final is not None and final.state is SurveyState.CLOSED
    report = build_report(final, compare=evaluation) if ready else None
    result = EffectReport(
        campaign,
        final.title if final else None,
        evaluation.title if evaluation else None,
        ready,
    )
    pairs = {p.earlier_key: p for p in item_pairs(final, evaluation)} if ready else {}
    for plan in plans_of(campaign, filed_only=True):
        effects = []
        for measure in plan.measures:
            items = [_item_effect(report, pairs, plan, i) for i in measure.items] if ready else []
            effect = MeasureEffect(measure, items)
            effects.append(effect)
            result.verdicts.update(e.verdict for e in items)
            for tally in (
                result.by_class.setdefault(measure.problem_class.value, Tally()),
                result.by_department.setdefault(measure.department, Tally()),
            ):
                tally.measures += 1
                tally.done += measure.status is MeasureStatus.DONE
                tally.moved += measure.status is MeasureStatus.DONE and effect.moved
        result.plans.append((plan, effects))
    return result


def effect_json(effect: EffectReport) -> dict:
    """The effect report as the API and ``rectification-report`` give it."""

    def comparison(c: Comparison | None):
        if c is None:
            return None
        return {
            "difference": c.diff,
            "difference_ci": list(c.diff_ci) if c.diff_ci else None,
            "p": c.p,
            "mann_whitney_p": c.mann_whitney_p,
        }

    return {
        "campaign": effect.campaign.slug,
        "evaluation": effect.evaluation_title,
        "final_test": effect.final_title,
        "ready": effect.ready,
        "plans": [
            {
                "branch": plan.branch.code if plan.branch else None,
                "title": plan.title,
                "measures": [
                    {
                        "problem": e.measure.problem,
                        "class": e.measure.problem_class.value,
                        "department": e.measure.department,
                        "status": e.measure.status.value,
                        "items": [
                            {
                                "item": i.item.key,
                                "verdict": i.verdict,
                                "comparison": comparison(i.comparison),
                            }
                            for i in e.items
                        ],
                    }
                    for e in effects
                ],
            }
            for plan, effects in effect.plans
        ],
        "by_class": {k: vars(v) for k, v in effect.by_class.items()},
        "by_department": {k: vars(v) for k, v in effect.by_department.items()},
    }


def exported_effect(actor: User | None, campaign: Campaign, fmt: str) -> dict:
    """The effect report as it leaves Ceping (the API, the command line), audited with the same
    entry from every way out."""
    found = effect_json(effect_report(campaign))
    with db.transaction():
        audit.record(
            "rectification.export",
            f"campaign={campaign.slug} what=effect format={fmt}",
            user=actor,
        )
    return found
