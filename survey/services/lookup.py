"""Finding the one row that a page, an API call or a command names, or refusing with 404.

Every entry point looks surveys, campaigns and branches up here, so an unknown name gets the
same message and status from the web, the API and the command line.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload

from survey.db import db
from survey.models import Branch, Campaign, Survey, campaign_branch
from survey.refusals import NotFound


def first_or_404(statement: Select, message: str) -> Any:
    """The first row ``statement`` selects, or :class:`~survey.refusals.NotFound` with
    ``message``."""
    found = db.session.scalar(statement)
    if found is None:
        raise NotFound(message)
    return found


def _scheduled(survey: Survey) -> Survey:
    """The survey, after the step its schedule owes now, if any (opening or closing by itself:
    :func:`survey.services.lifecycle.apply_schedule`)."""
    if survey.opens_at is not None or survey.closes_at is not None:
        from survey.services.lifecycle import apply_schedule  # lifecycle reads surveys too

        apply_schedule(survey)
    return survey


def find_survey(slug: str) -> Survey:
    """The survey with this short name (its schedule applied)."""
    return _scheduled(
        first_or_404(
            select(Survey).where(Survey.slug == slug),
            _('There is no survey called "%(slug)s".', slug=slug),
        )
    )


def get_survey(survey_id: int) -> Survey:
    """The survey with this id, its questionnaire and campaign loaded (the office's pages), its
    schedule applied."""
    return _scheduled(
        first_or_404(
            select(Survey)
            .where(Survey.id == survey_id)
            .options(
                selectinload(Survey.items),
                selectinload(Survey.options),
                selectinload(Survey.categories),
                selectinload(Survey.campaign),
            ),
            _("This page does not exist."),
        )
    )


def find_campaign(slug: str) -> Campaign:
    """The campaign with this short name, its surveys loaded."""
    return first_or_404(
        select(Campaign).where(Campaign.slug == slug).options(selectinload(Campaign.surveys)),
        _('There is no campaign called "%(slug)s".', slug=slug),
    )


def find_branch(code: str) -> Branch:
    """The branch with this code."""
    return first_or_404(
        select(Branch).where(Branch.code == code),
        _('There is no branch with the code "%(code)s".', code=code),
    )


def get_row(model: type, row_id: int) -> Any:
    """A row of ``model`` by its id (the office's pages address rows by id)."""
    found = db.session.get(model, row_id)
    if found is None:
        raise NotFound(_("This page does not exist."))
    return found


def active_branches() -> list[Branch]:
    """Every active branch, by code: the branches a new campaign measures unless told otherwise."""
    return list(
        db.session.scalars(select(Branch).where(Branch.is_active.is_(True)).order_by(Branch.code))
    )


def campaign_branch_ids(campaign_id: int) -> Select:
    """A query for the ids of the branches a campaign measures (its chosen branches)."""
    return select(campaign_branch.c.branch_id).where(campaign_branch.c.campaign_id == campaign_id)


def survey_branches(survey: Survey, involved: Select | None = None) -> list[Branch]:
    """The branches a survey's pages list, by code: its campaign's active branches, and any
    other branch ``involved`` selects (the ids of branches with answers or codes), so a branch
    added for a later campaign never adds a row to an earlier campaign's report, while nothing
    that was answered is ever left out."""
    chosen = and_(
        Branch.is_active.is_(True), Branch.id.in_(campaign_branch_ids(survey.campaign_id))
    )
    condition = chosen if involved is None else or_(chosen, Branch.id.in_(involved))
    return list(db.session.scalars(select(Branch).where(condition).order_by(Branch.code)))
