"""The manage area's codes and slips, and the live turnout.

Only hashes of codes are stored. Minting answers with a redirect (POST → redirect → GET), so
that reloading the slips page never mints a second batch, and the page after the redirect must
show codes that were never stored. The mint draws them from a fresh 256-bit secret seed
(:func:`survey.services.codes.seeded_codes`); the clerk's signed session cookie keeps that seed
and the batch ids (:data:`SLIPS_KEY`), never a code, and the slips page draws the codes again
from it, checked against the stored hashes. Anonymity: the seed is never written to the
database or a log, and it lives only as long as the slips are on screen: leaving for the codes
page forgets it, and after :data:`SLIPS_MAX_AGE` it is refused. Whoever holds the cookie then
could see the codes anyway, since the page shows them. A language link re-reads the same page,
so the slips stay on screen in the new language. The page also carries the codes in a hidden
field, so "download CSV" and "show again" can post them back; whatever comes back is checked
against the batch's stored hashes. Codes never appear in a URL.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime

from flask import (
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from survey import display
from survey.db import db
from survey.manage import bp
from survey.manage import forms as f
from survey.manage.base import branch_choices, current_survey, owned, show_refusal
from survey.models import Branch, CodeBatch, Survey
from survey.refusals import BadRequest, Refusal
from survey.services import mint_files, slips
from survey.services.codes import mint_cells
from survey.services.imports import Rejected, read_table
from survey.services.lookup import get_row
from survey.services.mint_files import read_mint_counts
from survey.services.sheet_files import MIMETYPES, table_file
from survey.services.turnout import survey_turnout

#: Session key of the seed and batch ids of the slips on screen (never the codes themselves).
SLIPS_KEY = "minted_slips"
#: How long after minting the slips page can still show them (seconds).
SLIPS_MAX_AGE = 1800


def _mint_form(survey: Survey) -> tuple[f.MintForm, list[Branch]]:
    form = f.MintForm()
    measured = sorted({b for b, _c in mint_cells(survey)}, key=lambda b: b.code)
    form.branch.choices = branch_choices(
        measured, _("All branches of the campaign (one batch each)")
    )
    form.category.choices = [(0, _("All categories (one batch each)"))] + [
        (c.id, c.label) for c in survey.categories
    ]
    return form, measured


def _codes_page(form=None, file_form=None, status: int = 200):
    survey = current_survey()
    if form is None:
        form, _measured = _mint_form(survey)
        form.count.data = 50
        form.category.data = survey.categories[0].id if survey.categories else 0
    return render_template(
        "manage/codes.html",
        survey=survey,
        form=form,
        file_form=file_form or f.MintFileForm(formdata=None, prefix="plan"),
        batches=slips.batch_rows(survey),
        action_form=f.ActionForm(),
    ), status


@bp.get("/surveys/<int:survey_id>/codes")
def list_codes():
    """Minted batches (used counts, void buttons) and the forms to mint more.

    Coming back here forgets the slips that were on screen (their seed leaves the session)."""
    session.pop(SLIPS_KEY, None)
    return _codes_page()


def _remember(survey: Survey, seed: bytes, minted: list[slips.MintedBatch]):
    """Keep the seed and batch ids for the slips page, and redirect to it (303: a GET)."""
    session[SLIPS_KEY] = {
        "survey": survey.id,
        "seed": seed.hex(),
        "batches": [entry.batch.id for entry in minted],
        "at": int(time.time()),
    }
    return redirect(url_for("manage.show_slips", survey_id=survey.id), code=303)


@bp.post("/surveys/<int:survey_id>/codes")
def mint_codes():
    """Mint codes, then redirect to the printable slips of exactly these codes."""
    survey = current_survey()
    form, measured = _mint_form(survey)
    if not form.validate_on_submit():
        return _codes_page(form, status=422)
    chosen = measured if form.branch.data == 0 else [get_row(Branch, form.branch.data)]
    categories = [c for c in survey.categories if form.category.data in (0, c.id)]
    cells = [(branch, category) for branch in chosen for category in categories]
    seed = secrets.token_bytes(32)
    try:
        minted = slips.mint(g.user, survey, cells, form.count.data, form.reason.data, seed)
    except Refusal as refused:
        return _codes_page(form, status=show_refusal(form, refused))
    return _remember(survey, seed, minted)


@bp.post("/surveys/<int:survey_id>/codes/file")
def mint_from_file():
    """Mint the codes a ``branch,category,count`` file lists, then show their slips."""
    survey = current_survey()
    file_form = f.MintFileForm(prefix="plan")
    if not file_form.validate_on_submit():
        return _codes_page(file_form=file_form, status=422)
    upload = file_form.file.data
    try:
        table = read_table(upload.read(), upload.filename or "codes.csv")
        plan = read_mint_counts(survey, table)
    except Rejected as rejected:
        file_form.file.errors = [str(p) for p in rejected.problems]
        return _codes_page(file_form=file_form, status=rejected.status)
    seed = secrets.token_bytes(32)
    cells = [(branch, category) for branch, category, _count in plan]
    counts = [count for _branch, _category, count in plan]
    try:
        minted = slips.mint(g.user, survey, cells, counts, file_form.reason.data, seed)
    except Refusal as refused:
        return _codes_page(file_form=file_form, status=show_refusal(file_form, refused))
    return _remember(survey, seed, minted)


@bp.get("/surveys/<int:survey_id>/codes/template.<any(csv, xlsx):fmt>")
def mint_template(fmt: str):
    """A file to fill in for minting from a file: one row per branch of the campaign and
    category, with the branch's members as the suggested count where known."""
    survey = current_survey()
    _form, measured = _mint_form(survey)
    header, rows = mint_files.template_rows(survey, measured)
    response = Response(table_file(header, rows, fmt), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{survey.slug}-codes-plan.{fmt}"'
    )
    return response


