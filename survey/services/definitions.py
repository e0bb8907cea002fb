"""Survey definitions: what a survey asks and how it reports, and applying one to the database.

A :class:`SurveyDefinition` describes a survey completely; it is read from YAML by
:mod:`survey.services.definition_yaml` (``load-survey``) or built by the office's pages
(:mod:`survey.services.surveys`), and :func:`apply_definition` is the one place that creates or
changes a survey from it: the place that refuses what would falsify stored answers (a
questionnaire with responses keeps its items and scale, a category in use stays, the threshold
and the results setting only tighten) and that audits the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from survey.db import db
from survey.models import (
    Access,
    Campaign,
    CodeBatch,
    Item,
    RespondentCategory,
    Response,
    ResultsVisibility,
    ScaleOption,
    SealedBallot,
    Survey,
    SurveyKind,
    SurveyState,
    User,
)
from survey.services import audit
from survey.services.imports import Problem, Rejected
from survey.services.lookup import active_branches

#: Slugs of campaigns and surveys: they appear in addresses and file names.
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")
#: Keys of options, categories and items: column names of ballots files and exports.
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
#: Item keys that would clash with the questionnaire's own fields or a ballots file's columns.
RESERVED_ITEM_KEYS = frozenset({"code", "comment", "category", "csrf_token", "branch"})
#: Fewer respondents than this can never be shown without risking who answered what.
MIN_THRESHOLD = 3


@dataclass(frozen=True, slots=True)
class OptionDef:
    """One step of the rating scale."""

    key: str
    label: str
    weight: float
    favourable: bool


@dataclass(frozen=True, slots=True)
class CategoryDef:
    """One kind of respondent, with its optional share in the weighted composite."""

    key: str
    label: str
    weight: float | None = None


@dataclass(frozen=True, slots=True)
class ItemDef:
    """One rated aspect."""

    key: str
    text: str


@dataclass(frozen=True)
class SurveyDefinition:
    """Everything a YAML definition says about a survey and its campaign."""

    campaign_slug: str
    campaign_title: str
    slug: str
    title: str
    kind: SurveyKind
    access: Access
    threshold: int
    results: ResultsVisibility
    scale: tuple[OptionDef, ...]
    categories: tuple[CategoryDef, ...]
    items: tuple[ItemDef, ...]
    comments: bool = False
    comment_max_length: int = 2000
    min_rank_respondents: int = 30
    #: The favourable rate aimed for, as a share (the YAML writes a percentage); None: none.
    target: float | None = None
    welcome_text: str = ""
    thanks_text: str = ""
    #: Line of each top-level key in the file, for problems found later (not part of equality).
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LoadOutcome:
    """What loading a definition did."""

    survey: Survey
    created: bool
    changed: bool


# ---- loading ---------------------------------------------------------------------------------


def definition_of(survey: Survey) -> SurveyDefinition:
    """The definition that describes ``survey`` as it is stored."""
    return SurveyDefinition(
        campaign_slug=survey.campaign.slug,
        campaign_title=survey.campaign.title,
        slug=survey.slug,
        title=survey.title,
        kind=survey.kind,
        access=survey.access,
        threshold=survey.threshold,
        results=survey.results_visibility,
        scale=tuple(
            OptionDef(o.key, o.label, float(o.weight), o.is_favourable) for o in survey.options
        ),
        categories=tuple(
            CategoryDef(c.key, c.label, None if c.weight is None else float(c.weight))
            for c in survey.categories
        ),
        items=tuple(ItemDef(i.key, i.text) for i in survey.items),
        comments=survey.allows_comments,
        comment_max_length=survey.comment_max_length,
        min_rank_respondents=survey.min_rank_respondents,
        target=survey.target,
        welcome_text=survey.welcome_text or "",
        thanks_text=survey.thanks_text or "",
    )


def _locked_problems(survey: Survey, new: SurveyDefinition, source: str) -> list[Problem]:
    """Changes that would falsify stored responses, tallies or minted codes."""
    old = definition_of(survey)
    problems = []
    if db.session.scalar(survey.has_responses_select()) is not None:
        problems += _loosening_problems(survey, old, new, source)
        locked = {
            "items": _(
                "survey %(survey)s already has responses, so its items (keys, texts and "
                "order) can no longer change; create a new survey instead",
                survey=survey.slug,
            ),
            "scale": _(
                "survey %(survey)s already has responses, so its scale (keys, labels, "
                "weights and favourable options) can no longer change",
                survey=survey.slug,
            ),
        }
        problems += [
            Problem(source, new.lines.get(part), part, message)
            for part, message in locked.items()
            if getattr(old, part) != getattr(new, part)
        ]
    kept = {c.key for c in new.categories}
    for category in survey.categories:
        if category.key not in kept and _category_in_use(category):
            problems.append(
                Problem(
                    source,
                    new.lines.get("categories"),
                    "categories",
                    _(
                        'category "%(key)s" has responses or access codes and cannot be removed',
                        key=category.key,
                    ),
                )
            )
    return problems


def _category_in_use(category: RespondentCategory) -> bool:
    """Whether responses, sealed ballots or codes belong to the category."""
    return any(
        db.session.scalar(select(model.id).where(model.category_id == category.id).limit(1))
        is not None
        for model in (Response, SealedBallot, CodeBatch)
    )


def _loosening_problems(
    survey: Survey, old: SurveyDefinition, new: SurveyDefinition, source: str
) -> list[Problem]:
    """Once ballots exist, the threshold and the results setting may only become stricter:
    lowering k, or showing results live, would let two reports differ by fewer than k people."""
    problems = []
    if new.threshold < old.threshold:
        problems.append(
            Problem(
                source,
                new.lines.get("threshold"),
                "threshold",
                _(
                    "survey %(survey)s already has answers, so its threshold can only be raised "
                    "(it is %(old)d)",
                    survey=survey.slug,
                    old=old.threshold,
                ),
            )
        )
    if old.results is ResultsVisibility.AFTER_CLOSE and new.results is ResultsVisibility.LIVE:
        problems.append(
            Problem(
                source,
                new.lines.get("results"),
                "results",
                _(
                    "survey %(survey)s already has answers, so its results can no longer be "
                    "switched to live",
                    survey=survey.slug,
                ),
            )
        )
    return problems


#: Settings named with their old and new values in the audit entry of a change.
_AUDITED_SETTINGS = (
    "title",
    "kind",
    "access",
    "threshold",
    "results",
    "comments",
    "comment_max_length",
    "min_rank_respondents",
    "target",
)


def changes(old: SurveyDefinition, new: SurveyDefinition) -> str:
    """What a definition change does, for the audit trail: ``threshold=5->7 items=changed``."""
    parts = []
    for name in _AUDITED_SETTINGS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            parts.append(f"{name}={_audit_value(before)}->{_audit_value(after)}")
    for name in ("scale", "categories", "items"):
        if getattr(old, name) != getattr(new, name):
            parts.append(f"{name}=changed")
    if (old.welcome_text, old.thanks_text) != (new.welcome_text, new.thanks_text):
        parts.append("texts=changed")
    if old.campaign_title != new.campaign_title:
        parts.append("campaign_title=changed")
    return " ".join(parts)


def _audit_value(value: Any) -> str:
    text = str(getattr(value, "value", value))
    return text if " " not in text and text else repr(text)


def _sync(children: list, wanted: list, make, update) -> list:
    """Match stored children to wanted definitions by key: update, add, drop; keep the order."""
    by_key = {child.key: child for child in children}
    result = []
    for position, definition in enumerate(wanted):
        child = by_key.get(definition.key)
        if child is None:
            child = make(definition)
        update(child, definition)
        child.position = position
        result.append(child)
    return result


def _set_settings(survey: Survey, definition: SurveyDefinition) -> None:
    """Copy the definition's title and settings onto the survey."""
    survey.title = definition.title
    survey.kind = definition.kind
    survey.access = definition.access
    survey.threshold = definition.threshold
    survey.results_visibility = definition.results
    survey.allows_comments = definition.comments
    survey.comment_max_length = definition.comment_max_length
    survey.min_rank_respondents = definition.min_rank_respondents
    survey.target = definition.target
    survey.welcome_text = definition.welcome_text
    survey.thanks_text = definition.thanks_text


