"""Paper ballots in a file: the columns, the checks and the drop into the ballot box.

A ballots file (``import-responses``, the upload page) and the keying grid hold the same
columns: ``branch`` (code), ``category`` (key or label), one per item key (option key or label;
blank = unanswered) and an optional ``comment``. :func:`parse_ballots` checks every row by the
same rules for all of them and reports each problem with its line and column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    Branch,
    PaperHandout,
    RespondentCategory,
    Source,
    Survey,
    SurveyState,
    User,
)
from survey.refusals import Invalid
from survey.services import audit, ballot_box
from survey.services.imports import Problem, Row, Table, folded, read_table
from survey.services.responses import resolve_answers


@dataclass(frozen=True, slots=True)
class Ballot:
    """One paper ballot, checked and resolved to ids, ready for the ballot box."""

    line: int
    branch_id: int
    category_id: int
    #: item id → option id; unanswered items are absent.
    answers: dict[int, int]
    comment: str | None


#: The optional last column of a ballots file (only a survey that takes comments may fill it).
COMMENT_COLUMN = "comment"


def ballot_columns(survey: Survey) -> list[str]:
    """The columns every ballots file (and keying grid) for ``survey`` has: branch, category
    and one per item key. :data:`COMMENT_COLUMN` may follow."""
    return ["branch", "category", *(item.key for item in survey.items)]


def ballot_vocabulary(survey: Survey) -> list[str]:
    """Words a ballots file for ``survey`` is expected to contain (for choosing its encoding)."""
    names = db.session.scalars(select(Branch.name)).all()
    return [
        *names,
        *(option.label for option in survey.options),
        *(category.label for category in survey.categories),
        *(item.text for item in survey.items),
    ]


def read_ballots(survey: Survey, data: bytes, source: str) -> Table:
    """Read a ballots file for ``survey`` (CSV in any accepted encoding, or .xlsx)."""
    return read_table(data, source, ballot_vocabulary(survey))


def parse_ballots(survey: Survey, table: Table) -> tuple[list[Ballot], list[Problem]]:
    """Check every row of a ballots table and resolve it; return the ballots and all problems.

    Header ``branch,category,<item keys…>[,comment]``; cells hold option keys or labels, a blank
    cell is an unanswered item; the category is given by key or label, the branch by code.
    """
    source = table.source
    problems: list[Problem] = []
    if survey.state is SurveyState.DRAFT:
        problems.append(
            Problem(
                source,
                None,
                None,
                _(
                    "survey %(survey)s is still a draft: open it before keying in paper ballots",
                    survey=survey.slug,
                ),
            )
        )
    required = ballot_columns(survey)
    header_problems = table.check_header([*required, COMMENT_COLUMN], required)
    if header_problems:
        return [], problems + header_problems
    problems += table.extra_cells()
    lookup = _BallotLookup.of(survey)
    ballots = []
    for row in table.rows:
        ballot, row_problems = lookup.check(row)
        problems += (Problem(source, row.line, column, message) for column, message in row_problems)
        if ballot is not None:
            ballots.append(ballot)
    if not table.rows:
        problems.append(Problem(source, None, None, _("the file contains no ballots")))
    return ballots, problems


@dataclass(frozen=True)
class _BallotLookup:
    """What a ballot's cells may name, folded for matching: branches, categories, options."""

    survey: Survey
    branches: dict[str, Branch]
    categories: dict[str, RespondentCategory]
    option_keys: dict[str, str]

    @classmethod
    def of(cls, survey: Survey) -> _BallotLookup:
        """Build the lookups once per file; keys win over labels, earlier entries over later."""
        categories: dict[str, RespondentCategory] = {}
        option_keys: dict[str, str] = {}
        for category in reversed(survey.categories):
            categories[folded(category.label)] = category
        for category in reversed(survey.categories):
            categories[folded(category.key)] = category
        for option in reversed(survey.options):
            option_keys[folded(option.label)] = option.key
        for option in reversed(survey.options):
            option_keys[folded(option.key)] = option.key
        branches = {folded(b.code): b for b in db.session.scalars(select(Branch))}
        return cls(survey, branches, categories, option_keys)

    def check(self, row: Row) -> tuple[Ballot | None, list[tuple[str | None, str]]]:
        """The row's ballot (None if it has problems) and its problems as (column, message)."""
        survey = self.survey
        problems: list[tuple[str | None, str]] = []
        code = row.get("branch")
        branch = self.branches.get(folded(code))
        if not code:
            problems.append(("branch", _("the branch code is missing")))
        elif branch is None:
            problems.append(("branch", _('unknown branch "%(code)s"', code=code)))
        category_text = row.get("category")
        category = self.categories.get(folded(category_text))
        if not category_text:
            problems.append(("category", _("the respondent category is missing")))
        elif category is None:
            expected = ", ".join(c.label for c in survey.categories)
            message = _(
                'unknown category "%(value)s" (expected one of: %(expected)s)',
                value=category_text,
                expected=expected,
            )
            problems.append(("category", message))
        by_key = {}
        for item in survey.items:
            value = row.get(item.key)
            by_key[item.key] = self.option_keys.get(folded(value), value) if value else ""
        answers, unknown = resolve_answers(survey, by_key)
        expected = ", ".join(option.label for option in survey.options)
        for key, value in unknown.items():
            message = _(
                'unknown option "%(value)s" (expected one of: %(expected)s)',
                value=value,
                expected=expected,
            )
            problems.append((key, message))
        comment = row.get("comment") or None
        if comment and not survey.allows_comments:
            problems.append(("comment", _("this survey takes no comments")))
        elif comment and len(comment) > survey.comment_max_length:
            message = _(
                "the comment is %(length)d characters long; at most %(limit)d are allowed",
                length=len(comment),
                limit=survey.comment_max_length,
            )
            problems.append(("comment", message))
        if not answers and not comment and not unknown:
            problems.append((None, _("the ballot has no answers")))
        if problems:
            return None, problems
        return Ballot(row.line, branch.id, category.id, answers, comment), []


