"""Views of the manage area: everything the command line does, in the browser, for admins.

Every view here is for administrators only (checked once for the whole blueprint, so no view
can forget it). Views load, check the form, call a service and redirect; the services audit.

Codes: only hashes are stored, so the plain codes of a batch exist only in the answer to the
mint request. That page is the printable slips page itself; it also carries the codes in a
hidden field so that "download CSV" and "print again" can post them back, and whatever comes
back is checked against the batch's stored hashes. Codes never appear in a URL.

Branch import: the checked rows travel from the preview to the confirmation in a hidden field
signed with the app's secret key, and are checked against the database again when confirmed.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Response,
    abort,
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
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from survey.auth.access import require_roles
from survey.db import db
from survey.errors import render_error
from survey.manage import bp, views
from survey.manage import forms as f
from survey.models import (
    Access,
    BallotDraft,
    Branch,
    Campaign,
    CodeBatch,
    InvalidTransition,
    ResultsVisibility,
    Role,
    Survey,
    SurveyKind,
    SurveyState,
    User,
)
from survey.services import ballot_drafts, codes, slips, surveys, users
from survey.services.branches import (
    BranchInUse,
    apply_branch_plan,
    branch_is_used,
    plan_branches,
    save_branch,
    set_branch_active,
)
from survey.services.branches import (
    delete_branch as delete_branch_row,
)
from survey.services.definitions import CategoryDef, OptionDef, export_definition
from survey.services.imports import Rejected, Row, Table, parse_ballots, read_ballots, read_table
from survey.services.turnout import survey_turnout

#: How long a branch-import preview may be confirmed (seconds).
IMPORT_MAX_AGE = 3600

# Administrators only, for every view of the blueprint.
bp.before_request(require_roles(Role.ADMIN)(lambda: None))


# ---- helpers ----------------------------------------------------------------------------------


def _survey(survey_id: int) -> Survey:
    """The survey with its questionnaire loaded, or 404."""
    survey = db.session.scalar(
        select(Survey)
        .where(Survey.id == survey_id)
        .options(
            selectinload(Survey.items),
            selectinload(Survey.options),
            selectinload(Survey.categories),
            selectinload(Survey.campaign),
        )
    )
    if survey is None:
        abort(404)
    return survey


def _get(model, object_id: int):
    """A row by id, or 404."""
    row = db.session.get(model, object_id)
    if row is None:
        abort(404)
    return row


def _branches(active_only: bool = False) -> list[Branch]:
    query = select(Branch).order_by(Branch.code)
    if active_only:
        query = query.where(Branch.is_active.is_(True))
    return list(db.session.scalars(query))


def _field_error(form, name: str | None, messages: list[str]) -> None:
    """Show service refusals next to the field they concern (or above the form)."""
    if name and name in form:
        field = form[name]
        field.errors = [*field.errors, *messages]
    else:
        form.form_errors.extend(messages)


def _locked_message() -> str:
    return _(
        "This survey already has responses, so its items and scale are locked. Changing a "
        "question after answers were given would mix answers to different questions in one "
        "count, and the stages could no longer be compared. To ask something else, copy this "
        "survey into a new one."
    )


def _flash_refusal(error: surveys.EditRefused) -> None:
    for message in error.messages:
        flash(message, "error")


# ---- dashboard and campaigns ------------------------------------------------------------------


@bp.get("/")
def show_dashboard():
    """Campaigns and their surveys, with where each survey stands."""
    campaigns = db.session.scalars(
        select(Campaign).options(selectinload(Campaign.surveys)).order_by(Campaign.id.desc())
    ).all()
    drafts = dict(
        db.session.execute(
            select(BallotDraft.survey_id, func.count(BallotDraft.id)).group_by(
                BallotDraft.survey_id
            )
        ).all()
    )
    return render_template(
        "manage/dashboard.html",
        campaigns=campaigns,
        drafts=drafts,
        state_labels=views.STATE_LABELS,
        branch_count=db.session.scalar(select(func.count(Branch.id))),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    """Create a campaign."""
    form = f.CampaignForm()
    if form.validate_on_submit():
        try:
            surveys.create_campaign(g.user, form.slug.data, form.title.data)
        except surveys.EditRefused as refused:
            _field_error(form, refused.field, refused.messages)
        else:
            flash(_("Campaign created."), "success")
            return redirect(url_for("manage.show_dashboard"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("manage/campaign.html", form=form, campaign=None), status


@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
def edit_campaign(campaign_id: int):
    """Rename a campaign (its short name stays, as files and addresses use it)."""
    campaign = _get(Campaign, campaign_id)
    form = f.CampaignForm(obj=campaign)
    form.slug.data = campaign.slug
    if form.validate_on_submit():
        surveys.update_campaign(g.user, campaign, form.title.data)
        flash(_("Campaign saved."), "success")
        return redirect(url_for("manage.show_dashboard"))
    status = 422 if form.errors else 200
    return render_template("manage/campaign.html", form=form, campaign=campaign), status


# ---- surveys ----------------------------------------------------------------------------------


@bp.route("/surveys/new", methods=["GET", "POST"])
def new_survey():
    """Create a survey: blank, from a template of the domain brief, or as a copy."""
    form = f.NewSurveyForm()
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).all()
    form.campaign.choices = [(c.id, c.title) for c in campaigns]
    start_choices = [("blank", _("An empty questionnaire"))]
    start_choices += [
        (f"template:{t.name}", _("Template: %(title)s", title=t.title)) for t in surveys.templates()
    ]
    earlier = db.session.scalars(select(Survey).order_by(Survey.id.desc())).all()
    start_choices += [
        (f"copy:{s.id}", _("Copy of: %(title)s (%(slug)s)", title=s.title, slug=s.slug))
        for s in earlier
    ]
    form.start.choices = start_choices
    if request.method == "GET":
        form.campaign.data = request.args.get("campaign", type=int)
        wanted = request.args.get("start", "blank")
        form.start.data = wanted if wanted in {v for v, _label in start_choices} else "blank"
    if form.validate_on_submit():
        campaign = db.session.get(Campaign, form.campaign.data)
        try:
            survey = surveys.create_survey(
                g.user,
                campaign,
                form.slug.data,
                form.title.data,
                SurveyKind(form.kind.data),
                form.start.data,
            )
        except surveys.EditRefused as refused:
            _field_error(form, refused.field, refused.messages)
        else:
            flash(_("Survey created."), "success")
            return redirect(url_for("manage.show_survey", survey_id=survey.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("manage/new_survey.html", form=form), status


def _survey_page(survey: Survey, status: int = 200):
    locked = surveys.is_locked(survey)
    return render_template(
        "manage/survey.html",
        survey=survey,
        locked=locked,
        locked_message=_locked_message() if locked else None,
        state_label=views.STATE_LABELS[survey.state],
        actions=[(a, views.ACTION_LABELS[a]) for a in surveys.available_actions(survey)],
        state_form=f.StateForm(),
        readiness=surveys.readiness_problems(survey),
        drafts=len(ballot_drafts.pending_drafts(survey)),
        copy_url=url_for(
            "manage.new_survey", campaign=survey.campaign_id, start=f"copy:{survey.id}"
        ),
        results_url=url_for("results.show_survey", slug=survey.slug)
        if "results.show_survey" in current_app.view_functions
        else None,
    ), status


@bp.get("/surveys/<int:survey_id>")
def show_survey(survey_id: int):
    """A survey's overview: state, lifecycle buttons and the pages that manage it."""
    return _survey_page(_survey(survey_id))


