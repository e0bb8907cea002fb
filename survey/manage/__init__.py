"""Administration in the browser: campaigns, surveys, branches, codes, ballots, users.

The blueprint is defined here, with what every view of it shares: administrators only, and
data-entry accounts on the keying pages (checked once for the whole blueprint, so no view can
forget it), and the survey that an address's ``survey_id`` names, loaded once (with its
questionnaire) into ``g.survey`` after that check. Views live in one module per area (see
``routes.py``), forms in ``forms.py``.
"""

from flask import Blueprint, g, request

from survey.auth.access import KEYING_ENDPOINTS, is_data_entry, refuse_data_entry, require_roles
from survey.models import Role
from survey.services.lookup import get_survey

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.url_value_preprocessor
def _take_survey_id(_endpoint: str | None, values: dict | None) -> None:
    """Keep the address's survey id for :func:`_load_survey` (views do not receive it)."""
    g.survey_id = (values or {}).pop("survey_id", None)


@bp.before_request
@require_roles(Role.ADMIN, Role.DATA_ENTRY)
def _load_survey() -> None:
    """Administrators, and data entry on the keying pages only; then load the survey the
    address names, or answer 404."""
    if is_data_entry(g.user) and request.endpoint not in KEYING_ENDPOINTS:
        raise refuse_data_entry()
    if g.survey_id is not None:
        g.survey = get_survey(g.survey_id)
