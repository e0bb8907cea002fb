"""What the manage area's views share: turning a refusal into form errors, and small lookups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect
from flask_babel import gettext as _
from sqlalchemy import select

from survey.db import db
from survey.models import Branch, Survey
from survey.refusals import NotFound, Refusal


def current_survey() -> Survey:
    """The survey the address names (loaded once by the blueprint)."""
    return g.survey


def branches(active_only: bool = False) -> list[Branch]:
    """Every branch (or every active one), by code: the choices of the area's selects."""
    query = select(Branch).order_by(Branch.code)
    if active_only:
        query = query.where(Branch.is_active.is_(True))
    return list(db.session.scalars(query))


def branch_choices(branch_list: list[Branch], none_label: str | None = None) -> list:
    """Select choices ``(id, "code name")``, with a first "none" choice (0) when labelled."""
    choices = [(0, none_label)] if none_label is not None else []
    return choices + [(b.id, f"{b.code} {b.name}") for b in branch_list]


def show_refusal(form, refusal: Refusal) -> int:
    """Put a refusal's messages next to the field it names (or above the form); its status."""
    if refusal.field and refusal.field in form:
        field = form[refusal.field]
        field.errors = [*field.errors, *refusal.messages]
    else:
        form.form_errors.extend(refusal.messages)
    return refusal.status


def form_status(form) -> int:
    """200 for a form shown afresh, 422 when what was sent has errors."""
    return 422 if form.errors or form.form_errors else 200


def owned(row, survey: Survey):
    """``row`` (a batch, a draft) if it belongs to ``survey``; otherwise the page does not
    exist."""
    if row is None or row.survey_id != survey.id:
        raise NotFound(_("This page does not exist."))
    return row


def locked_message() -> str:
    """Why a survey with responses keeps its items and scale."""
    return _(
        "This survey already has responses, so its items and scale are locked. Changing a "
        "question after answers were given would mix answers to different questions in one "
        "count, and the stages could no longer be compared. To ask something else, copy this "
        "survey into a new one."
    )


def save_form(form, change: Callable[[], Any], done: str, to: str | Callable[[Any], str]):
    """The office's forms, one way: when ``form`` is sent and valid, ``change()`` calls the
    service; then ``done`` is flashed and the answer is the redirect to ``to`` (or to
    ``to(result)``). Returns ``(redirect, None)``, or ``(None, status)`` for the page shown
    again: 200 afresh, 422 with the form's errors, or the refusal's status with its messages
    next to the field it names."""
    if not form.validate_on_submit():
        return None, form_status(form)
    try:
        result = change()
    except Refusal as refused:
        return None, show_refusal(form, refused)
    flash(done, "success")
    return redirect(to(result) if callable(to) else to), None
