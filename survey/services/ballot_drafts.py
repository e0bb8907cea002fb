"""Paper ballots entered in the browser: a draft first, a blind second keying, then one commit.

Keying errors are the main risk of paper ballots, so the office keys every batch twice. The first
keying is kept as a :class:`~survey.models.BallotDraft`, not as responses; the second keyer types
the same paper forms without seeing the first keying; cell-by-cell disagreements are shown and
must each be resolved against the paper. Only then are the ballots dropped into the ballot box
as paper ballots, all in one transaction that also deletes the draft, and mixed like any other.
An uploaded ballots file becomes a draft too, committed once the office has seen its preview.

A draft lists ballots in the order they were keyed, with their comments: it is stored sealed with
the ballot box's key, so neither the database nor what remains of a deleted draft in it can be
read without ``SECRET_KEY``.

Rows are stored as the cells of a ballots file (``branch`` code, ``category`` key, one option key
per item key, optional ``comment``), so :func:`survey.services.paper_ballots.parse_ballots` checks
keyed, uploaded and resolved ballots by the same rules as ``import-responses``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from survey.db import db
from survey.models import AuditEntry, BallotDraft, Campaign, Role, Survey, SurveyState, User
from survey.refusals import Forbidden
from survey.services import audit, ballot_box
from survey.services.imports import Problem, Rejected, Row, Table
from survey.services.paper_ballots import (
    COMMENT_COLUMN,
    Ballot,
    ballot_columns,
    parse_ballots,
    record_paper_ballots,
)

GRID = "grid"
UPLOAD = "upload"
#: Most ballots one draft holds (a sitting is a few hundred people).
MAX_BALLOTS = 2000
#: Associated data of a sealed draft: it can only be opened as a draft.
SEALED_AS = b"ballot draft v1"


@dataclass(frozen=True, slots=True)
class Difference:
    """One cell on which the two keyings disagree (ballot numbers count from 1)."""

    ballot: int
    column: str
    first: str
    second: str


@dataclass(frozen=True, slots=True)
class DraftSummary:
    """A pending draft as the ballots page lists it (counts only, never its contents)."""

    draft: BallotDraft
    origin: str
    source: str
    ballots: int
    keyed_by: str | None
    is_verified: bool


def clean_rows(columns: list[str], rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows reduced to ``columns``, stripped, with entirely blank rows left out."""
    cleaned = []
    for row in rows:
        cells = {column: (row.get(column) or "").strip() for column in columns}
        if any(cells.values()):
            cleaned.append(cells)
    return cleaned


def check_rows(
    survey: Survey, rows: list[dict[str, str]], source: str, lines: list[int] | None = None
) -> tuple[list[Ballot], list[Problem]]:
    """Check rows with the ballots-file rules; problems carry the row's ballot (or file) line."""
    header = ballot_columns(survey)
    if any(row.get(COMMENT_COLUMN) for row in rows):
        header.append(COMMENT_COLUMN)
    numbers = lines or list(range(1, len(rows) + 1))
    table = Table(source, header, 0, [Row(n, dict(r)) for n, r in zip(numbers, rows, strict=True)])
    if not rows:
        return [], [Problem(source, None, None, _("No ballot was entered."))]
    if len(rows) > MAX_BALLOTS:
        return [], [
            Problem(source, None, None, _("At most %(n)d ballots at a time.", n=MAX_BALLOTS))
        ]
    return parse_ballots(survey, table)


def keyed_columns(survey: Survey) -> list[str]:
    """The columns two keyings are compared on: every ballots column, and the comment when the
    survey takes comments (a mistyped comment is a keying error like any other)."""
    return ballot_columns(survey) + ([COMMENT_COLUMN] if survey.allows_comments else [])


def payload(draft: BallotDraft) -> dict[str, Any]:
    """The draft's stored rows and keyings."""
    return json.loads(ballot_box.unseal_bytes(draft.sealed_payload, SEALED_AS))


def _sealed(data: dict[str, Any]) -> bytes:
    return ballot_box.seal_bytes(json.dumps(data, ensure_ascii=False).encode(), SEALED_AS)


