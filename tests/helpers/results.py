"""Results and the ballot box as tests see them.

Tests of reports, pages and exports need counted answers in exact numbers. The product only
counts through the ballot box; :func:`record_response` writes a batch straight into the results
with the box's own writer (:func:`survey.services.ballot_box.count_batch`), skipping the sealing.
Tests of the respondent path read what waits in the box with :func:`sealed_ballots`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select

from survey.db import db
from survey.models import Response, SealedBallot, Source
from survey.services.ballot_box import Ballot, Group, count_batch, unseal


def record_response(
    survey,
    branch_id: int,
    category_id: int,
    answers: Mapping[int, int],
    comment: str | None,
    source: Source = Source.WEB,
) -> None:
    """Count one ballot (item id → option id, and a comment) inside the caller's transaction."""
    count_batch(survey, branch_id, category_id, source, [Ballot(dict(answers), comment)])


def sealed_ballots(survey_id: int | None = None) -> list[tuple[Group, Ballot]]:
    """Open every ballot waiting in the box (tests hold ``SECRET_KEY``, as the server does)."""
    query = select(SealedBallot)
    if survey_id is not None:
        query = query.where(SealedBallot.survey_id == survey_id)
    opened = []
    for row in db.session.scalars(query):
        group = Group(row.survey_id, row.branch_id, row.category_id, Source(row.source))
        opened.append((group, unseal(group, row.sealed)))
    return opened


def sealed_answer_keys(survey) -> list[dict[str, str]]:
    """The waiting ballots of ``survey`` as {item key: option key}, for comparing with what a
    respondent sent."""
    items = {item.id: item.key for item in survey.items}
    options = {option.id: option.key for option in survey.options}
    return [
        {items[item]: options[option] for item, option in ballot.answers.items()}
        for _group, ballot in sealed_ballots(survey.id)
    ]


def received() -> int:
    """Ballots received in the whole database: counted responses and those still sealed."""
    counted = db.session.scalar(select(func.count()).select_from(Response))
    waiting = db.session.scalar(select(func.count()).select_from(SealedBallot))
    return counted + waiting


def report_dict(survey, compare=None, branch_id=None) -> dict:
    """The survey's report as the JSON contract's dict (what the API and ``flask report`` write)."""
    from survey.services.report import build_report
    from survey.services.report_json import as_json

    return as_json(build_report(survey, compare=compare, branch_id=branch_id))
