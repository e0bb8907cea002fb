"""The manage area's paper ballots: the keying grid, the blind second keying, resolving
disagreements, and uploaded ballots files (see :mod:`survey.services.ballot_drafts`)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from survey.auth.access import is_data_entry
from survey.db import db
from survey.manage import bp, views
from survey.manage import forms as f
from survey.manage.base import branches, current_survey, owned
from survey.models import BallotDraft, SurveyState
from survey.refusals import BadRequest, NotFound, Refusal
from survey.services import ballot_drafts
from survey.services.imports import Rejected
from survey.services.lookup import survey_branches
from survey.services.paper_ballots import (
    COMMENT_COLUMN,
    ballot_columns,
    read_ballots,
    record_handouts,
)
from survey.services.turnout import cell_counts


def _draft(draft_id: int) -> BallotDraft:
    return owned(db.session.get(BallotDraft, draft_id), current_survey())


def _draft_of(draft_id: int, origin: str, refusal: type[Refusal]) -> tuple[BallotDraft, dict]:
    """A draft of ``origin`` (keyed in the grid, or uploaded) and what it holds; a draft of the
    other origin is answered with ``refusal``."""
    draft = _draft(draft_id)
    data = ballot_drafts.payload(draft)
    if data["origin"] != origin:
        raise refusal(
            _("This page does not exist.")
            if refusal is NotFound
            else _("The request could not be understood.")
        )
    return draft, data


def _to_list():
    return redirect(url_for("manage.list_ballots", survey_id=current_survey().id))


def _to_draft(draft: BallotDraft):
    return redirect(url_for("manage.show_draft", survey_id=current_survey().id, draft_id=draft.id))


def _checked_button() -> None:
    if not f.ActionForm().validate_on_submit():
        raise BadRequest(_("The request could not be understood."))


def _page(template: str, **context) -> str:
    """A page of the paper-ballots area; a data-entry account sees no link to the survey's
    other pages (they would only refuse it)."""
    return render_template(template, keyer_only=is_data_entry(g.user), **context)


@bp.get("/keying")
def list_keying():
    """The surveys that take paper ballots: where a data-entry account starts."""
    return _page("manage/keying.html", surveys=ballot_drafts.keyable_surveys())


@bp.get("/surveys/<int:survey_id>/ballots")
def list_ballots():
    """Paper ballots: keyed batches waiting for verification, and ways to enter more."""
    survey = current_survey()
    return _page(
        "manage/ballots.html",
        survey=survey,
        drafts=ballot_drafts.pending_drafts(survey),
        action_form=f.ActionForm(),
        is_draft_survey=survey.state is SurveyState.DRAFT,
    )


def _grid_page(form, template: str, status: int = 200, **extra):
    survey = current_survey()
    return _page(
        template, survey=survey, form=form, layout=views.grid_layout(survey), **extra
    ), status


def _grid_form(rows: int):
    return views.make_grid_form(current_survey(), branches(), rows)()


def _read_grid(form, template: str, source: str, **extra):
    """Rows of a submitted grid, or the page to show again (with errors or more rows)."""
    survey = current_survey()
    if form.more.data:
        for _n in range(views.GRID_MORE):
            if len(form.ballots) < views.GRID_MAX_ROWS:
                form.ballots.append_entry()
        return None, _grid_page(form, template, **extra)
    if len(form.ballots) > views.GRID_MAX_ROWS:
        form.form_errors.append(
            _("At most %(n)d ballots can be keyed at once.", n=views.GRID_MAX_ROWS)
        )
        return None, _grid_page(form, template, 422, **extra)
    if not form.validate_on_submit():
        return None, _grid_page(form, template, 422, **extra)
    rows, indices = views.grid_rows(form, survey)
    _ballots, problems = ballot_drafts.check_rows(survey, rows, source)
    if problems:
        form.form_errors.extend(views.attach_problems(form, survey, problems, indices))
        return None, _grid_page(form, template, 422, **extra)
    return rows, None


@bp.route("/surveys/<int:survey_id>/ballots/key", methods=["GET", "POST"])
def key_ballots():
    """The keying grid: one row per paper ballot; the first keying becomes a draft."""
    rows_wanted = min(max(request.args.get("rows", views.GRID_ROWS, type=int), 1), 100)
    form = _grid_form(rows_wanted)
    template = "manage/key_ballots.html"
    if request.method == "GET":
        return _grid_page(form, template, verifying=None)
    rows, page = _read_grid(form, template, _("ballots"), verifying=None)
    if page is not None:
        return page
    draft = ballot_drafts.create_draft(
        g.user, current_survey(), rows, ballot_drafts.GRID, _("keyed")
    )
    flash(
        ngettext(
            "%(num)d ballot keyed. Now a second person keys the same ballots to check them.",
            "%(num)d ballots keyed. Now a second person keys the same ballots to check them.",
            len(rows),
        ),
        "success",
    )
    return _to_draft(draft)


@bp.get("/surveys/<int:survey_id>/ballots/<int:draft_id>")
def show_draft(draft_id: int):
    """A draft: how many ballots it holds and what comes next (never the keyed values)."""
    survey = current_survey()
    draft = _draft(draft_id)
    summary = next(s for s in ballot_drafts.pending_drafts(survey) if s.draft.id == draft.id)
    data = ballot_drafts.payload(draft)
    return _page(
        "manage/draft.html",
        survey=survey,
        summary=summary,
        branch_counts=ballot_drafts.branch_counts(data["first"])
        if summary.origin == ballot_drafts.UPLOAD
        else None,
        action_form=f.ActionForm(),
    )


@bp.route("/surveys/<int:survey_id>/ballots/<int:draft_id>/verify", methods=["GET", "POST"])
def verify_ballots(draft_id: int):
    """Blind second keying: the same ballots typed again, then compared cell by cell."""
    survey = current_survey()
    draft, data = _draft_of(draft_id, ballot_drafts.GRID, NotFound)
    if data.get("second") is not None:
        return redirect(url_for("manage.resolve_ballots", survey_id=survey.id, draft_id=draft.id))
    ballot_drafts.check_other_keyer(g.user, draft)
    expected = len(data["first"])
    form = _grid_form(expected)
    template = "manage/key_ballots.html"
    extra = {"verifying": draft, "expected": expected}
    if request.method == "GET":
        return _grid_page(form, template, **extra)
    rows, page = _read_grid(form, template, _("second keying"), **extra)
    if page is not None:
        return page
    try:
        found = ballot_drafts.record_second_keying(g.user, survey, draft, rows)
    except Rejected as rejected:
        form.form_errors.extend(p.message for p in rejected.problems)
        return _grid_page(form, template, 409, **extra)
    if not found:
        flash(
            ngettext(
                "Both keyings agree: %(num)d paper ballot stored.",
                "Both keyings agree: %(num)d paper ballots stored.",
                expected,
            ),
            "success",
        )
        return _to_list()
    flash(
        ngettext(
            "The keyings disagree in %(num)d place. Check it against the paper.",
            "The keyings disagree in %(num)d places. Check them against the paper.",
            len(found),
        ),
        "error",
    )
    return redirect(url_for("manage.resolve_ballots", survey_id=survey.id, draft_id=draft.id))


def _resolution(found, branch_list) -> tuple[dict, dict[str, str], set[str]]:
    """The values chosen for each disagreement in the posted form: (choices, everything
    submitted, names of disagreements left unchosen)."""
    labels = views.value_labels(current_survey(), branch_list)
    choices, submitted, missing = {}, {}, set()
    for difference in found:
        name = f"d-{difference.ballot}-{difference.column}"
        value = request.form.get(name, "")
        submitted[name] = value
        if value == views.BLANK:
            choices[(difference.ballot, difference.column)] = ""
        elif value in views.choosable(labels, difference):
            choices[(difference.ballot, difference.column)] = value
        else:
            missing.add(name)
    return choices, submitted, missing


def _commit_resolved(draft: BallotDraft, choices: dict) -> int | list[str]:
    """Store the resolved ballots: their count, or the problems that kept them out."""
    try:
        return ballot_drafts.commit_resolved(g.user, current_survey(), draft, choices)
    except Rejected as rejected:
        return [
            _("Ballot %(n)d: %(message)s", n=p.line, message=p.message) if p.line else p.message
            for p in rejected.problems
        ]


@bp.route("/surveys/<int:survey_id>/ballots/<int:draft_id>/resolve", methods=["GET", "POST"])
def resolve_ballots(draft_id: int):
    """Settle each disagreement against the paper; then the ballots are stored."""
    survey = current_survey()
    draft = _draft(draft_id)
    found = ballot_drafts.pending_differences(survey, draft)
    if not found:
        return _to_draft(draft)
    ballot_drafts.check_other_keyer(g.user, draft)
    branch_list = branches()
    form = f.ActionForm()
    status, submitted, missing, problems = 200, {}, set(), []
    if request.method == "POST":
        if not form.validate_on_submit():
            raise BadRequest(_("The request could not be understood."))
        choices, submitted, missing = _resolution(found, branch_list)
        status = 422
        if not missing:
            stored = _commit_resolved(draft, choices)
            if isinstance(stored, int):
                flash(
                    ngettext(
                        "%(num)d paper ballot stored.", "%(num)d paper ballots stored.", stored
                    ),
                    "success",
                )
                return _to_list()
            problems = stored
    return _page(
        "manage/resolve.html",
        survey=survey,
        draft=draft,
        rows=views.disagreement_rows(survey, branch_list, found, submitted, missing),
        form=form,
        problems=problems,
    ), status


@bp.post("/surveys/<int:survey_id>/ballots/<int:draft_id>/commit")
def commit_ballots(draft_id: int):
    """Store the ballots of a checked upload (an uploaded file is committed on confirmation)."""
    survey = current_survey()
    draft, data = _draft_of(draft_id, ballot_drafts.UPLOAD, BadRequest)
    _checked_button()
    try:
        count = ballot_drafts.commit(g.user, survey, draft, data["first"], data.get("lines"))
    except Rejected as rejected:
        for problem in rejected.problems:
            flash(str(problem), "error")
        return _to_draft(draft)
    flash(ngettext("%(num)d paper ballot stored.", "%(num)d paper ballots stored.", count))
    return _to_list()


@bp.post("/surveys/<int:survey_id>/ballots/<int:draft_id>/discard")
def discard_ballots(draft_id: int):
    """Throw a draft away; nothing of it is stored."""
    draft = _draft(draft_id)
    _checked_button()
    ballot_drafts.discard(g.user, current_survey(), draft)
    flash(_("The keyed ballots were discarded."), "success")
    return _to_list()


@bp.route("/surveys/<int:survey_id>/ballots/upload", methods=["GET", "POST"])
def upload_ballots():
    """Check a ballots file (same format as ``import-responses``) and keep it for confirmation."""
    survey = current_survey()
    form = f.UploadBallotsForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            table = read_ballots(survey, upload.read(), upload.filename or "ballots.csv")
            draft = ballot_drafts.upload(g.user, survey, table)
        except Rejected as rejected:
            problems = rejected.problems
        else:
            return _to_draft(draft)
    columns = ballot_columns(survey) + ([COMMENT_COLUMN] if survey.allows_comments else [])
    return render_template(
        "manage/upload_ballots.html",
        survey=survey,
        form=form,
        problems=problems,
        columns=", ".join(columns),
    ), 422 if problems or form.errors else 200


def _handout_cells(survey) -> tuple[list, list[views.HandoutRow]]:
    """The handout grid's categories and rows, with what is recorded and returned so far."""
    cells = cell_counts(survey)
    return views.handout_rows(survey, survey_branches(survey), cells)


@bp.route("/surveys/<int:survey_id>/ballots/handouts", methods=["GET", "POST"])
def edit_handouts():
    """Paper forms handed out per branch and category: the paper side of the turnout."""
    survey = current_survey()
    form = f.ActionForm()
    categories, rows = _handout_cells(survey)
    status, errors = 200, {}
    if request.method == "POST":
        if not form.validate_on_submit():
            raise BadRequest(_("The request could not be understood."))
        counts, errors = views.read_handouts(request.form, rows, categories)
        if not errors:
            try:
                total = record_handouts(g.user, survey, counts)
            except Refusal as refused:
                errors = {"": refused.message}
            else:
                flash(
                    ngettext(
                        "Saved: %(num)d paper form handed out in all.",
                        "Saved: %(num)d paper forms handed out in all.",
                        total,
                    ),
                    "success",
                )
                return redirect(url_for("manage.show_turnout", survey_id=survey.id))
        status = 422
    return _page(
        "manage/handouts.html",
        survey=survey,
        form=form,
        categories=categories,
        rows=rows,
        submitted=request.form if errors else {},
        errors=errors,
    ), status
