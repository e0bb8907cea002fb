"""Open-link surveys: the address each branch's respondents open, and a printable poster.

An open-link survey has one address per branch (``/s/<survey>/<branch>``): the branch is part
of the address because there is no code to carry it. The office shows the addresses on the
survey's page, prints an A4 poster with the address and its QR code for each branch's notice
board, and ``flask survey-links`` prints them for a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from survey.models import Branch, Survey
from survey.services.lookup import survey_branches
from survey.services.slips import qr_svg


@dataclass(frozen=True, slots=True)
class SurveyLink:
    """One branch's address of an open-link survey."""

    branch: Branch
    url: str


def link_url(base_url: str, survey: Survey, branch: Branch) -> str:
    """The address a branch's respondents open (the respondent area's ``/s/<survey>/<branch>``)."""
    return f"{base_url.rstrip('/')}/s/{survey.slug}/{branch.code}"


def survey_links(survey: Survey, base_url: str | None = None) -> list[SurveyLink]:
    """The address of every branch the survey's campaign measures, by branch code."""
    if base_url is None:
        from flask import current_app

        base_url = current_app.config["CEPING_BASE_URL"]
    return [SurveyLink(b, link_url(base_url, survey, b)) for b in survey_branches(survey)]


def poster_qr(url: str) -> Markup:
    """The poster's QR code of ``url``: large modules, readable from a metre away."""
    return qr_svg(url, scale=10)