def record_paper_ballots(survey: Survey, ballots: Iterable[Ballot]) -> None:
    """Drop checked ballots into the ballot box as paper ballots, inside the caller's
    transaction; the caller mixes (:func:`survey.services.ballot_box.mix_survey`) after it."""
    ballot_box.drop_many(
        survey,
        (
            (
                ballot_box.Group(survey.id, b.branch_id, b.category_id, Source.PAPER),
                ballot_box.Ballot(b.answers, b.comment),
            )
            for b in ballots
        ),
    )


#: Most paper forms one branch and category may be recorded as handed out.
MAX_HANDOUT = 100_000


def record_handouts(actor: User | None, survey: Survey, counts: dict[tuple[int, int], int]) -> int:
    """Record how many paper forms were handed out per (branch id, category id); 0 clears a
    cell. Cells not given keep their figure. Returns the survey's total afterwards; audited.

    Turnout reads these as the paper side of "how many were asked"
    (:mod:`survey.services.turnout`).
    """
    categories = {c.id for c in survey.categories}
    branches = set(db.session.scalars(select(Branch.id)))
    for (branch_id, category_id), count in counts.items():
        if branch_id not in branches or category_id not in categories:
            raise Invalid(_("Paper forms can only be recorded for a branch and a category."))
        if not 0 <= count <= MAX_HANDOUT:
            raise Invalid(
                _("Enter a number of paper forms from 0 to %(n)d.", n=MAX_HANDOUT), field="counts"
            )
    with db.transaction() as session:
        for (branch_id, category_id), count in counts.items():
            row = session.get(PaperHandout, (survey.id, branch_id, category_id))
            if count == 0 and row is not None:
                session.delete(row)
            elif count and row is None:
                session.add(PaperHandout(survey_id=survey.id, branch_id=branch_id,
                                         category_id=category_id, count=count))  # fmt: skip
            elif count:
                row.count = count
        session.flush()
        total = session.scalar(
            select(func.coalesce(func.sum(PaperHandout.count), 0)).where(
                PaperHandout.survey_id == survey.id
            )
        )
        audit.record("paper.handout", f"survey={survey.slug} forms={total}", user=actor)
    return int(total)
