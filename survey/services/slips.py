"""Printable code slips: QR codes as inline SVG, and the data each slip shows.

Only hashes of codes are stored. The office's mint request draws its codes from a secret seed
(:func:`survey.services.codes.seeded_codes`) that only the clerk's signed session keeps, for a
short while, so the slips page after the redirect can draw them again (:func:`reprint`); the
plain codes are never stored. The slips page carries them in a hidden field so the office can
download a CSV or print again; whatever comes back is checked against the stored hashes of the
batch before it is used (:func:`load_minted`), so an edited field cannot print or export a code
that does not belong to the batch. Codes never appear in a URL path or query: the QR code
carries them in the fragment (``#code=…``), which browsers do not send to the server.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import segno
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from survey.db import db
from survey.models import (
    AccessCode,
    Branch,
    CodeBatch,
    RespondentCategory,
    Survey,
    User,
)
from survey.refusals import Invalid
from survey.services import audit
from survey.services.codes import (
    MintedBatch,
    code_hash,
    looks_like_code,
    mint_codes,
    seeded_codes,
    slip_url,
)
from survey.services.exports.cells import safe_cell

#: Slips per printed A4 page (2 columns × 5 rows), matching manage.css.
SLIPS_PER_PAGE = 10


@dataclass(frozen=True, slots=True)
class Slip:
    """What one cut-out slip shows."""

    survey_title: str
    branch_name: str
    category_label: str
    code: str
    start_address: str
    qr_svg: Markup


@dataclass(frozen=True, slots=True)
class Sheet:
    """One printed A4 sheet of slips, all of one branch, which its header names."""

    branch_name: str
    #: This sheet's number among the branch's sheets, and how many the branch has.
    number: int
    of: int
    slips: list[Slip]


class PayloadRefused(Invalid):
    """Posted codes that do not belong to the batches they claim (edited or stale)."""

    def __init__(self):
        super().__init__(
            _(
                "These codes do not belong to the batches they name, or the batch has been "
                "voided. Nothing was printed or downloaded."
            )
        )


#: Most codes one mint request creates (all batches together). Each QR code takes segno about
#: 10 ms (most of it choosing the most readable mask), so the slips page of 1200 codes is ready
#: well within a worker's 30 s timeout, and stays printable.
MAX_CODES_PER_REQUEST = 1200


def mint(
    actor: User,
    survey: Survey,
    cells: Sequence[tuple[Branch, RespondentCategory]],
    count: int | Sequence[int],
    reason: str | None = None,
    seed: bytes | None = None,
) -> list[MintedBatch]:
    """Mint one batch per (branch, category) cell for the slips page, ``count`` codes each (or
    ``count[i]`` for the i-th cell), drawn from ``seed`` (see
    :func:`survey.services.codes.mint_codes`, which the command line shares)."""
    return mint_codes(actor, survey, cells, count, reason, limit=MAX_CODES_PER_REQUEST, seed=seed)


def reprint(survey: Survey, seed: bytes, batch_ids: Sequence[int]) -> list[MintedBatch]:
    """The codes of batches minted from ``seed``, drawn again and checked against the stored
    hashes; a batch voided since is left out. Raises :class:`PayloadRefused` when a batch is
    not the survey's or its codes do not match (a seed from another mint)."""
    batches = {
        b.id: b
        for b in db.session.scalars(
            select(CodeBatch)
            .where(CodeBatch.id.in_(list(batch_ids)), CodeBatch.survey_id == survey.id)
            .options(selectinload(CodeBatch.branch), selectinload(CodeBatch.category))
        )
    }
    minted = []
    for batch_id in batch_ids:
        batch = batches.get(batch_id)
        if batch is None:
            raise PayloadRefused()
        if batch.is_void:
            continue
        codes = seeded_codes(seed, batch.id, batch.size)
        stored = db.session.scalar(
            select(func.count(AccessCode.id)).where(
                AccessCode.batch_id == batch.id,
                AccessCode.code_hash.in_([code_hash(c) for c in codes]),
            )
        )
        if stored != len(codes):
            raise PayloadRefused()
        minted.append(MintedBatch(batch, codes))
    return minted


def void_batch(actor: User, batch: CodeBatch) -> int:
    """Void a batch: its unused codes stop opening the questionnaire. Returns how many."""
    with db.transaction() as session:
        if batch.is_void:
            return 0
        batch.is_void = True
        unused = session.scalar(
            select(func.count(AccessCode.id)).where(
                AccessCode.batch_id == batch.id, AccessCode.is_used.is_(False)
            )
        )
        audit.record(
            "codes.void", f"batch={batch.id} branch={batch.branch.code} unused={unused}", user=actor
        )
    return unused


