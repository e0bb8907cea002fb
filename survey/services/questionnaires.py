"""What the respondent path reads of a survey: a snapshot taken with two small queries.

A respondent's request needs a survey's state, title and settings, and its items, scale and
categories. Loading them as ORM objects with their relationships took longer than everything
else in the request put together, and the respondent path is the one that has to hold up
under a whole hall at once. :func:`load_questionnaire` reads the same rows with plain SELECTs
(the survey row, then its items, scale and categories in one UNION ALL) into frozen
dataclasses. It reads them on every request, so an edited survey is never served from a stale
copy. The snapshot has the attribute names of :class:`~survey.models.Survey` that the form
builder and the response service use, so both accept either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from sqlalchemy import (
    CompoundSelect,
    Float,
    Integer,
    Select,
    bindparam,
    literal,
    literal_column,
    select,
    union_all,
)

from survey.db import db
from survey.models import (
    Access,
    Item,
    RespondentCategory,
    ScaleOption,
    Survey,
    SurveyState,
)


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: int
    key: str
    text: str


@dataclass(frozen=True, slots=True)
class OptionRow:
    id: int
    key: str
    label: str
    weight: float


@dataclass(frozen=True, slots=True)
class CategoryRow:
    id: int
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A survey as a respondent meets it, read in one snapshot."""

    id: int
    slug: str
    title: str
    state: SurveyState
    access: Access
    is_test_mode: bool
    allows_comments: bool
    comment_max_length: int
    threshold: int
    is_published: bool
    items: tuple[ItemRow, ...]
    options: tuple[OptionRow, ...]
    categories: tuple[CategoryRow, ...]

    @property
    def is_open(self) -> bool:
        return self.state is SurveyState.OPEN

    def category(self, key: str) -> CategoryRow | None:
        """The category keyed ``key``, if the survey has one."""
        return next((c for c in self.categories if c.key == key), None)


_SURVEY_COLUMNS = (
    Survey.id,
    Survey.slug,
    Survey.title,
    Survey.state,
    Survey.access,
    Survey.is_test_mode,
    Survey.allows_comments,
    Survey.comment_max_length,
    Survey.threshold,
    Survey.is_published,
)


@cache
def _statements() -> tuple[Select, Select, CompoundSelect]:
    """The three queries, built once: building a statement costs more than running it, and a
    reused statement also keeps its cache key."""
    by_id = select(*_SURVEY_COLUMNS).where(Survey.id == bindparam("survey_id"))
    by_slug = select(*_SURVEY_COLUMNS).where(Survey.slug == bindparam("slug"))
    survey_id = bindparam("survey_id")
    definition = union_all(
        select(
            literal(0, Integer).label("kind"),
            Item.id,
            Item.key,
            Item.text.label("label"),
            literal(None, Float).label("weight"),
            Item.position,
        ).where(Item.survey_id == survey_id),
        select(
            literal(1, Integer),
            ScaleOption.id,
            ScaleOption.key,
            ScaleOption.label,
            ScaleOption.weight,
            ScaleOption.position,
        ).where(ScaleOption.survey_id == survey_id),
        select(
            literal(2, Integer),
            RespondentCategory.id,
            RespondentCategory.key,
            RespondentCategory.label,
            literal(None, Float),
            RespondentCategory.position,
        ).where(RespondentCategory.survey_id == survey_id),
    ).order_by(literal_column("kind"), literal_column("position"))
    return by_id, by_slug, definition


def load_questionnaire(
    survey_id: int | None = None, *, slug: str | None = None
) -> Questionnaire | None:
    """The survey with id ``survey_id`` (or slug ``slug``) as a snapshot, or None."""
    session = db.session
    by_id, by_slug, definition = _statements()
    if slug is None:
        row = session.execute(by_id, {"survey_id": survey_id}).first()
    else:
        row = session.execute(by_slug, {"slug": slug}).first()
    if row is None:
        return None
    rows = session.execute(definition, {"survey_id": row.id}).all()
    items = [ItemRow(r.id, r.key, r.label) for r in rows if r.kind == 0]
    options = [OptionRow(r.id, r.key, r.label, r.weight) for r in rows if r.kind == 1]
    categories = [CategoryRow(r.id, r.key, r.label) for r in rows if r.kind == 2]
    return Questionnaire(
        **row._asdict(),
        items=tuple(items),
        options=tuple(options),
        categories=tuple(categories),
    )


#: What a write transaction reads again before it stores anything.
_REFRESHED = (
    Survey.state,
    Survey.access,
    Survey.is_test_mode,
    Survey.threshold,
    Survey.is_published,
)


@cache
def _refresh_statement() -> Select:
    return select(*_REFRESHED).where(Survey.id == bindparam("survey_id"))


def refreshed(questionnaire: Questionnaire) -> Questionnaire | None:
    """The snapshot with its state, access, test mode, threshold and publication read again, or
    None if the survey is gone: a write transaction checks these once more before it stores
    anything."""
    row = db.session.execute(_refresh_statement(), {"survey_id": questionnaire.id}).first()
    return None if row is None else replace(questionnaire, **row._asdict())
