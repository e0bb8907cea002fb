"""Which item of one stage is compared with which item of another, and the office's explicit
pairings.

Stages of a campaign are compared item by item. An item is paired with the other stage's item
of the same key, unless the office paired it explicitly (``Item.compares_with_id``, set on the
later stage's item and pointing at the earlier stage's): after a renumbering, say, or to stop a
key from pairing two questions that ask different things. An explicit pairing takes both items
out of pairing by key. Paired items whose wording differs are compared all the same, and every
page and export that shows the pair says so and asks the reader to judge.

Pairing changes no answer and no figure of either stage, only which rows a comparison puts side
by side, so it is allowed at any time, with results published or not, and recorded in the audit
log. What it refuses: pairing an item with one of its own survey, of another campaign, or of a
later (or the same) stage; pairing one earlier item with two items of the same survey.

This module does not import the report (the report imports it, to pair counts).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from analytics import SurveyCounts
from survey.db import db
from survey.models import Item, Survey, User
from survey.refusals import Conflict, Invalid
from survey.services import audit

#: Prefix that keeps an unpaired item's key from meeting a key of the other stage.
UNPAIRED = "\x00unpaired:"


@dataclass(frozen=True, slots=True)
class ItemPair:
    """One item of the later stage and the earlier stage's item it is compared with."""

    key: str
    earlier_key: str
    text: str
    earlier_text: str
    #: Paired by the office (``compares_with``) rather than by key.
    is_explicit: bool

    @property
    def wording_differs(self) -> bool:
        """Whether the two stages asked the question in different words (spaces aside)."""
        return "".join(self.text.split()) != "".join(self.earlier_text.split())


def is_earlier(earlier: Survey, later: Survey) -> bool:
    """Whether ``earlier`` is a stage before ``later`` in their campaign (stages are ordered as
    the campaign lists them: in the order they were created)."""
    if earlier.campaign_id != later.campaign_id or earlier.id == later.id:
        return False
    return earlier.id < later.id


def stage_order(first: Survey, second: Survey) -> tuple[Survey, Survey]:
    """The two stages as (earlier, later)."""
    return (first, second) if first.id < second.id else (second, first)


def item_pairs(later: Survey, earlier: Survey) -> list[ItemPair]:
    """The later stage's items that have a counterpart in the earlier stage, in the later
    questionnaire's order: explicit pairings first claimed, then equal keys."""
    earlier_items = {item.id: item for item in earlier.items}
    taken: set[int] = set()
    chosen: dict[int, tuple[Item, bool]] = {}
    for item in later.items:
        target = earlier_items.get(item.compares_with_id or -1)
        if target is not None and target.id not in taken:
            chosen[item.id] = (target, True)
            taken.add(target.id)
    by_key = {item.key: item for item in earlier.items}
    for item in later.items:
        if item.id in chosen:
            continue
        target = by_key.get(item.key)
        if target is not None and target.id not in taken:
            chosen[item.id] = (target, False)
            taken.add(target.id)
    return [
        ItemPair(item.key, target.key, item.text, target.text, explicit)
        for item in later.items
        if item.id in chosen
        for target, explicit in [chosen[item.id]]
    ]


def paired_counts(counts: SurveyCounts, survey: Survey, partner: Survey) -> SurveyCounts:
    """``survey``'s counts with its item keys renamed to the keys of the ``partner`` stage's
    items they are paired with, so that :func:`analytics.compare` (which pairs by key) pairs
    them as :func:`item_pairs` does; an unpaired item gets a key no item of ``partner`` has."""
    earlier, later = stage_order(survey, partner)
    pairs = item_pairs(later, earlier)
    if survey is earlier:
        rename = {p.earlier_key: p.key for p in pairs}
    else:
        rename = {p.key: p.earlier_key for p in pairs}
    keys = tuple(rename.get(key, UNPAIRED + key) for key in counts.item_keys)
    return dataclasses.replace(counts, item_keys=keys)


def candidates(item: Item) -> list[Item]:
    """The items of the campaign's earlier stages that ``item`` may be paired with."""
    survey = item.survey
    return [
        other
        for stage in survey.campaign.surveys
        if is_earlier(stage, survey)
        for other in stage.items
    ]


def pair_item(actor: User | None, item: Item, earlier: Item | None) -> Item:
    """Pair ``item`` explicitly with ``earlier`` (an item of an earlier stage of the same
    campaign), or with None go back to pairing by key. Audited; refused with
    :class:`~survey.refusals.Invalid` for an item of the same, a later or another campaign's
    survey, and :class:`~survey.refusals.Conflict` when another item of the survey is already
    paired with ``earlier``."""
    with db.transaction():
        if earlier is not None:
            _check_pairable(item, earlier)
        before = item.compares_with
        item.compares_with = earlier
        audit.record(
            "item.pair",
            f"survey={item.survey.slug} item={item.key} "
            f"from={_describe(before)} to={_describe(earlier)}",
            user=actor,
        )
    return item


def _check_pairable(item: Item, earlier: Item) -> None:
    if earlier.survey_id == item.survey_id:
        raise Invalid(_("An item cannot be compared with an item of its own survey."))
    if earlier.survey.campaign_id != item.survey.campaign_id:
        raise Invalid(_("Only stages of the same campaign can be compared."))
    if not is_earlier(earlier.survey, item.survey):
        raise Invalid(
            _(
                "%(survey)s is not an earlier stage than %(this)s: pair each item with the "
                "earlier stage's item.",
                survey=earlier.survey.title,
                this=item.survey.title,
            )
        )
    other = db.session.scalar(
        select(Item).where(
            Item.survey_id == item.survey_id,
            Item.compares_with_id == earlier.id,
            Item.id != item.id,
        )
    )
    if other is not None:
        raise Conflict(
            _(
                "Item %(other)s is already compared with “%(text)s”. Pair it with another "
                "item first.",
                other=other.key,
                text=earlier.text,
            )
        )


def _describe(item: Item | None) -> str:
    """An item as the audit log names it."""
    return "key" if item is None else f"{item.survey.slug}:{item.key}"
