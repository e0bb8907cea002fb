"""Views of the api area: read-only JSON for other tools, with a session or a bearer token.

Only GET requests are served, so no CSRF token is needed (Flask-WTF checks POST, PUT, PATCH
and DELETE only) and the blueprint is not exempted from CSRF protection. Bodies are written with
``allow_nan=False``: a NaN reaching a response is a bug that should fail loudly.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select

from survey.api import bp
from survey.auth.access import require_roles
from survey.db import db
from survey.errors import render_error
from survey.models import Role, Survey
from survey.services.report import ResultsSealed, build_report
from survey.services.turnout import survey_turnout


def _json(payload: Any, status: int = 200):
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    return current_app.response_class(body, status=status, mimetype="application/json")


def _viewer_branch() -> int | None:
    """The one branch a branch viewer may read; None for roles that read every branch."""
    user = g.user
    return user.branch_id if user.role is Role.BRANCH_VIEWER else None


def _find_survey(slug: str) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.slug == slug))


def _unknown(slug: str):
    return render_error(404, _("There is no survey called %(slug)s.", slug=slug))


@bp.get("/surveys/<slug>/report")
@require_roles()
def get_report(slug: str):
    """The survey's report as JSON (``?compare=<slug>`` adds a comparison with another stage)."""
    survey = _find_survey(slug)
    if survey is None:
        return _unknown(slug)
    compare = None
    other = request.args.get("compare", "").strip()
    if other:
        compare = _find_survey(other)
        if compare is None:
            return _unknown(other)
    branch_id = _viewer_branch()
    try:
        report = build_report(survey, compare=compare, branch_id=branch_id)
    except ResultsSealed as sealed:
        return _json(
            {
                "error": sealed.message,
                "status": 403,
                "sealed": True,
                "survey": sealed.survey.slug,
                "turnout": survey_turnout(sealed.survey, branch_id).as_dict(),
            },
            403,
        )
    return _json(report)


@bp.get("/surveys/<slug>/turnout")
@require_roles()
def get_turnout(slug: str):
    """Codes issued and used and responses received per branch: counts only, never sealed."""
    survey = _find_survey(slug)
    if survey is None:
        return _unknown(slug)
    return _json({"survey": survey.slug, **survey_turnout(survey, _viewer_branch()).as_dict()})
