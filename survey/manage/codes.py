"""The manage area's codes and slips, and the live turnout.

Only hashes of codes are stored, so the plain codes of a batch exist only in the answer to the
mint request. That page is the printable slips page itself; it also carries the codes in a
hidden field so that "download CSV" and "print again" can post them back, and whatever comes
back is checked against the batch's stored hashes. Codes never appear in a URL.
"""

from __future__ import annotations

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
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from survey import display
from survey.db import db
from survey.manage import bp
from survey.manage import forms as f
from survey.manage.base import branch_choices, branches, current_survey, owned, show_refusal
from survey.models import Branch, CodeBatch, Survey
from survey.refusals import BadRequest, Refusal
from survey.services import slips
from survey.services.lookup import get_row
from survey.services.turnout import survey_turnout


def _mint_form(survey: Survey) -> tuple[f.MintForm, list[Branch]]:
    form = f.MintForm()
    active = branches(active_only=True)
    form.branch.choices = branch_choices(active, _("All active branches (one batch each)"))
    form.category.choices = [(c.id, c.label) for c in survey.categories]
    return form, active


def _codes_page(form, status: int = 200):
    survey = current_survey()
    return render_template(
        "manage/codes.html",
        survey=survey,
        form=form,
        batches=slips.batch_rows(survey),
        action_form=f.ActionForm(),
    ), status


@bp.get("/surveys/<int:survey_id>/codes")
def list_codes():
    """Minted batches (used counts, void buttons) and the form to mint more."""
    form, _active = _mint_form(current_survey())
    form.count.data = 50
    return _codes_page(form)


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


@bp.post("/surveys/<int:survey_id>/codes")
def mint_codes():
    """Mint codes and answer with the printable slips of exactly these codes (shown once)."""
    survey = current_survey()
    form, active = _mint_form(survey)
    if not form.validate_on_submit():
        return _codes_page(form, 422)
    chosen = active if form.branch.data == 0 else [get_row(Branch, form.branch.data)]
    category = next(c for c in survey.categories if c.id == form.category.data)
    try:
        minted = slips.mint(g.user, survey, chosen, category, form.count.data, form.reason.data)
    except Refusal as refused:
        return _codes_page(form, show_refusal(form, refused))
    return _slips_page(minted, just_minted=True)


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
