"""Two stages of a campaign compared: which items are paired, every change, and which branches
are left out and why.

The page, its printout and its spreadsheet and CSV exports all read :func:`stage_comparison`,
so they pair the same items and leave out the same branches. The figures are those of the two
published reports (:func:`survey.services.report.build_report`): a branch hidden in either stage
is never compared, and its row says which stage hid it. Items are paired as
:mod:`survey.services.item_pairs` says (by key, or as the office paired them), and a pair whose
wording differs carries that fact to every reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from analytics import Comparison, Summary
from survey.db import db
from survey.models import Survey, User
from survey.refusals import BadRequest
from survey.services import audit
from survey.services.item_pairs import ItemPair, item_pairs, stage_order
from survey.services.report import BranchReport, Report, build_report


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A branch listed in either stage but not compared, with the reason in words."""

    code: str
    label: str
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    """One paired item for all branches together (``code`` None) or one branch."""

    code: str | None
    label: str
    pair: ItemPair
    before: Summary
    after: Summary
    change: Comparison


@dataclass(frozen=True, slots=True)
class StageView:
    """The comparison of ``before`` (the earlier stage as chosen) with ``after``."""

    before: Report
    after: Report
    pairs: list[ItemPair]
    changes: list[Change]
    left_out: list[LeftOut]

    def pair(self, key: str) -> ItemPair | None:
        """The pair of the later stage's item ``key``, if it has one."""
        return next((p for p in self.pairs if p.key == key), None)


def stage_comparison(before: Survey, after: Survey, branch_id: int | None = None) -> StageView:
    """Compare ``after`` with ``before`` (two different surveys of one campaign, either order);
    ``branch_id`` limits it to one branch, for branch viewers. Refuses sealed results like the
    report does."""
    if before.id == after.id:
        raise BadRequest(_("Choose two different surveys to compare."))
    before_report = build_report(before, branch_id=branch_id)
    after_report = build_report(after, compare=before, branch_id=branch_id)
    earlier, later = stage_order(before, after)
    pairs = item_pairs(later, earlier)
    if later is before:  # the reader put the later stage first: keys are read the other way
        pairs = [
            ItemPair(p.earlier_key, p.key, p.earlier_text, p.text, p.is_explicit) for p in pairs
        ]
    return StageView(
        before_report,
        after_report,
        pairs,
        _changes(before_report, after_report, pairs),
        left_out(before_report, after_report),
    )


def exported_comparison(actor: User | None, before: Survey, after: Survey, fmt: str) -> StageView:
    """The comparison as it leaves Ceping (a spreadsheet, a CSV), with its audit entry."""
    view = stage_comparison(before, after)
    with db.transaction():
        audit.record(
            "report.export", f"survey={after.slug} format={fmt} compare={before.slug}", user=actor
        )
    return view


def _changes(before: Report, after: Report, pairs: list[ItemPair]) -> list[Change]:
    """All branches together, then each branch shown in both stages (by code), per pair."""
    comparison = after.comparison
    if comparison is None:
        return []
    out: list[Change] = []
    earlier_all, later_all = before.analysis.overall or {}, after.analysis.overall or {}
    for pair in pairs:
        change = comparison.overall.get(pair.key)
        first, second = earlier_all.get(pair.earlier_key), later_all.get(pair.key)
        if change is not None and change.diff is not None and first and second:
            out.append(Change(None, _("All branches"), pair, first, second, change))
    earlier_by_code = {b.code: b for b in before.shown}
    for branch in sorted(after.shown, key=lambda b: b.code):
        earlier_branch = earlier_by_code.get(branch.code)
        by_item = comparison.branches.get(branch.code, {})
        if earlier_branch is None:
            continue
        for pair in pairs:
            change = by_item.get(pair.key)
            if change is None or change.diff is None:
                continue
            first = earlier_branch.result.items[pair.earlier_key]
            second = branch.result.items[pair.key]
            out.append(Change(branch.code, branch.label, pair, first, second, change))
    return out


def left_out(before: Report, after: Report) -> list[LeftOut]:
    """Every branch listed in either stage that is not shown in both, by code, with why."""
    earlier = {b.code: b for b in before.branches}
    later = {b.code: b for b in after.branches}
    out = []
    for code in sorted(set(earlier) | set(later)):
        first, second = earlier.get(code), later.get(code)
        if first is not None and second is not None and first.is_shown and second.is_shown:
            continue
        reasons = [
            reason
            for reason in (
                _reason(first, before),
                _reason(second, after),
            )
            if reason
        ]
        label = (second or first).label  # type: ignore[union-attr]
        out.append(LeftOut(code, label, "; ".join(reasons)))
    return out


def _reason(branch: BranchReport | None, report: Report) -> str | None:
    """Why one stage has no figures for the branch (None when it has them)."""
    stage = report.survey.title
    if branch is None:
        return _("not measured in %(stage)s", stage=stage)
    if branch.is_shown:
        return None
    if branch.status == "empty":
        return _("no responses in %(stage)s", stage=stage)
    if branch.respondents < report.threshold:
        return _(
            "hidden in %(stage)s: %(n)s respondents, fewer than the anonymity threshold of %(k)s",
            stage=stage,
            n=branch.respondents,
            k=report.threshold,
        )
    return _(
        "hidden in %(stage)s (%(n)s respondents) together with smaller branches, so that "
        "their answers cannot be worked out from the totals",
        stage=stage,
        n=branch.respondents,
    )