def _remembered(survey: Survey) -> list[slips.MintedBatch] | None:
    """The slips the session remembers for this survey, drawn again; None when there are none
    (already left, too old, or minted for another survey)."""
    kept = session.get(SLIPS_KEY)
    if not isinstance(kept, dict) or kept.get("survey") != survey.id:
        return None
    if time.time() - float(kept.get("at", 0)) > SLIPS_MAX_AGE:
        session.pop(SLIPS_KEY, None)
        return None
    try:
        seed = bytes.fromhex(kept["seed"])
        batch_ids = [int(i) for i in kept["batches"]]
    except (KeyError, TypeError, ValueError):
        session.pop(SLIPS_KEY, None)
        return None
    return slips.reprint(survey, seed, batch_ids)


@bp.get("/surveys/<int:survey_id>/codes/slips")
def show_slips():
    """The slips of the codes minted a moment ago (a reload or a language link shows them
    again, and mints nothing)."""
    minted = _remembered(current_survey())
    if not minted:
        flash(
            _(
                "The slips of the last codes are no longer shown: they were shown once, and "
                "the codes are not stored. Void the batch and mint again if slips were lost."
            ),
            "error",
        )
        return redirect(url_for("manage.list_codes", survey_id=current_survey().id))
    return _slips_page(minted, just_minted=True)


def _slips_page(minted: list[slips.MintedBatch], *, just_minted: bool):
    survey = current_survey()
    for entry in minted:  # load what the slips show, then release the database
        _shown = (entry.batch.branch.name, entry.batch.category.label)
    db.session.commit()  # drawing hundreds of QR codes must not hold SQLite's write lock
    all_slips = slips.build_slips(survey, minted, current_app.config["CEPING_BASE_URL"])
    return render_template(
        "manage/slips.html",
        survey=survey,
        sheets=slips.pages(all_slips),
        count=len(all_slips),
        batches=minted,
        codes_form=f.CodesForm(formdata=None, codes=slips.dump_payload(minted)),
        just_minted=just_minted,
    )


def _posted_codes() -> list[slips.MintedBatch]:
    """The codes posted back by the slips page, each checked against its batch's hashes."""
    form = f.CodesForm()
    if not form.validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    return slips.load_minted(current_survey(), form.codes.data)


@bp.post("/surveys/<int:survey_id>/codes/print")
def print_slips():
    """Print the slips of codes minted a moment ago again (the codes come back from the page)."""
    return _slips_page(_posted_codes(), just_minted=False)


@bp.post("/surveys/<int:survey_id>/codes/download")
def download_codes():
    """The codes of the slips page as a CSV file."""
    survey = current_survey()
    minted = _posted_codes()
    text = slips.codes_csv(survey, minted, current_app.config["CEPING_BASE_URL"])
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{survey.slug}-codes-{stamp}.csv"'
    )
    return response


@bp.route("/surveys/<int:survey_id>/batches/<int:batch_id>/void", methods=["GET", "POST"])
def void_batch(batch_id: int):
    """Void a batch after a confirmation: its unused codes stop working."""
    survey = current_survey()
    batch = owned(db.session.get(CodeBatch, batch_id), survey)
    form = f.ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            raise BadRequest(_("The request could not be understood."))
        unused = slips.void_batch(g.user, batch)
        flash(
            ngettext(
                "Batch voided: %(num)d unused code no longer works.",
                "Batch voided: %(num)d unused codes no longer work.",
                unused,
            ),
            "success",
        )
        return redirect(url_for("manage.list_codes", survey_id=survey.id))
    return render_template("manage/void_batch.html", survey=survey, batch=batch, form=form)


@bp.get("/surveys/<int:survey_id>/turnout")
def show_turnout():
    """Codes issued and used, paper ballots and turnout per branch; the page refreshes itself."""
    survey = current_survey()
    return render_template(
        "manage/turnout.html",
        survey=survey,
        turnout=display.turnout_rows(survey_turnout(survey)),
    )


@bp.get("/surveys/<int:survey_id>/turnout.json")
def turnout_json():
    """The turnout table as JSON, for the page's refresh (counts only, never answers)."""
    survey = current_survey()
    data = survey_turnout(survey)
    return jsonify(
        {
            "survey": survey.slug,
            "state": survey.state.value,
            "counts": data.as_dict(),
            "display": display.turnout_rows(data),
        }
    )