def create_draft(
    actor: User | None,
    survey: Survey,
    rows: list[dict[str, str]],
    origin: str,
    source: str,
    lines: list[int] | None = None,
) -> BallotDraft:
    """Keep checked ballots as a draft (first keying or upload); audited with the count only."""
    _ballots, problems = check_rows(survey, rows, source, lines)
    if problems:
        raise Rejected(problems)
    data = {"origin": origin, "source": source, "first": rows, "lines": lines, "second": None}
    with db.transaction() as session:
        # Numbered under the survey's lock, so two clerks saving at once get 1 and 2.
        db.lock_survey(survey.id, exclusive=True)
        draft = BallotDraft(
            survey_id=survey.id,
            number=_next_number(survey),
            created_by=actor.id if actor is not None else None,
            sealed_payload=_sealed(data),
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
        session.add(draft)
        session.flush()
        audit.record(
            "ballots.draft",
            f"survey={survey.slug} batch={draft.number} origin={origin} ballots={len(rows)}",
            user=actor,
        )
    return draft


def _next_number(survey: Survey) -> int:
    """The next batch number of ``survey``, inside the caller's locked transaction.

    A stored batch's draft is deleted, so the highest number still present could come round
    again; the audit log keeps one entry per batch ever created, so the number also passes
    their count and is never given to two bundles of paper forms.
    """
    session = db.session
    highest = session.scalar(
        select(func.max(BallotDraft.number)).where(BallotDraft.survey_id == survey.id)
    )
    created = session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "ballots.draft",
            AuditEntry.detail.startswith(f"survey={survey.slug} ", autoescape=True),
        )
    )
    return max(highest or 0, created or 0) + 1


def check_other_keyer(actor: User | None, draft: BallotDraft) -> None:
    """Refuse the first keyer of ``draft`` the second keying and the settling of disagreements:
    two keyings are a check only when two people typed them."""
    if actor is not None and draft.created_by is not None and draft.created_by == actor.id:
        raise Forbidden(
            _(
                "You keyed batch %(number)d yourself. The second keying and settling its "
                "disagreements must be done by another account.",
                number=draft.number,
            )
        )


def upload(actor: User | None, survey: Survey, table: Table) -> BallotDraft:
    """Check a ballots file (as ``import-responses`` and the upload page read it) and keep its
    ballots as a draft, to be committed once the office has seen the preview."""
    columns = [*ballot_columns(survey), COMMENT_COLUMN]
    rows = [{c: row.get(c) for c in columns if row.get(c)} for row in table.rows]
    _ballots, problems = parse_ballots(survey, table)
    if problems:
        raise Rejected(problems)
    return create_draft(actor, survey, rows, UPLOAD, table.source, [r.line for r in table.rows])


def import_table(actor: User | None, survey: Survey, table: Table) -> int:
    """Store a ballots file's ballots at once (the command line, where running the command is
    the confirmation): the same draft and commit as the upload page, with the same audit
    entries. Returns how many were stored."""
    draft = upload(actor, survey, table)
    data = payload(draft)
    return commit(actor, survey, draft, data["first"], data["lines"])


def differences(
    columns: list[str], first: list[dict[str, str]], second: list[dict[str, str]]
) -> list[Difference]:
    """Every cell where the keyings differ; a ballot only one keyer typed differs in each cell."""
    found = []
    for index in range(max(len(first), len(second))):
        a = first[index] if index < len(first) else {}
        b = second[index] if index < len(second) else {}
        for column in columns:
            left, right = a.get(column, ""), b.get(column, "")
            if left != right:
                found.append(Difference(index + 1, column, left, right))
    return found


def record_second_keying(
    actor: User, survey: Survey, draft: BallotDraft, rows: list[dict[str, str]]
) -> list[Difference]:
    """Store the blind second keying; commit at once when it agrees with the first.

    Returns the disagreements (empty when the ballots were committed). The second keying is
    checked like the first, so a ballot that cannot be stored is refused before comparing.
    """
    check_other_keyer(actor, draft)
    data = payload(draft)
    _ballots, problems = check_rows(survey, rows, _("second keying"))
    if problems:
        raise Rejected(problems)
    found = differences(keyed_columns(survey), data["first"], rows)
    if not found:
        commit(actor, survey, draft, data["first"])
        return []
    data["second"] = rows
    with db.transaction():
        draft.sealed_payload = _sealed(data)
        audit.record(
            "ballots.verify",
            f"survey={survey.slug} batch={draft.number} disagreements={len(found)}",
            user=actor,
        )
    return found


def pending_differences(survey: Survey, draft: BallotDraft) -> list[Difference]:
    """The disagreements still to resolve (none before the second keying)."""
    data = payload(draft)
    if data.get("second") is None:
        return []
    return differences(keyed_columns(survey), data["first"], data["second"])


def resolve(
    survey: Survey, draft: BallotDraft, choices: dict[tuple[int, str], str]
) -> list[dict[str, str]]:
    """The ballots with each disagreement settled by ``choices`` ((ballot, column) → value).

    Raises KeyError for a disagreement without a choice. A ballot whose every cell is blank
    after resolving (typed by one keyer only, and judged a mistake) is left out.
    """
    data = payload(draft)
    first, second = data["first"], data["second"] or []
    columns = keyed_columns(survey)
    rows = [dict(first[i]) if i < len(first) else {} for i in range(max(len(first), len(second)))]
    for difference in differences(columns, first, second):
        rows[difference.ballot - 1][difference.column] = choices[
            (difference.ballot, difference.column)
        ]
    return clean_rows(columns, rows)


