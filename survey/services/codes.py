"""One-time access codes: generation, normalisation, hashing and minting.

A code is 15 symbols from a 31-letter alphabet without look-alikes (no 0/O, 1/I/l), about 74
bits from :mod:`secrets`, printed in three groups of five for reading aloud: ``K7QMX-4HBTZ-9WREC``.
With 10,000 live codes and 10⁹ guesses the expected number of hits is below 10⁻⁹.
Only a SHA-256 of the normalised code is stored.

Minting is also the one way the office could attack the ballot box: codes made for a group
beyond its members, used around one person's answer, would fill that person's batch with ballots
the office knows (*flooding*). So :func:`mint_codes` asks for a stated reason when a group would
get more codes than the branch has members of that category, or when the survey is open, and
such mints are flagged for the supervisors' oversight page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from survey.db import db
from survey.models import (
    AccessCode,
    Branch,
    BranchMembers,
    CodeBatch,
    RespondentCategory,
    Survey,
    SurveyState,
    User,
)
from survey.refusals import Conflict
from survey.services import audit
from survey.services.lookup import campaign_branch_ids

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS = 3
GROUP_SIZE = 5


def generate_code() -> str:
    """A fresh random code, grouped for reading aloud."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_SIZE))
    return "-".join(symbols[i : i + GROUP_SIZE] for i in range(0, len(symbols), GROUP_SIZE))


def seeded_codes(seed: bytes, batch_id: int, count: int) -> list[str]:
    """``count`` distinct codes drawn from a secret ``seed`` for one batch, the same every time.

    Each code is HMAC-SHA256(seed, "batch:index") read as a number in base 31: a pseudo-random
    function of a 256-bit secret, so the codes are as unguessable as :func:`generate_code`'s
    while the seed is secret. The office's mint page keeps only the seed, in the clerk's signed
    session until the slips have been shown, so that the page after the redirect can show the
    codes again without any plain code being stored (see :mod:`survey.manage.codes`).
    """
    codes: list[str] = []
    seen: set[str] = set()
    index = 0
    while len(codes) < count:
        digest = hmac.new(seed, f"{batch_id}:{index}".encode(), hashlib.sha256).digest()
        index += 1
        number = int.from_bytes(digest, "big")
        symbols = []
        for _position in range(GROUPS * GROUP_SIZE):
            number, digit = divmod(number, len(ALPHABET))
            symbols.append(ALPHABET[digit])
        code = "-".join(
            "".join(symbols[i : i + GROUP_SIZE]) for i in range(0, len(symbols), GROUP_SIZE)
        )
        if code not in seen:  # a repeat within a batch is a 74-bit collision: draw the next
            seen.add(code)
            codes.append(code)
    return codes


def normalise(entered: str) -> str:
    """Upper-case a typed code and drop spaces and dashes, so any way of typing it matches."""
    return "".join(ch for ch in entered.upper() if ch not in " -\t\u00a0\u3000\uff0d")


def looks_like_code(entered: str) -> bool:
    """Whether the entry could be a code at all (checked before any database lookup)."""
    normal = normalise(entered)
    return len(normal) == GROUPS * GROUP_SIZE and all(ch in ALPHABET for ch in normal)


