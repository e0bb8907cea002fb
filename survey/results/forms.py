"""Forms of the results area: GET selectors that change what a page shows, never any data.

They are plain WTForms forms read from the query string, so they carry no CSRF token (nothing is
changed by them) and a chosen view can be bookmarked or printed.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField, SubmitField

from survey.models import Survey
from survey.results.charts import COMPOSITE
from survey.services.report import Question


def item_choices(items: Sequence[Question]) -> list[tuple[str, str]]:
    """The composite first, then every item of the report by its text."""
    return [(COMPOSITE, str(_l("All items (mean)")))] + [
        (item.key, f"{item.number}. {item.text}") for item in items
    ]


class ItemForm(Form):
    """Which item the rank chart, funnel and distribution show."""

    item = SelectField(_l("Item"), default=COMPOSITE, validate_choice=True)
    submit = SubmitField(_l("Show"))

    def __init__(self, args: MultiDict, items: Sequence[Question]):
        """Read ``?item=`` against the report's items."""
        super().__init__(args)
        self.item.choices = item_choices(items)
        self.item.errors = []
        if not self.item.data:
            self.item.data = COMPOSITE

    def chosen(self) -> str | None:
        """The chosen item key (or the composite); None when the query names no such item."""
        valid = {value for value, _label in self.item.choices}
        return self.item.data if self.item.data in valid else None


class CompareForm(Form):
    """Two stages of one campaign to compare, and the item to draw."""

    a = SelectField(_l("Earlier stage (before)"))
    b = SelectField(_l("Later stage (after)"))
    item = SelectField(_l("Item"))
    submit = SubmitField(_l("Compare"))

    def __init__(self, args: MultiDict, surveys: list[Survey]):
        """Offer every survey of the campaign; default to the first and last whose results are
        out (an open survey's sealed results cannot be compared), else its first and last."""
        super().__init__(args)
        self.surveys = {s.slug: s for s in surveys}
        self.a.choices = [(s.slug, s.title) for s in surveys]
        self.b.choices = [(s.slug, s.title) for s in surveys]
        readable = [s for s in surveys if not s.results_are_sealed]
        defaults = readable if len(readable) >= 2 else surveys
        if not args.get("a") and defaults:
            self.a.data = defaults[0].slug
        if not args.get("b") and defaults:
            self.b.data = defaults[-1].slug

    def chosen(self) -> tuple[Survey, Survey] | None:
        """The two surveys, or None when either is not a survey of this campaign."""
        before, after = self.surveys.get(self.a.data or ""), self.surveys.get(self.b.data or "")
        if before is None or after is None:
            return None
        return before, after

    def set_items(self, items: Sequence[Question]) -> str | None:
        """Offer the items both stages share; return the chosen key (None if not offered)."""
        self.item.choices = [
            (item.key, f"{number}. {item.text}") for number, item in enumerate(items, 1)
        ]
        if not self.item.data and items:
            self.item.data = items[0].key
        return self.item.data if any(i.key == self.item.data for i in items) else None
