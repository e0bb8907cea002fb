"""Views of the api area: read-only JSON for other tools, with a session or a bearer token.

Only GET requests are served, so no CSRF token is needed (Flask-WTF checks POST, PUT, PATCH
and DELETE only) and the blueprint is not exempted from CSRF protection. Refusals (an unknown
survey, a comparison across campaigns) are answered by :mod:`survey.errors` as JSON with their
status; sealed results add the turnout, which is never sealed.
"""

from __future__ import annotations

from flask import current_app, g, request

from survey.api import bp
from survey.auth.access import require_roles
from survey.models import Role
from survey.services import report_json
from survey.services.lookup import find_campaign, find_survey
from survey.services.rectification.effect import exported_effect
from survey.services.report import ResultsSealed, exported_report
from survey.services.turnout import survey_turnout


def _json(text: str, status: int = 200):
    return current_app.response_class(text, status=status, mimetype="application/json")


def _viewer_branch() -> int | None:
    """The one branch a branch viewer may read; None for roles that read every branch."""
    user = g.user
    return user.branch_id if user.role is Role.BRANCH_VIEWER else None


@bp.get("/surveys/<slug>/report")
@require_roles()
def get_report(slug: str):
    """The survey's report as JSON (``?compare=<slug>`` adds a comparison with another stage)."""
    survey = find_survey(slug)
    other = request.args.get("compare", "").strip()
    compare = find_survey(other) if other else None
    branch_id = _viewer_branch()
    try:
        report = exported_report(g.user, survey, "json", compare=compare, branch_id=branch_id)
    except ResultsSealed as sealed:
        turnout = survey_turnout(sealed.survey, branch_id).as_dict()
        body = {
            "error": sealed.message,
            "status": sealed.status,
            "sealed": True,
            "survey": sealed.survey.slug,
            "turnout": turnout,
        }
        return _json(report_json.dumps(body), sealed.status)
    return _json(report_json.report_text(report))


@bp.get("/surveys/<slug>/turnout")
@require_roles()
def get_turnout(slug: str):
    """Codes issued and used and responses received per branch: counts only, never sealed."""
    survey = find_survey(slug)
    turnout = survey_turnout(survey, _viewer_branch()).as_dict()
    return _json(report_json.dumps({"survey": survey.slug, **turnout}))


@bp.get("/campaigns/<slug>/rectification")
@require_roles(Role.ADMIN, Role.SUPERVISOR)
def get_rectification(slug: str):
    """The effect of rectification: each filed plan's measures, the change of the items they
    targeted (the stage comparison's own figures), and the tallies by class and department."""
    campaign = find_campaign(slug)
    return _json(report_json.dumps(exported_effect(g.user, campaign, "json")))
