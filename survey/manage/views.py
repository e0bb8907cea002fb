"""View models of the manage area: the keying grid and the disagreements of two keyings.

Templates never compute; the grid's columns and the resolution page's rows are shaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import FieldList, Form, FormField, SelectField, StringField, SubmitField

from survey.forms import SiteForm
from survey.models import Branch, Survey
from survey.services.ballot_drafts import Difference
from survey.services.imports import Problem
from survey.services.paper_ballots import COMMENT_COLUMN

#: Rows a keying grid starts with, the most it may have, and how many "more rows" adds.
GRID_ROWS = 10
GRID_MAX_ROWS = 500
GRID_MORE = 10

# ---- keying grid ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GridColumn:
    """One column of the keying grid: the field name in a row and the ballots-file column."""

    field: str
    column: str
    label: str
    #: Whether typing 1..n picks the n-th option (items and categories).
    shortcuts: bool


def grid_layout(survey: Survey) -> list[GridColumn]:
    """The grid's columns in keying order (a comment last, when the survey takes comments)."""
    columns = [
        GridColumn("branch", "branch", _("Branch"), False),
        GridColumn("category", "category", _("Category"), True),
    ]
    for index, item in enumerate(survey.items):
        columns.append(GridColumn(f"item{index}", item.key, f"{index + 1}. {item.text}", True))
    if survey.allows_comments:
        columns.append(GridColumn("comment", COMMENT_COLUMN, _("Comment"), False))
    return columns


def _branch_choices(branches: Sequence[Branch]) -> list[tuple[str, str]]:
    return [("", "—")] + [(b.code, f"{b.code} {b.name}") for b in branches]


def _category_choices(survey: Survey) -> list[tuple[str, str]]:
    return [("", "—")] + [(c.key, f"{n} {c.label}") for n, c in enumerate(survey.categories, 1)]


def _option_choices(survey: Survey) -> list[tuple[str, str]]:
    return [("", "—")] + [(o.key, f"{n} {o.label}") for n, o in enumerate(survey.options, 1)]


def make_grid_form(survey: Survey, branches: Sequence[Branch], rows: int):
    """A form class with ``rows`` ballot rows of selects (more arrive if the script adds them)."""

    class BallotRow(Form):
        """One paper ballot: branch, category and one select per item."""

        # Rows the browser did not send (blank ones) are blank, not invalid.
        branch = SelectField(_l("Branch"), choices=_branch_choices(branches), default="")
        category = SelectField(_l("Category"), choices=_category_choices(survey), default="")

    options = _option_choices(survey)
    for index, item in enumerate(survey.items):
        setattr(BallotRow, f"item{index}", SelectField(item.text, choices=options, default=""))
    if survey.allows_comments:
        # The length is checked with the ballots-file rules (the message names the limit);
        # maxlength only stops the keyer's typing at it.
        BallotRow.comment = StringField(
            _l("Comment"), default="", render_kw={"maxlength": survey.comment_max_length}
        )

    class GridForm(SiteForm):
        """The keying grid: ballot rows and the buttons to save or add rows."""

        ballots = FieldList(FormField(BallotRow), min_entries=rows)
        more = SubmitField(_l("Add %(n)d rows", n=GRID_MORE))
        submit = SubmitField(_l("Save the keyed ballots"))

    return GridForm


def grid_rows(form, survey: Survey) -> tuple[list[dict[str, str]], list[int]]:
    """The non-blank rows of a submitted grid as ballots-file cells, and their grid indices.

    A row is blank when no item is answered and no comment written: Enter adds a row with the
    branch and category carried over, and the row left at the end must not block saving. (A
    ballot with no answers could not be stored anyway.)
    """
    layout = grid_layout(survey)
    content = [c.column for c in layout if c.field not in ("branch", "category")]
    rows, indices = [], []
    for index, entry in enumerate(form.ballots):
        cells = {c.column: (entry.form[c.field].data or "").strip() for c in layout}
        if any(cells[column] for column in content):
            rows.append(cells)
            indices.append(index)
    return rows, indices