def qr_svg(url: str, scale: int = 3) -> Markup:
    """An inline SVG QR code of ``url`` (error correction M), sized by CSS through its viewBox."""
    qr = segno.make(url, error="m", micro=False)
    return Markup(qr.svg_inline(scale=scale, border=2, omitsize=True, svgclass="qr"))


def build_slips(survey: Survey, minted: Iterable[MintedBatch], base_url: str) -> list[Slip]:
    """One slip per code, in batch order, with the start page address printed under the QR."""
    start = base_url.rstrip("/") + "/"
    slips = []
    for entry in minted:
        for code in entry.codes:
            slips.append(
                Slip(
                    survey_title=survey.title,
                    branch_name=entry.batch.branch.name,
                    category_label=entry.batch.category.label,
                    code=code,
                    start_address=start,
                    qr_svg=qr_svg(slip_url(base_url.rstrip("/"), code)),
                )
            )
    return slips


def pages(slips: Sequence[Slip], per_page: int = SLIPS_PER_PAGE) -> list[Sheet]:
    """Slips split into A4 sheets, each branch starting on a sheet of its own (the slips of
    one branch go to one envelope), so each sheet breaks cleanly when printed."""
    groups: list[list[Slip]] = []
    for slip in slips:
        if not groups or groups[-1][0].branch_name != slip.branch_name:
            groups.append([])
        groups[-1].append(slip)
    sheets = []
    for group in groups:
        chunks = [group[i : i + per_page] for i in range(0, len(group), per_page)]
        sheets += [
            Sheet(group[0].branch_name, n, len(chunks), chunk) for n, chunk in enumerate(chunks, 1)
        ]
    return sheets


def dump_payload(minted: Iterable[MintedBatch]) -> str:
    """The hidden-field form of minted codes: ``batch_id:code`` pairs separated by spaces."""
    return " ".join(f"{m.batch.id}:{code}" for m in minted for code in m.codes)


def load_minted(survey: Survey, payload: str) -> list[MintedBatch]:
    """Parse a posted payload and check every code against its batch's stored hashes.

    Raises :class:`PayloadRefused` if any line is malformed, names a batch of another survey or a
    void batch, or carries a code whose hash is not in that batch.
    """
    wanted: dict[int, list[str]] = {}
    for line in (payload or "").split():
        batch_id, _, code = line.partition(":")
        if not batch_id.isdigit() or not looks_like_code(code):
            raise PayloadRefused()
        wanted.setdefault(int(batch_id), []).append(code.strip())
    if not wanted:
        raise PayloadRefused()
    batches = {
        b.id: b
        for b in db.session.scalars(
            select(CodeBatch).where(CodeBatch.id.in_(wanted), CodeBatch.survey_id == survey.id)
        )
    }
    minted = []
    for batch_id, codes in wanted.items():
        batch = batches.get(batch_id)
        if batch is None or batch.is_void:
            raise PayloadRefused()
        hashes = {code_hash(c) for c in codes}
        found = set(
            db.session.scalars(
                select(AccessCode.code_hash).where(
                    AccessCode.batch_id == batch_id, AccessCode.code_hash.in_(hashes)
                )
            )
        )
        if found != hashes or len(hashes) != len(codes):
            raise PayloadRefused()
        minted.append(MintedBatch(batch, codes))
    return minted


def codes_csv(survey: Survey, minted: Iterable[MintedBatch], base_url: str) -> str:
    """The minted codes as CSV (UTF-8 with BOM for spreadsheet programs), one row per code."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["survey", "branch_code", "branch", "category", "batch", "code", "url"])
    for entry in minted:
        for code in entry.codes:
            writer.writerow(
                [
                    safe_cell(survey.slug),
                    safe_cell(entry.batch.branch.code),
                    safe_cell(entry.batch.branch.name),
                    safe_cell(entry.batch.category.key),
                    entry.batch.id,
                    code,
                    slip_url(base_url.rstrip("/"), code),
                ]
            )
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One minted batch as the codes page lists it."""

    batch: CodeBatch
    used: int


def batch_rows(survey: Survey) -> list[BatchRow]:
    """The survey's batches, newest first, with how many of their codes were used."""
    used = dict(
        db.session.execute(
            select(AccessCode.batch_id, func.count(AccessCode.id))
            .where(AccessCode.survey_id == survey.id, AccessCode.is_used.is_(True))
            .group_by(AccessCode.batch_id)
        ).all()
    )
    batches = db.session.scalars(
        select(CodeBatch)
        .where(CodeBatch.survey_id == survey.id)
        .options(selectinload(CodeBatch.branch), selectinload(CodeBatch.category))
        .order_by(CodeBatch.id.desc())
    )
    return [BatchRow(b, int(used.get(b.id, 0))) for b in batches]