def code_hash(entered: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(normalise(entered).encode("ascii", "replace")).hexdigest()


def mint_batch(
    survey: Survey,
    branch: Branch,
    category: RespondentCategory,
    count: int,
    seed: bytes | None = None,
) -> tuple[CodeBatch, list[str]]:
    """Create ``count`` codes for one branch and category; the plain codes are returned once.

    With a ``seed`` the codes are :func:`seeded_codes` (the office's page shows them again from
    the seed); without one, fresh random codes. A batch minted while the survey is in test mode
    is a test batch, voided when it goes live.
    """
    batch = CodeBatch(
        survey_id=survey.id,
        branch=branch,
        category=category,
        size=count,
        is_test=survey.is_test_mode,
    )
    db.session.add(batch)
    db.session.flush()
    drawn = seeded_codes(seed, batch.id, count) if seed is not None else None
    codes = []
    seen: set[str] = set()
    while len(codes) < count:
        code = drawn[len(codes)] if drawn is not None else generate_code()
        digest = code_hash(code)
        if digest in seen:  # pragma: no cover - a 74-bit collision
            continue
        seen.add(digest)
        codes.append(code)
        db.session.add(
            AccessCode(
                batch_id=batch.id,
                survey_id=survey.id,
                branch_id=branch.id,
                category_id=category.id,
                code_hash=digest,
            )
        )
    return batch, codes


def slip_url(base_url: str, code: str) -> str:
    """The address on a slip: the start page with the code in the fragment, never sent to us."""
    return f"{base_url}/#code={code}"


# ---- minting for the office -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MintedBatch:
    """A batch with its plain codes, known only while answering the mint request."""

    batch: CodeBatch
    codes: list[str]


class MintRefused(Conflict):
    """Codes that cannot be minted as asked; the messages say why."""


class MintNeedsReason(MintRefused):
    """Codes that may be minted only with a stated reason; ``concerns`` say why."""

    def __init__(self, concerns: list[str]):
        self.concerns = concerns
        super().__init__(
            _("State a reason to mint these codes: %(why)s", why="; ".join(concerns)),
            field="reason",
        )


def mint_cells(
    survey: Survey, branch: Branch | None = None, category: RespondentCategory | None = None
) -> list[tuple[Branch, RespondentCategory]]:
    """The (branch, category) cells to mint for: one branch or every active branch of the
    survey's campaign (by code), one category or every category of the survey."""
    if branch is None:
        branches = list(
            db.session.scalars(
                select(Branch)
                .where(Branch.is_active, Branch.id.in_(campaign_branch_ids(survey.campaign_id)))
                .order_by(Branch.code)
            )
        )
    else:
        branches = [branch]
    categories = list(survey.categories) if category is None else [category]
    return [(b, c) for b in branches for c in categories]


def issued_codes(survey: Survey) -> dict[tuple[int, int], int]:
    """Codes that can still be or have been used, per (branch id, category id)."""
    counted = or_(CodeBatch.is_void.is_(False), AccessCode.is_used.is_(True))
    if not survey.is_test_mode:
        counted = and_(counted, CodeBatch.is_test.is_(False))
    rows = db.session.execute(
        select(AccessCode.branch_id, AccessCode.category_id, func.count())
        .join(CodeBatch, CodeBatch.id == AccessCode.batch_id)
        .where(AccessCode.survey_id == survey.id, counted)
        .group_by(AccessCode.branch_id, AccessCode.category_id)
    ).all()
    return {(branch, category): int(n) for branch, category, n in rows}


def members_of(branch_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """Members per (branch id, category key), where the branch list gave them."""
    rows = db.session.execute(
        select(BranchMembers.branch_id, BranchMembers.category_key, BranchMembers.count).where(
            BranchMembers.branch_id.in_(list(branch_ids))
        )
    ).all()
    return {(branch, key): int(count) for branch, key, count in rows}


def per_cell(cells: Sequence[object], count: int | Sequence[int]) -> list[int]:
    """How many codes each cell gets: one number for all, or one number per cell."""
    if isinstance(count, int):
        return [count] * len(cells)
    if len(count) != len(cells):
        raise ValueError("one count per cell")
    return list(count)


def mint_concerns(
    survey: Survey,
    cells: Sequence[tuple[Branch, RespondentCategory]],
    count: int | Sequence[int],
) -> list[str]:
    """Why minting ``count`` codes for each cell (or ``count[i]`` for the i-th) needs a stated
    reason (empty: it does not)."""
    concerns = []
    if survey.state is SurveyState.OPEN and not survey.is_test_mode:
        concerns.append(_("the survey is open"))
    issued = issued_codes(survey)
    members = members_of([branch.id for branch, _category in cells])
    for (branch, category), wanted in zip(cells, per_cell(cells, count), strict=True):
        known = members.get((branch.id, category.key))
        total = issued.get((branch.id, category.id), 0) + wanted
        if known is not None and total > known:
            concerns.append(
                _(
                    "%(branch)s, %(category)s would have %(total)d codes for %(members)d members",
                    branch=branch.code,
                    category=category.label,
                    total=total,
                    members=known,
                )
            )
    return concerns


def mint_problems(
    survey: Survey,
    cells: Sequence[tuple[Branch, RespondentCategory]],
    count: int | Sequence[int],
    limit: int | None = None,
) -> list[str]:
    """Why these codes cannot be minted at all: a closed survey, no or inactive branches,
    branches the survey's campaign does not measure, or more than ``limit`` codes in one
    request."""
    problems = []
    if survey.state is SurveyState.CLOSED:
        problems.append(_("The survey is closed: reopen it before minting codes."))
    if not cells:
        problems.append(
            _("There is no active branch to mint codes for: choose the campaign's branches first.")
        )
    inactive = sorted({b.code for b, _category in cells if not b.is_active})
    if inactive:
        problems.append(_("Inactive branches get no codes: %(codes)s.", codes=", ".join(inactive)))
    measured = set(db.session.scalars(campaign_branch_ids(survey.campaign_id)))
    outside = sorted({b.code for b, _category in cells if b.id not in measured})
    if outside:
        problems.append(
            _(
                "These branches are not among the branches of the campaign %(campaign)s, so "
                "they get no codes: %(codes)s. Add them on the campaign's branches page first.",
                campaign=survey.campaign.title,
                codes=", ".join(outside),
            )
        )
    if limit is not None and sum(per_cell(cells, count)) > limit:
        problems.append(
            _(
                "At most %(limit)d codes can be minted at once; mint fewer per branch "
                "or one branch at a time.",
                limit=limit,
            )
        )
    return problems


def mint_codes(
    actor: User | None,
    survey: Survey,
    cells: Sequence[tuple[Branch, RespondentCategory]],
    count: int | Sequence[int],
    reason: str | None = None,
    *,
    limit: int | None = None,
    before_commit: Callable[[list[MintedBatch]], None] | None = None,
    seed: bytes | None = None,
) -> list[MintedBatch]:
    """Mint one batch of ``count`` codes per (branch, category) cell (or ``count[i]`` for the
    i-th cell) in one transaction; audited. ``seed``: see :func:`mint_batch`.

    Refuses a closed survey, an inactive branch and more than ``limit`` codes in all; asks for a
    ``reason`` (:class:`MintNeedsReason`) when :func:`mint_concerns` finds one, and then flags
    the audit entries for the supervisors. ``before_commit`` runs with the minted codes inside
    the transaction (the command line writes its file there, so a failure leaves no codes
    behind). Batches minted in test mode are test batches, voided when the survey goes live.
    """
    problems = mint_problems(survey, cells, count, limit)
    if problems:
        raise MintRefused(problems)
    reason = (reason or "").strip() or None
    concerns = mint_concerns(survey, cells, count)
    if concerns and reason is None:
        raise MintNeedsReason(concerns)
    minted = []
    counts = per_cell(cells, count)
    with db.transaction():
        for (branch, category), size in zip(cells, counts, strict=True):
            batch, codes = mint_batch(survey, branch, category, size, seed)
            minted.append(MintedBatch(batch, codes))
        for entry, (branch, category) in zip(minted, cells, strict=True):
            detail = (
                f"survey={survey.slug} batch={entry.batch.id} branch={branch.code} "
                f"category={category.key} count={entry.batch.size}"
            )
            if survey.is_test_mode:
                detail += " test"
            if reason is not None:
                detail += f" reason={reason!r}"
            audit.record("codes.mint", detail, user=actor, flagged=bool(concerns))
        if before_commit is not None:
            before_commit(minted)
    return minted