def attach_problems(form, survey: Survey, problems: list[Problem], indices: list[int]) -> list[str]:
    """Put each problem next to its cell; return those that belong to no cell."""
    by_column = {c.column: c.field for c in grid_layout(survey)}
    loose = []
    for problem in problems:
        if problem.line is None or not 1 <= problem.line <= len(indices):
            loose.append(problem.message)
            continue
        entry = form.ballots[indices[problem.line - 1]]
        field = by_column.get(problem.field or "")
        if field is None:
            loose.append(_("Ballot %(n)d: %(message)s", n=problem.line, message=problem.message))
            continue
        errors = entry.form[field].errors
        if isinstance(errors, tuple):
            entry.form[field].errors = errors = list(errors)
        errors.append(problem.message)
    return loose


# ---- disagreements ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DisagreementRow:
    """One disagreement as the resolution page shows it."""

    name: str
    ballot: int
    column_label: str
    first: str
    second: str
    choices: list[tuple[str, str]]
    chosen: str
    error: str | None


#: The select value standing for "leave this cell blank" (the empty value means "not chosen").
BLANK = "-"


def value_labels(survey: Survey, branches: Sequence[Branch]) -> dict[str, dict[str, str]]:
    """For each ballots column, what each stored value is called on screen."""
    labels: dict[str, dict[str, str]] = {
        "branch": {b.code: f"{b.code} {b.name}" for b in branches},
        "category": {c.key: c.label for c in survey.categories},
    }
    options = {o.key: o.label for o in survey.options}
    for item in survey.items:
        labels[item.key] = options
    return labels


def choosable(labels: dict[str, dict[str, str]], difference: Difference) -> dict[str, str]:
    """What a disagreement may be settled to, value → label: any value of its column, or for
    a comment (free text) what either keyer typed."""
    if difference.column == COMMENT_COLUMN:
        return {text: text for text in (difference.first, difference.second) if text}
    return labels.get(difference.column, {})


def disagreement_rows(
    survey: Survey,
    branches: Sequence[Branch],
    found: list[Difference],
    submitted: dict[str, str] | None = None,
    missing: set[str] | None = None,
) -> list[DisagreementRow]:
    """The disagreements with their choices; ``submitted`` keeps what the admin chose."""
    labels = value_labels(survey, branches)
    titles = {c.column: c.label for c in grid_layout(survey)}
    rows = []
    for difference in found:
        named = choosable(labels, difference)
        name = f"d-{difference.ballot}-{difference.column}"

        def show(value: str, named=named) -> str:
            return named.get(value, value) if value else _("(blank)")

        choices = [("", _("Choose the value on the paper…")), (BLANK, _("(blank)"))]
        choices += list(named.items())
        rows.append(
            DisagreementRow(
                name=name,
                ballot=difference.ballot,
                column_label=titles.get(difference.column, difference.column),
                first=show(difference.first),
                second=show(difference.second),
                choices=choices,
                chosen=(submitted or {}).get(name, ""),
                error=_("Please choose a value.") if missing and name in missing else None,
            )
        )
    return rows


# ---- paper forms handed out -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoutCell:
    """One branch and category of the handout grid: its input's name and the figures so far."""

    name: str
    handed_out: int
    returned: int


@dataclass(frozen=True, slots=True)
class HandoutRow:
    """One branch of the handout grid."""

    branch: Branch
    cells: list[HandoutCell]


def handout_rows(survey: Survey, branches: Sequence[Branch], counts: dict) -> tuple[list, list]:
    """The survey's categories and a row per branch, from the turnout's cell counts."""
    rows = []
    for branch in branches:
        cells = []
        for category in survey.categories:
            found = counts.get((branch.id, category.id))
            cells.append(
                HandoutCell(
                    name=f"h-{branch.id}-{category.id}",
                    handed_out=found.paper_handed_out if found else 0,
                    returned=found.paper_ballots if found else 0,
                )
            )
        rows.append(HandoutRow(branch, cells))
    return list(survey.categories), rows


def read_handouts(data, rows: list[HandoutRow], categories: list) -> tuple[dict, dict[str, str]]:
    """The counts typed in the handout grid, (branch id, category id) → count, and a message per
    input that is not a whole number (a blank input means 0)."""
    counts, errors = {}, {}
    for row in rows:
        for category, cell in zip(categories, row.cells, strict=True):
            text = (data.get(cell.name) or "").strip()
            if not text:
                counts[(row.branch.id, category.id)] = 0
            elif text.isdigit() and text.isascii():
                counts[(row.branch.id, category.id)] = int(text)
            else:
                errors[cell.name] = _("Enter a whole number of forms (or leave it blank).")
    return counts, errors
