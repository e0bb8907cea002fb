"""One-time access codes: generation, normalisation, hashing and minting.

A code is 15 symbols from a 31-letter alphabet without look-alikes (no 0/O, 1/I/l), about 74
bits from :mod:`secrets`, printed in three groups of five for reading aloud: ``K7QMX-4HBTZ-9WREC``.
With 10,000 live codes and 10⁹ guesses the expected number of hits is below 10⁻⁹.
Only a SHA-256 of the normalised code is stored.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from survey.db import db
from survey.models import AccessCode, Branch, CodeBatch, RespondentCategory, Survey

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS = 3
GROUP_SIZE = 5
#: Entropy of one code, in bits.
BITS = GROUPS * GROUP_SIZE * 4.954  # log2(31)


def generate_code() -> str:
    """A fresh random code, grouped for reading aloud."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_SIZE))
    return "-".join(symbols[i : i + GROUP_SIZE] for i in range(0, len(symbols), GROUP_SIZE))


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


def find_code(entered: str) -> AccessCode | None:
    """The code row for what the respondent typed, or None."""
    if not looks_like_code(entered):
        return None
    return db.session.scalar(select(AccessCode).where(AccessCode.code_hash == code_hash(entered)))


def mint_batch(
    survey: Survey, branch: Branch, category: RespondentCategory, count: int
) -> tuple[CodeBatch, list[str]]:
    """Create ``count`` codes for one branch and category; the plain codes are returned once.

    A batch minted while the survey is in test mode is a test batch, voided when it goes live.
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
    codes = []
    seen: set[str] = set()
    while len(codes) < count:
        code = generate_code()
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
