"""What the respondent path reads of a survey: a snapshot taken with one or two small queries.

A respondent's request needs a survey's state, title and settings, and its items, scale and
categories. Loading them as ORM objects with their relationships took longer than everything
else in the request put together, and the respondent path is the one that has to hold up
under a whole hall at once. :func:`load_questionnaire` reads the same rows with plain SELECTs
into frozen dataclasses: on PostgreSQL one (the survey row joined to its items, scale and
categories, one UNION ALL: :func:`definitions`), on SQLite two (see :func:`_statements`); the
code look-up joins the same to the code. It reads them on every request, so an edited survey
is never served from a stale copy. The snapshot has the attribute names of
:class:`~survey.models.Survey` that the form builder and the response service use, so both
accept either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from sqlalchemy import (
    Float,
    Integer,
    Select,
    bindparam,
    literal,
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
    #: The office's welcome text shown above the questions (plain text), or None.
    welcome_text: str | None
    items: tuple[ItemRow, ...]
    options: tuple[OptionRow, ...]
    categories: tuple[CategoryRow, ...]

    @property
    def is_open(self) -> bool:
        return self.state is SurveyState.OPEN

    def category(self, key: str) -> CategoryRow | None:
        """The category keyed ``key``, if the survey has one."""
        return next((c for c in self.categories if c.key == key), None)


#: The survey row's columns, in the order :class:`Questionnaire` takes them.
SURVEY_COLUMNS = (
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
    Survey.welcome_text,
)


@cache
def definitions():
    """Every survey's items, scale options and categories as one UNION ALL subquery:
    (survey_id, kind 0/1/2, id, key, label, weight, position).

    Joined to a survey (or to a code's survey) on ``survey_id``, PostgreSQL reads only that
    survey's rows through the three (survey_id, key) indexes.
    """
    return union_all(
        select(
            Item.survey_id,
            literal(0, Integer).label("kind"),
            Item.id,
            Item.key,
            Item.text.label("label"),
            literal(None, Float).label("weight"),
            Item.position,
        ),
        select(
            ScaleOption.survey_id,
            literal(1, Integer),
            ScaleOption.id,
            ScaleOption.key,
            ScaleOption.label,
            ScaleOption.weight,
            ScaleOption.position,
        ),
        select(
            RespondentCategory.survey_id,
            literal(2, Integer),
            RespondentCategory.id,
            RespondentCategory.key,
            RespondentCategory.label,
            literal(None, Float),
            RespondentCategory.position,
        ),
    ).subquery("definition")


def definition_columns(definition) -> list:
    """The definition's columns, named ``def_*`` so they can sit beside a survey's row."""
    return [
        definition.c[name].label(f"def_{name}")
        for name in ("kind", "id", "key", "label", "weight", "position")
    ]


@cache
def _statements(joined: bool) -> tuple[Select, Select, Select]:
    """The queries, built once: building a statement costs more than running it, and a reused
    statement also keeps its cache key.

    ``joined``: a survey comes with its definition in one query (PostgreSQL, where the join
    reads only that survey's rows). SQLite would materialise every survey's definition for the
    join, and costs no round trip per query anyway, so there the definition is a second query.
    """
    definition = definitions()
    only_definition = (
        select(*definition_columns(definition))
        .where(definition.c.survey_id == bindparam("survey_id"))
        .order_by(definition.c.kind, definition.c.position)
    )
    survey = select(*SURVEY_COLUMNS)
    if joined:
        survey = (
            select(*SURVEY_COLUMNS, *definition_columns(definition))
            .outerjoin(definition, definition.c.survey_id == Survey.id)
            .order_by(definition.c.kind, definition.c.position)
        )
    by_id = survey.where(Survey.id == bindparam("survey_id"))
    by_slug = survey.where(Survey.slug == bindparam("slug"))
    return by_id, by_slug, only_definition


def joins_definitions() -> bool:
    """Whether this database reads a survey and its definition in one query."""
    return db.session.get_bind().dialect.name == "postgresql"


def load_questionnaire(
    survey_id: int | None = None, *, slug: str | None = None
) -> Questionnaire | None:
    """The survey with id ``survey_id`` (or slug ``slug``) as a snapshot, or None."""
    session = db.session
    joined = joins_definitions()
    by_id, by_slug, _definition = _statements(joined)
    if slug is None:
        rows = session.execute(by_id, {"survey_id": survey_id}).all()
    else:
        rows = session.execute(by_slug, {"slug": slug}).all()
    if not rows:
        return None
    if joined:
        return questionnaire_from_rows([row._mapping for row in rows])
    return questionnaire_from_row(rows[0]._mapping)


def questionnaire_from_row(survey) -> Questionnaire:
    """The snapshot of a survey whose row (:data:`SURVEY_COLUMNS`, by name) was already read:
    one more query for its items, scale and categories."""
    rows = db.execute(_statements(False)[2], {"survey_id": survey["id"]}).all()
    return _snapshot(survey, [row._mapping for row in rows])


def questionnaire_from_rows(rows) -> Questionnaire:
    """The snapshot of a survey read with its definition joined: every row holds the survey's
    columns and one item, option or category (``def_*``, None for a survey without any)."""
    return _snapshot(rows[0], [row for row in rows if row["def_kind"] is not None])


def _snapshot(survey, definition) -> Questionnaire:
    items, options, categories = [], [], []
    for r in definition:
        kind = r["def_kind"]
        if kind == 0:
            items.append(ItemRow(r["def_id"], r["def_key"], r["def_label"]))
        elif kind == 1:
            options.append(OptionRow(r["def_id"], r["def_key"], r["def_label"], r["def_weight"]))
        else:
            categories.append(CategoryRow(r["def_id"], r["def_key"], r["def_label"]))
    return Questionnaire(
        **{column.key: survey[column.key] for column in SURVEY_COLUMNS},
        items=tuple(items),
        options=tuple(options),
        categories=tuple(categories),
    )


def thanks_page(slug: str) -> tuple[str | None, bool]:
    """What the thank-you page of the survey ``slug`` says: the office's thank-you text (plain
    text, or None) and whether the survey is answered through an open link (no code to speak
    of). Ends the read."""
    row = db.session.execute(
        select(Survey.thanks_text, Survey.access).where(Survey.slug == slug)
    ).first()
    db.session.commit()
    if row is None:
        return None, False
    return row.thanks_text or None, row.access is Access.LINK


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