def _set_questionnaire(survey: Survey, definition: SurveyDefinition) -> None:
    """Make the survey's scale, categories and items those of the definition, by key."""

    def set_option(option: ScaleOption, d: OptionDef) -> None:
        option.label, option.weight, option.is_favourable = d.label, d.weight, d.favourable

    def set_category(category: RespondentCategory, d: CategoryDef) -> None:
        category.label, category.weight = d.label, d.weight

    def set_item(item: Item, d: ItemDef) -> None:
        item.text = d.text

    survey.options = _sync(
        survey.options, definition.scale, lambda d: ScaleOption(key=d.key), set_option
    )
    survey.categories = _sync(
        survey.categories,
        definition.categories,
        lambda d: RespondentCategory(key=d.key),
        set_category,
    )
    survey.items = _sync(survey.items, definition.items, lambda d: Item(key=d.key), set_item)


def apply_definition(definition: SurveyDefinition, source: str, user: User | None = None):
    """Create or update the campaign and survey, inside the caller's transaction.

    Raises :class:`Rejected` when the survey's responses or codes forbid a change.
    Returns the survey, whether it was created, and whether anything changed.
    """
    session = db.session
    campaign = session.scalar(select(Campaign).where(Campaign.slug == definition.campaign_slug))
    survey = session.scalar(select(Survey).where(Survey.slug == definition.slug))
    created = survey is None
    before = None if created else definition_of(survey)
    if survey is not None:
        problems = _locked_problems(survey, definition, source)
        if problems:
            raise Rejected(problems)
    if campaign is None:
        campaign = Campaign(
            slug=definition.campaign_slug,
            title=definition.campaign_title,
            branches=active_branches(),
        )
        session.add(campaign)
    campaign.title = definition.campaign_title
    if survey is None:
        survey = Survey(slug=definition.slug)
        session.add(survey)
    survey.campaign = campaign
    _set_settings(survey, definition)
    _set_questionnaire(survey, definition)
    if survey.state is SurveyState.OPEN and survey.results_visibility is ResultsVisibility.LIVE:
        survey.is_published = True
    session.flush()
    changed = created or before != definition
    if created:
        audit.record("survey.create", f"survey={survey.slug}", user=user)
    elif changed:
        detail = f"survey={survey.slug} {changes(before, definition)}".rstrip()
        audit.record("survey.update", detail, user=user)
    return LoadOutcome(survey, created, changed)