def commit_resolved(
    actor: User, survey: Survey, draft: BallotDraft, choices: dict[tuple[int, str], str]
) -> int:
    """Store the ballots with each disagreement settled by ``choices`` (see :func:`resolve`),
    settled by someone other than the first keyer; returns the count."""
    check_other_keyer(actor, draft)
    return commit(actor, survey, draft, resolve(survey, draft, choices))


def commit(
    actor: User | None,
    survey: Survey,
    draft: BallotDraft,
    rows: list[dict[str, str]],
    lines: list[int] | None = None,
) -> int:
    """Drop the ballots into the box as paper ballots and delete the draft, all or nothing;
    then mix. Returns the count.

    The draft is deleted first with a row-count check, so two people committing the same draft
    at once store its ballots once. On SQLite the deleted draft is overwritten (secure_delete)
    and the write-ahead log emptied after the commit.
    """
    data = payload(draft)
    source = data.get("source") or _("ballots")
    with db.transaction() as session:
        ballots, problems = check_rows(survey, rows, source, lines)
        if problems:
            raise Rejected(problems)
        gone = session.execute(
            delete(BallotDraft)
            .where(BallotDraft.id == draft.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if gone != 1:
            raise Rejected([Problem(source, None, None, _("These ballots were already stored."))])
        record_paper_ballots(survey, ballots)
        audit.record(
            "ballots.commit",
            f"survey={survey.slug} batch={draft.number} origin={data['origin']} "
            f"ballots={len(ballots)}",
            user=actor,
        )
    session.expunge(draft)
    ballot_box.mix_survey(survey)
    db.truncate_wal(wait=True)
    return len(ballots)


def discard(actor: User, survey: Survey, draft: BallotDraft) -> None:
    """Throw a draft away without storing anything; audited. A data-entry account discards only
    batches it keyed itself (the office discards any)."""
    if actor.role is Role.DATA_ENTRY and draft.created_by != actor.id:
        raise Forbidden(_("Only the office or the person who keyed a batch can discard it."))
    with db.transaction() as session:
        session.delete(draft)
        audit.record("ballots.discard", f"survey={survey.slug} batch={draft.number}", user=actor)
    db.truncate_wal(wait=True)


def pending_drafts(survey: Survey) -> list[DraftSummary]:
    """The survey's drafts, oldest first."""
    drafts = db.session.scalars(
        select(BallotDraft).where(BallotDraft.survey_id == survey.id).order_by(BallotDraft.number)
    ).all()
    users = {
        u.id: u.username
        for u in db.session.scalars(
            select(User).where(User.id.in_({d.created_by for d in drafts if d.created_by}))
        )
    }
    summaries = []
    for draft in drafts:
        data = payload(draft)
        summaries.append(
            DraftSummary(
                draft=draft,
                origin=data["origin"],
                source=data.get("source") or "",
                ballots=len(data["first"]),
                keyed_by=users.get(draft.created_by),
                is_verified=data.get("second") is not None,
            )
        )
    return summaries


def branch_counts(rows: list[dict[str, str]]) -> list[tuple[str, int]]:
    """Ballots per branch code, for the preview of an upload."""
    return sorted(Counter(row.get("branch", "") for row in rows).items())


@dataclass(frozen=True, slots=True)
class KeyableSurvey:
    """A survey paper ballots can be keyed for, as the data-entry start page lists it."""

    survey: Survey
    campaign_title: str
    #: Batches waiting for a second keying or for their disagreements to be settled.
    waiting_batches: int


def keyable_surveys() -> list[KeyableSurvey]:
    """Surveys that take paper ballots (open or closed, not archived), newest first, with how
    many batches wait: what a data-entry account needs and nothing more (no turnout)."""
    waiting = func.count(BallotDraft.id)
    rows = db.session.execute(
        select(Survey, Campaign.title, waiting)
        .join(Campaign, Campaign.id == Survey.campaign_id)
        .outerjoin(BallotDraft, BallotDraft.survey_id == Survey.id)
        .where(
            Survey.state != SurveyState.DRAFT,
            Survey.is_archived.is_(False),
            Campaign.is_archived.is_(False),
        )
        .group_by(Survey.id, Campaign.title)
        .order_by(Survey.id.desc())
    ).all()
    return [KeyableSurvey(survey, title, int(count)) for survey, title, count in rows]