@bp.route("/surveys/<int:survey_id>/settings", methods=["GET", "POST"])
def edit_survey(survey_id: int):
    """Change a survey's title and settings."""
    survey = _survey(survey_id)
    form = f.SettingsForm()
    if request.method == "GET":
        form.title.data = survey.title
        form.kind.data = survey.kind.value
        form.access.data = survey.access.value
        form.threshold.data = survey.threshold
        form.results.data = survey.results_visibility.value
        form.comments.data = survey.allows_comments
        form.comment_max_length.data = survey.comment_max_length
        form.min_rank_respondents.data = survey.min_rank_respondents
    if form.validate_on_submit():
        try:
            surveys.update_settings(
                g.user,
                survey,
                title=form.title.data,
                kind=SurveyKind(form.kind.data),
                access=Access(form.access.data),
                threshold=form.threshold.data,
                results=ResultsVisibility(form.results.data),
                comments=form.comments.data,
                comment_max_length=form.comment_max_length.data,
                min_rank_respondents=form.min_rank_respondents.data,
            )
        except surveys.EditRefused as refused:
            _field_error(form, refused.field, refused.messages)
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("manage.show_survey", survey_id=survey.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("manage/settings.html", survey=survey, form=form), status


@bp.get("/surveys/<int:survey_id>/export.yaml")
def export_survey(survey_id: int):
    """Download the survey as the YAML definition that ``load-survey`` reads."""
    survey = _survey(survey_id)
    response = Response(export_definition(survey), content_type="application/yaml; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{survey.slug}.yaml"'
    return response


# ---- questionnaire ----------------------------------------------------------------------------


def _items_page(survey: Survey, form=None, status: int = 200):
    locked = surveys.is_locked(survey)
    return render_template(
        "manage/items.html",
        survey=survey,
        locked=locked,
        locked_message=_locked_message() if locked else None,
        form=form or f.ItemForm(formdata=None),
        action_form=f.ActionForm(),
    ), status


@bp.get("/surveys/<int:survey_id>/items")
def edit_items(survey_id: int):
    """The questionnaire editor: items in order, with buttons to move, edit and remove them."""
    return _items_page(_survey(survey_id))


@bp.post("/surveys/<int:survey_id>/items/add")
def add_item(survey_id: int):
    """Append an item."""
    survey = _survey(survey_id)
    form = f.ItemForm()
    status = 422
    if form.validate_on_submit():
        try:
            surveys.add_item(g.user, survey, form.key.data.strip(), form.text.data)
        except surveys.EditRefused as refused:
            _field_error(form, refused.field, refused.messages)
            status = 409 if refused.field is None else 422
        else:
            flash(_("Item added."), "success")
            return redirect(url_for("manage.edit_items", survey_id=survey.id))
    return _items_page(survey, form, status)


def _item(survey: Survey, item_id: int):
    item = next((i for i in survey.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


@bp.route("/surveys/<int:survey_id>/items/<int:item_id>", methods=["GET", "POST"])
def edit_item(survey_id: int, item_id: int):
    """Change one item's key and question."""
    survey = _survey(survey_id)
    item = _item(survey, item_id)
    form = f.ItemForm(obj=item)
    locked = surveys.is_locked(survey)
    status = 200
    if form.validate_on_submit():
        try:
            surveys.update_item(g.user, survey, item.id, form.key.data.strip(), form.text.data)
        except surveys.EditRefused as refused:
            _field_error(form, refused.field, refused.messages)
            status = 409 if refused.field is None else 422
        else:
            flash(_("Item saved."), "success")
            return redirect(url_for("manage.edit_items", survey_id=survey.id))
    elif form.errors:
        status = 422
    return render_template(
        "manage/item.html",
        survey=survey,
        item=item,
        form=form,
        locked=locked,
        locked_message=_locked_message() if locked else None,
    ), status


def _questionnaire_action(survey_id: int, item_id: int, change) -> Response:
    survey = _survey(survey_id)
    item = _item(survey, item_id)
    form = f.ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change(survey, item)
    except surveys.EditRefused as refused:
        _flash_refusal(refused)
        return _items_page(survey, status=409)
    return redirect(url_for("manage.edit_items", survey_id=survey.id) + f"#item-{item.id}")


@bp.post("/surveys/<int:survey_id>/items/<int:item_id>/move/<any(up, down):direction>")
def move_item(survey_id: int, item_id: int, direction: str):
    """Move an item one place up or down."""
    return _questionnaire_action(
        survey_id, item_id, lambda s, i: surveys.move_item(g.user, s, i.id, direction)
    )


@bp.post("/surveys/<int:survey_id>/items/<int:item_id>/remove")
def remove_item(survey_id: int, item_id: int):
    """Remove an item."""

    def change(survey, item):
        surveys.remove_item(g.user, survey, item.id)
        flash(_("Item removed."), "success")

    return _questionnaire_action(survey_id, item_id, change)


@bp.route("/surveys/<int:survey_id>/scale", methods=["GET", "POST"])
def edit_scale(survey_id: int):
    """Choose a preset scale or define one (options with key, label, score and favourable)."""
    survey = _survey(survey_id)
    locked = surveys.is_locked(survey)
    form = f.ScaleForm()
    form.preset.choices = [
        (name, str(label)) for name, (label, _o) in surveys.PRESET_SCALES.items()
    ] + [("custom", _("A scale of its own (below)"))]
    if request.method == "GET":
        form.preset.data = surveys.preset_of(survey) or "custom"
        for row, option in zip(form.options, survey.options, strict=False):
            row.form.key.data = option.key
            row.form.label.data = option.label
            row.form.weight.data = f"{option.weight:g}"
            row.form.favourable.data = option.is_favourable
    status = 200
    if form.validate_on_submit():
        if form.preset.data == "custom":
            options = [
                OptionDef(
                    row.form.key.data.strip(),
                    row.form.label.data.strip(),
                    float(row.form.weight.data),
                    bool(row.form.favourable.data),
                )
                for row in form.options
                if not row.form.is_blank()
            ]
        else:
            options = list(surveys.PRESET_SCALES[form.preset.data][1])
        try:
            surveys.set_scale(g.user, survey, options)
        except surveys.EditRefused as refused:
            form.form_errors.extend(refused.messages)
            status = 409 if locked else 422
        else:
            flash(_("Scale saved."), "success")
            return redirect(url_for("manage.show_survey", survey_id=survey.id))
    elif form.errors:
        status = 422
    return render_template(
        "manage/scale.html",
        survey=survey,
        form=form,
        locked=locked,
        locked_message=_locked_message() if locked else None,
    ), status


@bp.route("/surveys/<int:survey_id>/categories", methods=["GET", "POST"])
def edit_categories(survey_id: int):
    """Respondent categories and their weights in the composite."""
    survey = _survey(survey_id)
    form = f.CategoriesForm()
    if request.method == "GET":
        for row, category in zip(form.categories, survey.categories, strict=False):
            row.form.key.data = category.key
            row.form.label.data = category.label
            row.form.weight.data = "" if category.weight is None else f"{category.weight:g}"
    status = 200
    if form.validate_on_submit():
        categories = [
            CategoryDef(
                row.form.key.data.strip(),
                row.form.label.data.strip(),
                float(row.form.weight.data) if row.form.weight.data else None,
            )
            for row in form.categories
            if not row.form.is_blank()
        ]
        try:
            surveys.set_categories(g.user, survey, categories)
        except surveys.EditRefused as refused:
            form.form_errors.extend(refused.messages)
            status = 422
        else:
            flash(_("Categories saved."), "success")
            return redirect(url_for("manage.show_survey", survey_id=survey.id))
    elif form.errors:
        status = 422
    return render_template("manage/categories.html", survey=survey, form=form), status


# ---- lifecycle --------------------------------------------------------------------------------


def _transition_message(survey: Survey, action: str) -> str:
    return _(
        'The survey is %(state)s, so "%(action)s" is not possible now.',
        state=str(views.STATE_LABELS[survey.state]).lower(),
        action=str(views.ACTION_LABELS.get(action, action)),
    )


@bp.post("/surveys/<int:survey_id>/state")
def change_state(survey_id: int):
    """Open, close, reopen, start a test or go live; some ask for a confirmation first."""
    survey = _survey(survey_id)
    form = f.StateForm()
    if not form.validate_on_submit() or form.action.data not in surveys.ACTIONS:
        flash(_("This action does not exist."), "error")
        return _survey_page(survey, 400)
    action = form.action.data
    if action not in surveys.available_actions(survey):
        flash(_transition_message(survey, action), "error")
        return _survey_page(survey, 409)
    if surveys.ACTIONS[action] and form.confirmed.data != "yes":
        return render_template(
            "manage/confirm_state.html",
            survey=survey,
            action=action,
            action_label=views.ACTION_LABELS[action],
            explanation=views.action_explanation(action),
            form=form,
        )
    try:
        surveys.change_state(g.user, survey, action)
    except InvalidTransition:
        db.session.rollback()
        flash(_transition_message(_survey(survey_id), action), "error")
        return _survey_page(_survey(survey_id), 409)
    except surveys.EditRefused as refused:
        _flash_refusal(refused)
        return _survey_page(_survey(survey_id), 409)
    done = {
        "open": _("The survey is open."),
        "close": _("The survey is closed."),
        "reopen": _("The survey is open again."),
        "start_test": _("The survey is open in test mode."),
        "go_live": _("The survey is live: test answers were deleted and test codes voided."),
    }
    flash(done[action], "success")
    return redirect(url_for("manage.show_survey", survey_id=survey.id))


# ---- codes and slips --------------------------------------------------------------------------


def _mint_form(survey: Survey):
    form = f.MintForm()
    branches = _branches(active_only=True)
    form.branch.choices = [(0, _("All active branches (one batch each)"))] + [
        (b.id, f"{b.code} {b.name}") for b in branches
    ]
    form.category.choices = [(c.id, c.label) for c in survey.categories]
    return form, branches


def _codes_page(survey: Survey, form, status: int = 200):
    return render_template(
        "manage/codes.html",
        survey=survey,
        form=form,
        batches=slips.batch_rows(survey),
        action_form=f.ActionForm(),
    ), status


@bp.get("/surveys/<int:survey_id>/codes")
def list_codes(survey_id: int):
    """Minted batches (used counts, void buttons) and the form to mint more."""
    survey = _survey(survey_id)
    form, _active = _mint_form(survey)
    form.count.data = 50
    return _codes_page(survey, form)


def _slips_page(survey: Survey, minted: list[slips.MintedBatch], *, just_minted: bool):
    base_url = current_app.config["CEPING_BASE_URL"]
    for entry in minted:  # load what the slips show, then release the database
        _shown = (entry.batch.branch.name, entry.batch.category.label)
    db.session.commit()  # drawing hundreds of QR codes must not hold SQLite's write lock
    all_slips = slips.build_slips(survey, minted, base_url)
    page = render_template(
        "manage/slips.html",
        survey=survey,
        sheets=slips.pages(all_slips),
        count=len(all_slips),
        batches=minted,
        codes_form=f.CodesForm(formdata=None, codes=slips.dump_payload(minted)),
        just_minted=just_minted,
    )
    return page


@bp.post("/surveys/<int:survey_id>/codes")
def mint_codes(survey_id: int):
    """Mint codes and answer with the printable slips of exactly these codes (shown once)."""
    survey = _survey(survey_id)
    form, branches = _mint_form(survey)
    if not form.validate_on_submit():
        return _codes_page(survey, form, 422)
    chosen = branches if form.branch.data == 0 else [_get(Branch, form.branch.data)]
    category = next(c for c in survey.categories if c.id == form.category.data)
    try:
        minted = slips.mint(g.user, survey, chosen, category, form.count.data, form.reason.data)
    except codes.MintNeedsReason as needs:
        form.reason.errors = [str(needs)]
        return _codes_page(survey, form, 409)
    except codes.MintRefused as refused:
        form.form_errors.append(str(refused))
        return _codes_page(survey, form, 409)
    return _slips_page(survey, minted, just_minted=True)


def _posted_codes(survey: Survey) -> list[slips.MintedBatch]:
    """The codes posted back by the slips page, each checked against its batch's hashes."""
    form = f.CodesForm()
    if not form.validate_on_submit():
        abort(400)
    return slips.load_minted(survey, form.codes.data)


@bp.errorhandler(slips.PayloadRefused)
def refuse_codes(_error: slips.PayloadRefused):
    """Codes that are not those of the survey's live batches: edited, or voided meanwhile."""
    return render_error(
        422,
        _(
            "These codes do not belong to the batches they name, or the batch has been voided. "
            "Nothing was printed or downloaded."
        ),
    )


@bp.post("/surveys/<int:survey_id>/codes/print")
def print_slips(survey_id: int):
    """Print the slips of codes minted a moment ago again (the codes come back from the page)."""
    survey = _survey(survey_id)
    return _slips_page(survey, _posted_codes(survey), just_minted=False)


@bp.post("/surveys/<int:survey_id>/codes/download")
def download_codes(survey_id: int):
    """The codes of the slips page as a CSV file."""
    survey = _survey(survey_id)
    minted = _posted_codes(survey)
    text = slips.codes_csv(survey, minted, current_app.config["CEPING_BASE_URL"])
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{survey.slug}-codes-{stamp}.csv"'
    )
    return response


@bp.route("/surveys/<int:survey_id>/batches/<int:batch_id>/void", methods=["GET", "POST"])
def void_batch(survey_id: int, batch_id: int):
    """Void a batch after a confirmation: its unused codes stop working."""
    survey = _survey(survey_id)
    batch = _get(CodeBatch, batch_id)
    if batch.survey_id != survey.id:
        abort(404)
    form = f.ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
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


# ---- turnout ----------------------------------------------------------------------------------


@bp.get("/surveys/<int:survey_id>/turnout")
def show_turnout(survey_id: int):
    """Codes issued and used, paper ballots and turnout per branch; the page refreshes itself."""
    survey = _survey(survey_id)
    return render_template(
        "manage/turnout.html",
        survey=survey,
        turnout=views.turnout_view(survey_turnout(survey)),
        state_label=views.STATE_LABELS[survey.state],
    )


@bp.get("/surveys/<int:survey_id>/turnout.json")
def turnout_json(survey_id: int):
    """The turnout table as JSON, for the page's refresh (counts only, never answers)."""
    survey = _survey(survey_id)
    data = survey_turnout(survey)
    return jsonify(
        {
            "survey": survey.slug,
            "state": survey.state.value,
            "counts": data.as_dict(),
            "display": views.turnout_view(data),
        }
    )


# ---- paper ballots ----------------------------------------------------------------------------


def _draft(survey: Survey, draft_id: int) -> BallotDraft:
    draft = db.session.get(BallotDraft, draft_id)
    if draft is None or draft.survey_id != survey.id:
        abort(404)
    return draft


@bp.get("/surveys/<int:survey_id>/ballots")
def list_ballots(survey_id: int):
    """Paper ballots: keyed batches waiting for verification, and ways to enter more."""
    survey = _survey(survey_id)
    return render_template(
        "manage/ballots.html",
        survey=survey,
        drafts=ballot_drafts.pending_drafts(survey),
        action_form=f.ActionForm(),
        is_draft_survey=survey.state is SurveyState.DRAFT,
    )


def _grid_page(survey, form, template: str, status: int = 200, **extra):
    layout = views.grid_layout(survey)
    return render_template(
        template,
        survey=survey,
        form=form,
        layout=layout,
        **extra,
    ), status


def _grid_form(survey: Survey, rows: int):
    form_class = views.make_grid_form(survey, _branches(), rows)
    return form_class()


def _read_grid(survey: Survey, form, template: str, source: str, **extra):
    """Rows of a submitted grid, or the page to show again (with errors or more rows)."""
    if form.more.data:
        for _n in range(views.GRID_MORE):
            if len(form.ballots) < views.GRID_MAX_ROWS:
                form.ballots.append_entry()
        return None, _grid_page(survey, form, template, **extra)
    if len(form.ballots) > views.GRID_MAX_ROWS:
        form.form_errors.append(
            _("At most %(n)d ballots can be keyed at once.", n=views.GRID_MAX_ROWS)
        )
        return None, _grid_page(survey, form, template, 422, **extra)
    if not form.validate_on_submit():
        return None, _grid_page(survey, form, template, 422, **extra)
    rows, indices = views.grid_rows(form, survey)
    _ballots, problems = ballot_drafts.check_rows(survey, rows, source)
    if problems:
        loose = views.attach_problems(form, survey, problems, indices)
        form.form_errors.extend(loose)
        return None, _grid_page(survey, form, template, 422, **extra)
    return rows, None


@bp.route("/surveys/<int:survey_id>/ballots/key", methods=["GET", "POST"])
def key_ballots(survey_id: int):
    """The keying grid: one row per paper ballot; the first keying becomes a draft."""
    survey = _survey(survey_id)
    rows_wanted = min(max(request.args.get("rows", views.GRID_ROWS, type=int), 1), 100)
    form = _grid_form(survey, rows_wanted)
    if request.method == "GET":
        return _grid_page(survey, form, "manage/key_ballots.html", verifying=None)
    rows, page = _read_grid(survey, form, "manage/key_ballots.html", _("ballots"), verifying=None)
    if page is not None:
        return page
    draft = ballot_drafts.create_draft(g.user, survey, rows, ballot_drafts.GRID, _("keyed"))
    flash(
        ngettext(
            "%(num)d ballot keyed. Now a second person keys the same ballots to check them.",
            "%(num)d ballots keyed. Now a second person keys the same ballots to check them.",
            len(rows),
        ),
        "success",
    )
    return redirect(url_for("manage.show_draft", survey_id=survey.id, draft_id=draft.id))


@bp.get("/surveys/<int:survey_id>/ballots/<int:draft_id>")
def show_draft(survey_id: int, draft_id: int):
    """A draft: how many ballots it holds and what comes next (never the keyed values)."""
    survey = _survey(survey_id)
    draft = _draft(survey, draft_id)
    summary = next(s for s in ballot_drafts.pending_drafts(survey) if s.draft.id == draft.id)
    data = ballot_drafts.payload(draft)
    return render_template(
        "manage/draft.html",
        survey=survey,
        summary=summary,
        branch_counts=ballot_drafts.branch_counts(data["first"])
        if summary.origin == ballot_drafts.UPLOAD
        else None,
        action_form=f.ActionForm(),
    )


@bp.route("/surveys/<int:survey_id>/ballots/<int:draft_id>/verify", methods=["GET", "POST"])
def verify_ballots(survey_id: int, draft_id: int):
    """Blind second keying: the same ballots typed again, then compared cell by cell."""
    survey = _survey(survey_id)
    draft = _draft(survey, draft_id)
    data = ballot_drafts.payload(draft)
    if data["origin"] != ballot_drafts.GRID:
        abort(404)
    if data.get("second") is not None:
        return redirect(url_for("manage.resolve_ballots", survey_id=survey.id, draft_id=draft.id))
    expected = len(data["first"])
    form = _grid_form(survey, expected)
    template = "manage/key_ballots.html"
    extra = {"verifying": draft, "expected": expected, "same_keyer": draft.created_by == g.user.id}
    if request.method == "GET":
        return _grid_page(survey, form, template, **extra)
    rows, page = _read_grid(survey, form, template, _("second keying"), **extra)
    if page is not None:
        return page
    try:
        found = ballot_drafts.record_second_keying(g.user, survey, draft, rows)
    except Rejected as rejected:
        form.form_errors.extend(p.message for p in rejected.problems)
        return _grid_page(survey, form, template, 409, **extra)
    if not found:
        flash(
            ngettext(
                "Both keyings agree: %(num)d paper ballot stored.",
                "Both keyings agree: %(num)d paper ballots stored.",
                expected,
            ),
            "success",
        )
        return redirect(url_for("manage.list_ballots", survey_id=survey.id))
    flash(
        ngettext(
            "The keyings disagree in %(num)d place. Check it against the paper.",
            "The keyings disagree in %(num)d places. Check them against the paper.",
            len(found),
        ),
        "error",
    )
    return redirect(url_for("manage.resolve_ballots", survey_id=survey.id, draft_id=draft.id))


@bp.route("/surveys/<int:survey_id>/ballots/<int:draft_id>/resolve", methods=["GET", "POST"])
def resolve_ballots(survey_id: int, draft_id: int):
    """Settle each disagreement against the paper; then the ballots are stored."""
    survey = _survey(survey_id)
    draft = _draft(survey, draft_id)
    found = ballot_drafts.pending_differences(survey, draft)
    if not found:
        return redirect(url_for("manage.show_draft", survey_id=survey.id, draft_id=draft.id))
    branches = _branches()
    form = f.ActionForm()
    status = 200
    submitted: dict[str, str] = {}
    missing: set[str] = set()
    problems: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        labels = views.value_labels(survey, branches)
        choices = {}
        for difference in found:
            name = f"d-{difference.ballot}-{difference.column}"
            value = request.form.get(name, "")
            submitted[name] = value
            allowed = labels.get(difference.column, {})
            if value == views.BLANK:
                choices[(difference.ballot, difference.column)] = ""
            elif value in allowed:
                choices[(difference.ballot, difference.column)] = value
            else:
                missing.add(name)
        if not missing:
            rows = ballot_drafts.resolve(survey, draft, choices)
            try:
                count = ballot_drafts.commit(g.user, survey, draft, rows)
            except Rejected as rejected:
                problems = [
                    _("Ballot %(n)d: %(message)s", n=p.line, message=p.message)
                    if p.line
                    else p.message
                    for p in rejected.problems
                ]
                status = 422
            else:
                flash(
                    ngettext(
                        "%(num)d paper ballot stored.", "%(num)d paper ballots stored.", count
                    ),
                    "success",
                )
                return redirect(url_for("manage.list_ballots", survey_id=survey.id))
        else:
            status = 422
    elif request.method == "POST":
        abort(400)
    return render_template(
        "manage/resolve.html",
        survey=survey,
        draft=draft,
        rows=views.disagreement_rows(survey, branches, found, submitted, missing),
        form=form,
        problems=problems,
    ), status


@bp.post("/surveys/<int:survey_id>/ballots/<int:draft_id>/commit")
def commit_ballots(survey_id: int, draft_id: int):
    """Store the ballots of a checked upload (an uploaded file is committed on confirmation)."""
    survey = _survey(survey_id)
    draft = _draft(survey, draft_id)
    data = ballot_drafts.payload(draft)
    if data["origin"] != ballot_drafts.UPLOAD or not f.ActionForm().validate_on_submit():
        abort(400)
    try:
        count = ballot_drafts.commit(g.user, survey, draft, data["first"], data.get("lines"))
    except Rejected as rejected:
        for problem in rejected.problems:
            flash(str(problem), "error")
        return redirect(url_for("manage.show_draft", survey_id=survey.id, draft_id=draft_id))
    flash(ngettext("%(num)d paper ballot stored.", "%(num)d paper ballots stored.", count))
    return redirect(url_for("manage.list_ballots", survey_id=survey.id))


@bp.post("/surveys/<int:survey_id>/ballots/<int:draft_id>/discard")
def discard_ballots(survey_id: int, draft_id: int):
    """Throw a draft away; nothing of it is stored."""
    survey = _survey(survey_id)
    draft = _draft(survey, draft_id)
    if not f.ActionForm().validate_on_submit():
        abort(400)
    ballot_drafts.discard(g.user, survey, draft)
    flash(_("The keyed ballots were discarded."), "success")
    return redirect(url_for("manage.list_ballots", survey_id=survey.id))


@bp.route("/surveys/<int:survey_id>/ballots/upload", methods=["GET", "POST"])
def upload_ballots(survey_id: int):
    """Check a ballots file (same format as ``import-responses``) and keep it for confirmation."""
    survey = _survey(survey_id)
    form = f.UploadBallotsForm()
    problems = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        name = upload.filename or "ballots.csv"
        try:
            table = read_ballots(survey, upload.read(), name)
            _ballots, problems = parse_ballots(survey, table)
        except Rejected as rejected:
            problems = rejected.problems
        if not problems:
            columns = ["branch", "category", *(i.key for i in survey.items), "comment"]
            rows = [{c: row.get(c) for c in columns if row.get(c)} for row in table.rows]
            lines = [row.line for row in table.rows]
            try:
                draft = ballot_drafts.create_draft(
                    g.user, survey, rows, ballot_drafts.UPLOAD, name, lines
                )
            except Rejected as rejected:
                problems = rejected.problems
            else:
                return redirect(
                    url_for("manage.show_draft", survey_id=survey.id, draft_id=draft.id)
                )
        status = 422
    elif form.errors:
        status = 422
    return render_template(
        "manage/upload_ballots.html",
        survey=survey,
        form=form,
        problems=problems,
        columns=", ".join(
            ["branch", "category", *(i.key for i in survey.items)]
            + (["comment"] if survey.allows_comments else [])
        ),
    ), status


# ---- branches ---------------------------------------------------------------------------------


def _branches_page(status: int = 200):
    branches = db.session.scalars(
        select(Branch).options(selectinload(Branch.parent)).order_by(Branch.code)
    ).all()
    return render_template(
        "manage/branches.html",
        branches=[(b, branch_is_used(b)) for b in branches],
        action_form=f.ActionForm(),
    ), status


@bp.get("/branches")
def list_branches():
    """Every branch with its parent and whether it is active; delete or deactivate."""
    return _branches_page()


def _branch_form(branch: Branch | None):
    form = f.BranchForm(obj=branch)
    choices = [(0, _("(none)"))]
    choices += [
        (b.id, f"{b.code} {b.name}") for b in _branches() if branch is None or b.id != branch.id
    ]
    form.parent.choices = choices
    if request.method == "GET" and branch is not None:
        form.parent.data = branch.parent_id or 0
    return form


def _save_branch(branch: Branch | None):
    form = _branch_form(branch)
    if form.validate_on_submit():
        code = form.code.data.strip()
        other = db.session.scalar(select(Branch).where(Branch.code == code))
        if other is not None and (branch is None or other.id != branch.id):
            _field_error(form, "code", [_("Another branch already has this code.")])
        else:
            parent = db.session.get(Branch, form.parent.data) if form.parent.data else None
            try:
                save_branch(branch, code, form.name.data.strip(), parent, user=g.user)
            except ValueError:
                _field_error(form, "parent", [_("This would make a loop of branches.")])
            else:
                flash(_("Branch saved."), "success")
                return redirect(url_for("manage.list_branches"))
    status = 422 if form.errors else 200
    return render_template("manage/branch.html", form=form, branch=branch), status


@bp.route("/branches/new", methods=["GET", "POST"])
def new_branch():
    """Add a branch."""
    return _save_branch(None)


@bp.route("/branches/<int:branch_id>", methods=["GET", "POST"])
def edit_branch(branch_id: int):
    """Change a branch's code, name or parent."""
    return _save_branch(_get(Branch, branch_id))


def _branch_action(branch_id: int, action) -> Response:
    branch = _get(Branch, branch_id)
    if not f.ActionForm().validate_on_submit():
        abort(400)
    return action(branch)


@bp.post("/branches/<int:branch_id>/deactivate")
def deactivate_branch(branch_id: int):
    """Deactivate a branch: it gets no new codes; its results stay."""

    def action(branch):
        set_branch_active(branch, False, user=g.user)
        flash(_("Branch %(code)s deactivated.", code=branch.code), "success")
        return redirect(url_for("manage.list_branches"))

    return _branch_action(branch_id, action)


@bp.post("/branches/<int:branch_id>/activate")
def activate_branch(branch_id: int):
    """Make a deactivated branch active again."""

    def action(branch):
        set_branch_active(branch, True, user=g.user)
        flash(_("Branch %(code)s is active again.", code=branch.code), "success")
        return redirect(url_for("manage.list_branches"))

    return _branch_action(branch_id, action)


@bp.post("/branches/<int:branch_id>/delete")
def delete_branch(branch_id: int):
    """Delete a branch that nothing refers to; otherwise explain and offer deactivation."""

    def action(branch):
        code = branch.code
        try:
            delete_branch_row(branch, user=g.user)
        except BranchInUse:
            flash(
                _(
                    "Branch %(code)s has responses, codes, accounts or sub-branches, so it is "
                    "never deleted: results must stay complete. Deactivate it instead.",
                    code=code,
                ),
                "error",
            )
            return _branches_page(409)
        flash(_("Branch %(code)s deleted.", code=code), "success")
        return redirect(url_for("manage.list_branches"))

    return _branch_action(branch_id, action)


def _import_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="ceping.manage.import_branches")


def _dump_table(table: Table) -> str:
    return _import_serializer().dumps(
        {
            "source": table.source,
            "header": table.header,
            "header_line": table.header_line,
            "rows": [[row.line, row.cells] for row in table.rows],
        }
    )


def _load_table(payload: str) -> Table:
    data = _import_serializer().loads(payload, max_age=IMPORT_MAX_AGE)
    return Table(
        data["source"],
        list(data["header"]),
        int(data["header_line"]),
        [Row(int(line), dict(cells)) for line, cells in data["rows"]],
    )


def _import_page(form, plan=None, problems=None, confirm=None, status=200):
    return render_template(
        "manage/import_branches.html",
        form=form,
        plan=plan,
        problems=problems or [],
        confirm_form=confirm,
    ), status


@bp.route("/branches/import", methods=["GET", "POST"])
def import_branches():
    """Upload a CSV or .xlsx of branches; a preview shows what would be added or changed."""
    form = f.UploadForm()
    if not form.validate_on_submit():
        return _import_page(form, status=422 if form.errors else 200)
    upload = form.file.data
    try:
        table = read_table(upload.read(), upload.filename or "branches.csv")
    except Rejected as rejected:
        return _import_page(form, problems=rejected.problems, status=422)
    payload = _dump_table(table)
    plan = plan_branches(table)
    if plan.problems:
        return _import_page(form, plan, plan.problems, status=422)
    confirm = f.ConfirmImportForm(formdata=None, payload=payload)
    return _import_page(form, plan, confirm=confirm)


@bp.post("/branches/import/confirm")
def confirm_import():
    """Apply a previewed import, after checking the signed rows against the database again."""
    confirm = f.ConfirmImportForm()
    if not confirm.validate_on_submit():
        abort(400)
    try:
        table = _load_table(confirm.payload.data)
    except (BadSignature, KeyError, TypeError, ValueError):
        flash(_("This preview has expired or was changed. Please upload the file again."), "error")
        return _import_page(f.UploadForm(formdata=None), status=400)
    with db.transaction():
        plan = plan_branches(table)
        if not plan.problems:
            apply_branch_plan(plan, user=g.user)
    if plan.problems:
        return _import_page(f.UploadForm(formdata=None), plan, plan.problems, status=409)
    flash(
        _(
            "Branches imported: %(added)d added, %(changed)d changed, %(same)d unchanged.",
            added=len(plan.to_add),
            changed=len(plan.to_change),
            same=plan.unchanged,
        ),
        "success",
    )
    return redirect(url_for("manage.list_branches"))


# ---- users ------------------------------------------------------------------------------------


def _role_form(form_class, user: User | None = None):
    form = form_class(obj=user) if user is not None else form_class()
    form.branch.choices = [(0, _("(none)"))] + [(b.id, f"{b.code} {b.name}") for b in _branches()]
    if request.method == "GET" and user is not None:
        form.role.data = user.role.value
        form.branch.data = user.branch_id or 0
    return form


def _users_page(status: int = 200):
    return render_template(
        "manage/users.html",
        users=users.list_users(),
        action_form=f.ActionForm(),
        role_labels=dict(f.ROLE_CHOICES),
    ), status


@bp.get("/users")
def list_users():
    """Every office account with its role, branch and status."""
    return _users_page()


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    """Create an account with a first password."""
    form = _role_form(f.NewUserForm)
    if form.validate_on_submit():
        branch = db.session.get(Branch, form.branch.data) if form.branch.data else None
        try:
            users.create_user(
                g.user, form.username.data, form.password.data, Role(form.role.data), branch
            )
        except users.UserRefused as refused:
            _field_error(form, refused.field, [refused.message])
        else:
            flash(_("Account created."), "success")
            return redirect(url_for("manage.list_users"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("manage/user.html", form=form, account=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    """Change an account's role and branch."""
    account = _get(User, user_id)
    form = _role_form(f.RoleForm, account)
    if form.validate_on_submit():
        branch = db.session.get(Branch, form.branch.data) if form.branch.data else None
        try:
            users.update_user(g.user, account, Role(form.role.data), branch)
        except users.UserRefused as refused:
            _field_error(form, refused.field, [refused.message])
        else:
            flash(_("Account saved."), "success")
            return redirect(url_for("manage.list_users"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "manage/user.html",
        form=form,
        account=account,
        password_url=url_for("manage.reset_password", user_id=account.id),
    ), status


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int):
    """Give an account a new password (its sessions end)."""
    account = _get(User, user_id)
    form = f.PasswordResetForm()
    if form.validate_on_submit():
        users.reset_password(g.user, account, form.password.data)
        flash(_("Password of %(name)s changed.", name=account.username), "success")
        return redirect(url_for("manage.list_users"))
    status = 422 if form.errors else 200
    return render_template("manage/password.html", form=form, account=account), status


def _set_active(user_id: int, active: bool):
    account = _get(User, user_id)
    if not f.ActionForm().validate_on_submit():
        abort(400)
    try:
        users.set_active(g.user, account, active)
    except users.UserRefused as refused:
        flash(refused.message, "error")
        return _users_page(409)
    if active:
        flash(_("Account %(name)s is active again.", name=account.username), "success")
    else:
        flash(_("Account %(name)s deactivated.", name=account.username), "success")
    return redirect(url_for("manage.list_users"))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int):
    """Deactivate an account: it can no longer sign in."""
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/activate")
def activate_user(user_id: int):
    """Reactivate an account."""
    return _set_active(user_id, True)
