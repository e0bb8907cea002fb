"""The stage comparison page laid out: the paired items (with a word where their wording
differs), a verdict per branch and item, and the branches left out with their reasons.

The figures come from :func:`survey.services.comparison.stage_comparison`; this module only
turns them into the strings the template and the exports show, so the page, its printout and
the CSV say the same thing in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from survey import display
from survey.services.comparison import Change, StageView
from survey.services.item_pairs import ItemPair


@dataclass(frozen=True, slots=True)
class PairRow:
    """One paired item as the page lists it."""

    number: int
    key: str
    text: str
    earlier_key: str
    earlier_text: str
    how: str
    wording_differs: bool


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """One branch × item change between stages, in plain words."""

    branch: str
    item: str
    before: str
    after: str
    change: str
    interval: str
    verdict: str
    direction: str | None
    wording_differs: bool


def how_paired(pair: ItemPair) -> str:
    """How the two items came to be compared, in words."""
    return _("paired by the office") if pair.is_explicit else _("same key")


def pair_rows(view: StageView) -> list[PairRow]:
    """Every paired item, numbered as on the later questionnaire's list of pairs."""
    return [
        PairRow(
            number,
            pair.key,
            pair.text,
            pair.earlier_key,
            pair.earlier_text,
            how_paired(pair),
            pair.wording_differs,
        )
        for number, pair in enumerate(view.pairs, 1)
    ]


def verdict_row(change: Change) -> VerdictRow:
    """A change as the verdict table shows it."""
    item = change.pair.text
    if change.pair.wording_differs:
        item += " †"
    return VerdictRow(
        branch=change.label,
        item=item,
        before=display.percent(change.before.favourable_rate),
        after=display.percent(change.after.favourable_rate),
        change=display.points(change.change.diff),
        interval=display.points_interval(change.change.diff_ci),
        verdict=display.change_words(change.change.change),
        direction=change.change.change,
        wording_differs=change.pair.wording_differs,
    )


def verdict_rows(view: StageView) -> list[VerdictRow]:
    """Every change, all branches first, then each branch by code."""
    return [verdict_row(change) for change in view.changes]


def unpaired_items(view: StageView) -> list[str]:
    """The later stage's items that no item of the other stage is compared with."""
    paired = {pair.key for pair in view.pairs}
    return [item.text for item in view.after.items if item.key not in paired]
