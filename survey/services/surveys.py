"""Editing campaigns and surveys in the browser, and moving surveys through their lifecycle.

Every change to a survey's questionnaire goes through the definitions service
(:func:`survey.services.definitions.apply_definition`), the same path as ``load-survey``: one
place enforces that a survey with responses keeps its items and scale (changing a question after
answers were given would mix answers to different questions) and that a category with codes or
responses is not removed, and one place audits the change.

The lifecycle (opening, closing, test mode) is :mod:`survey.services.lifecycle`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from survey.db import db
from survey.models import (
    Access,
    Campaign,
    ResultsVisibility,
    Survey,
    SurveyKind,
    User,
)
from survey.refusals import Conflict, Invalid
from survey.services import audit, lifecycle
from survey.services.definition_yaml import parse_definition
from survey.services.definitions import (
    CategoryDef,
    ItemDef,
    OptionDef,
    SurveyDefinition,
    apply_definition,
    definition_of,
)
from survey.services.imports import Rejected
from survey.services.lookup import active_branches
from survey.services.naming import next_item_key, suggest_slug

#: Where the questionnaires of the 2005 campaign (the demo) are kept as YAML definitions.
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "demo"

#: Source name of changes made in the browser, shown in problems and audit entries.
SOURCE = "web"
#: Settings whose refusals name the settings form's field.
_SETTING_FIELDS = frozenset({"threshold", "results"})

#: Ready-made scales: name → (label, options).
PRESET_SCALES: dict[str, tuple[str, tuple[OptionDef, ...]]] = {
    "four_level": (
        _l("Four levels: 好 / 比較好 / 一般 / 差 (100 / 80 / 60 / 0)"),
        (
            OptionDef("good", "好", 100.0, True),
            OptionDef("fairly_good", "比較好", 80.0, True),
            OptionDef("average", "一般", 60.0, False),
            OptionDef("poor", "差", 0.0, False),
        ),
    ),
    "three_level": (
        _l("Three levels: 滿意 / 基本滿意 / 不滿意 (100 / 60 / 0)"),
        (
            OptionDef("satisfied", "滿意", 100.0, True),
            OptionDef("basically_satisfied", "基本滿意", 60.0, True),
            OptionDef("dissatisfied", "不滿意", 0.0, False),
        ),
    ),
}

#: Categories a new blank survey starts with.
DEFAULT_CATEGORIES = (CategoryDef("member", "黨員"), CategoryDef("public", "羣眾"))


@dataclass(frozen=True, slots=True)
class Template:
    """A questionnaire to start a new survey from."""

    name: str
    title: str
    kind: SurveyKind
    definition: SurveyDefinition


def templates() -> list[Template]:
    """The questionnaires of the 2005 campaign (``survey/demo/*.yaml``) that parse cleanly."""
    found = []
    for path in sorted(TEMPLATE_DIR.glob("*.yaml")):
        definition, problems = parse_definition(path.read_text(encoding="utf-8"), path.name)
        if definition is not None and not problems:
            found.append(Template(path.stem, definition.title, definition.kind, definition))
    return found


def find_template(name: str) -> Template | None:
    """The template called ``name``, or None."""
    return next((t for t in templates() if t.name == name), None)


def is_locked(survey: Survey) -> bool:
    """Whether the survey has responses, so that its items and scale may no longer change."""
    return db.session.scalar(survey.has_responses_select()) is not None


def preset_of(survey: Survey) -> str | None:
    """The name of the preset scale the survey uses, or None for a scale of its own."""
    current = definition_of(survey).scale
    return next((name for name, (_label, scale) in PRESET_SCALES.items() if scale == current), None)


def slug_taken(model: type[Campaign] | type[Survey], slug: str) -> bool:
    """Whether a campaign or survey already uses ``slug``."""
    return db.session.scalar(select(model.id).where(model.slug == slug).limit(1)) is not None


# ---- campaigns --------------------------------------------------------------------------------


def create_campaign(actor: User, slug: str | None, title: str) -> Campaign:
    """Create a campaign measuring every active branch; audited. A blank ``slug`` is made from
    the title (:func:`survey.services.naming.suggest_slug`)."""
    slug = (slug or "").strip() or suggest_slug(Campaign, title)
    if slug_taken(Campaign, slug):
        raise Invalid(_("This short name is already used by another campaign."), field="slug")
    with db.transaction() as session:
        campaign = Campaign(slug=slug, title=title.strip(), branches=active_branches())
        session.add(campaign)
        session.flush()
        audit.record("campaign.create", f"campaign={slug}", user=actor)
    return campaign


def update_campaign(actor: User, campaign: Campaign, title: str) -> None:
    """Rename a campaign; audited."""
    with db.transaction():
        if campaign.title != title.strip():
            detail = audit.change("title", campaign.title, title.strip())
            campaign.title = title.strip()
            audit.record("campaign.update", f"campaign={campaign.slug} {detail}", user=actor)


# ---- surveys ----------------------------------------------------------------------------------


def _apply(actor: User, definition: SurveyDefinition) -> Survey:
    """Apply a definition in one transaction; the definitions service's refusals become ours."""
    try:
        with db.transaction():
            outcome = apply_definition(definition, SOURCE, user=actor)
    except Rejected as rejected:
        # A refused setting is shown next to its field; a locked questionnaire above the form.
        fields = {p.field for p in rejected.problems}
        messages = [p.message for p in rejected.problems]
        if len(fields) == 1 and fields <= _SETTING_FIELDS:
            raise Invalid(messages, field=fields.pop()) from None
        raise Conflict(messages) from None
    return outcome.survey


def _change(actor: User, survey: Survey, **changes) -> Survey:
    """Apply the survey's own definition with ``changes``."""
    return _apply(actor, dataclasses.replace(definition_of(survey), **changes))


def create_survey(
    actor: User,
    campaign: Campaign,
    slug: str | None,
    title: str,
    kind: SurveyKind,
    start: str = "blank",
) -> Survey:
    """Create a survey: blank, from a template (``template:<name>``) or a copy (``copy:<id>``).

    A copy keeps the source's item keys, scale, categories and settings, so that two stages of
    a campaign can be compared item by item; its state, codes and responses are not copied.
    A blank ``slug`` is made from the title.
    """
    slug = (slug or "").strip() or suggest_slug(Survey, title)
    if slug_taken(Survey, slug):
        raise Invalid(_("This short name is already used by another survey."), field="slug")
    common = {
        "campaign_slug": campaign.slug,
        "campaign_title": campaign.title,
        "slug": slug,
        "title": title.strip(),
        "kind": kind,
    }
    kind_name, _sep, ref = start.partition(":")
    if kind_name == "template":
        template = find_template(ref)
        if template is None:
            raise Invalid(_("This template does not exist."), field="start")
        definition = dataclasses.replace(template.definition, **common)
    elif kind_name == "copy":
        source = db.session.get(Survey, int(ref)) if ref.isdigit() else None
        if source is None:
            raise Invalid(_("The survey to copy does not exist."), field="start")
        definition = dataclasses.replace(definition_of(source), **common)
    elif kind_name == "blank":
        scale = PRESET_SCALES["three_level" if kind is SurveyKind.SATISFACTION else "four_level"]
        definition = SurveyDefinition(
            access=Access.CODES,
            threshold=5,
            results=ResultsVisibility.AFTER_CLOSE,
            scale=scale[1],
            categories=DEFAULT_CATEGORIES,
            items=(),
            **common,
        )
    else:
        raise Invalid(_("Choose how to start the survey."), field="start")
    survey = _apply(actor, definition)
    if kind_name == "copy":
        with db.transaction():
            audit.record("survey.copy", f"survey={slug} from={ref}", user=actor)
    return survey


@dataclass(frozen=True, slots=True)
class SurveyTexts:
    """A survey's target, texts and schedule (``opens_at`` and ``closes_at`` naive UTC)."""

    target: float | None = None
    welcome_text: str = ""
    thanks_text: str = ""
    opens_at: datetime | None = None
    closes_at: datetime | None = None


def _texts_problems(survey: Survey, texts: SurveyTexts) -> list[tuple[str, str]]:
    """Problems of a target, texts and schedule, as (field, message)."""
    problems = []
    if texts.target is not None and not 0 < texts.target <= 1:
        problems.append(("target", _("A percentage between 1 and 100, such as 90.")))
    if texts.opens_at and texts.closes_at and texts.opens_at >= texts.closes_at:
        problems.append(("closes_at", _("The closing time must come after the opening time.")))
    now = lifecycle.utc_now()
    for name in ("opens_at", "closes_at"):
        wanted = getattr(texts, name)
        if wanted is not None and wanted != getattr(survey, name) and wanted <= now:
            problems.append((name, _("This time has already passed.")))
    return problems


def set_texts(actor: User | None, survey: Survey, texts: SurveyTexts) -> None:
    """Store the survey's target, welcome and thank-you texts and schedule; audited (the texts
    by their length only, the times in UTC)."""
    problems = _texts_problems(survey, texts)
    if problems:
        raise Invalid([m for _f, m in problems], field=problems[0][0])
    with db.transaction():
        changed = []
        for name in ("target", "welcome_text", "thanks_text", "opens_at", "closes_at"):
            value = getattr(texts, name)
            if isinstance(value, str):
                value = value.strip()
            if getattr(survey, name) != value:
                changed.append(audit.change(name, getattr(survey, name), value))
                setattr(survey, name, value)
        if changed:
            audit.record("survey.texts", f"survey={survey.slug} {' '.join(changed)}", user=actor)


def update_settings(
    actor: User,
    survey: Survey,
    *,
    title: str,
    kind: SurveyKind,
    access: Access,
    threshold: int,
    results: ResultsVisibility,
    comments: bool,
    comment_max_length: int,
    min_rank_respondents: int,
    texts: SurveyTexts | None = None,
) -> None:
    """Change the survey's title and settings (never its questionnaire), and with ``texts`` its
    target, texts and schedule (checked before anything is stored)."""
    if texts is not None:
        problems = _texts_problems(survey, texts)
        if problems:
            raise Invalid([m for _f, m in problems], field=problems[0][0])
    _change(
        actor,
        survey,
        title=title.strip(),
        kind=kind,
        access=access,
        threshold=threshold,
        results=results,
        comments=comments,
        comment_max_length=comment_max_length,
        min_rank_respondents=min_rank_respondents,
    )
    if texts is not None:
        set_texts(actor, survey, texts)


# ---- questionnaire ----------------------------------------------------------------------------


def _items(survey: Survey) -> list[ItemDef]:
    return list(definition_of(survey).items)


def _check_key_free(items: list[ItemDef], key: str, except_index: int | None = None) -> None:
    for index, item in enumerate(items):
        if index != except_index and item.key.casefold() == key.casefold():
            raise Invalid(_("Another item already uses this key."), field="key")


def suggested_item_key(survey: Survey) -> str:
    """The key a new item of the survey gets when none is typed (``q7`` after ``q6``)."""
    return next_item_key(item.key for item in _items(survey))


def add_item(actor: User, survey: Survey, key: str | None, text: str) -> None:
    """Append an item to the questionnaire; a blank ``key`` gets the next free one."""
    items = _items(survey)
    key = (key or "").strip() or next_item_key(i.key for i in items)
    _check_key_free(items, key)
    items.append(ItemDef(key, text.strip()))
    _change(actor, survey, items=tuple(items))


def _index(survey: Survey, item_id: int) -> int:
    for index, item in enumerate(survey.items):
        if item.id == item_id:
            return index
    raise LookupError(item_id)


def update_item(actor: User, survey: Survey, item_id: int, key: str | None, text: str) -> None:
    """Change an item's key and text (a blank ``key`` keeps the item's key)."""
    items = _items(survey)
    index = _index(survey, item_id)
    key = (key or "").strip() or items[index].key
    _check_key_free(items, key, except_index=index)
    items[index] = ItemDef(key, text.strip())
    _change(actor, survey, items=tuple(items))


def move_item(actor: User, survey: Survey, item_id: int, direction: str) -> None:
    """Move an item one place up or down; at either end nothing changes."""
    items = _items(survey)
    index = _index(survey, item_id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return
    items[index], items[other] = items[other], items[index]
    _change(actor, survey, items=tuple(items))


def remove_item(actor: User, survey: Survey, item_id: int) -> None:
    """Remove an item from the questionnaire."""
    items = _items(survey)
    del items[_index(survey, item_id)]
    _change(actor, survey, items=tuple(items))


def set_scale(actor: User, survey: Survey, options: list[OptionDef]) -> None:
    """Replace the rating scale (best option first)."""
    if len(options) < 2:
        raise Invalid(_("A scale needs at least two options."))
    if {o.favourable for o in options} != {True, False}:
        raise Invalid(_("A scale needs at least one favourable and one unfavourable option."))
    seen: set[str] = set()
    for option in options:
        for name in {option.key.casefold(), option.label.casefold()}:
            if name in seen:
                raise Invalid(_('"%(value)s" is used twice in the scale.', value=option.label))
            seen.add(name)
    _change(actor, survey, scale=tuple(options))


def set_categories(actor: User, survey: Survey, categories: list[CategoryDef]) -> None:
    """Replace the respondent categories; one with codes or responses cannot be removed."""
    if not categories:
        raise Invalid(_("A survey needs at least one respondent category."))
    weighted = [c.weight is not None for c in categories]
    if any(weighted) and not all(weighted):
        raise Invalid(_("When one category has a weight, every category needs one."))
    seen: set[str] = set()
    for category in categories:
        for name in {category.key.casefold(), category.label.casefold()}:
            if name in seen:
                raise Invalid(
                    _('"%(value)s" is used twice among the categories.', value=category.label)
                )
            seen.add(name)
    _change(actor, survey, categories=tuple(categories))
