"""The manage area's views, one module per area of the office's work, on one blueprint.

Importing this module attaches them all to :data:`survey.manage.bp`.
"""

from survey.manage import (
    ballots,
    branches,
    campaigns,
    codes,
    pairing,
    questionnaire,
    surveys,
    users,
)

AREAS = (surveys, campaigns, pairing, questionnaire, codes, ballots, branches, users)
