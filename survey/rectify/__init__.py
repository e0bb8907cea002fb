"""The rectification stage in the browser (整改提高): the office's opinions, plans, progress and
effect pages, and the public page of filed plans.

One blueprint. Every view is for the office (administrators edit; supervisors read, file and
return plans) except :data:`PUBLIC_ENDPOINTS`, the public page and its feedback, which need no
sign-in. The check is made once for the whole blueprint, so no view can forget it.
"""

from flask import Blueprint, request

from survey.auth.access import require_roles
from survey.models import Role

bp = Blueprint("rectify", __name__)

#: The views anyone may open: the public page of filed plans, its feedback and its poster's
#: target. Everything else is the office's.
PUBLIC_ENDPOINTS = frozenset({"rectify.show_public", "rectify.leave_feedback"})


@require_roles(Role.ADMIN, Role.SUPERVISOR)
def _office_only() -> None:
    """Administrators and supervisors (a view refuses what only one of them may do)."""


@bp.before_request
def _check_access():
    if request.endpoint not in PUBLIC_ENDPOINTS:
        return _office_only()
    return None
