"""The manage area's campaigns and surveys: the dashboard, settings and the lifecycle buttons."""

from __future__ import annotations

from flask import (
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from survey.db import db
from survey.manage import bp
from survey.manage import forms as f
from survey.manage.base import current_survey, locked_message, save_form
from survey.models import (
    Access,
    Action,
    BallotDraft,
    Branch,
    Campaign,
    InvalidTransition,
    ResultsVisibility,
    Survey,
    SurveyKind,
)
from survey.refusals import Refusal
from survey.services import ballot_drafts, lifecycle, surveys
from survey.services.definition_yaml import export_definition
from survey.services.lookup import get_row

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
        branch_count=db.session.scalar(select(func.count(Branch.id))),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    """Create a campaign."""
    form = f.CampaignForm()
    done, status = save_form(
        form,
        lambda: surveys.create_campaign(g.user, form.slug.data, form.title.data),
        _("Campaign created."),
        url_for("manage.show_dashboard"),
    )
    return done or (render_template("manage/campaign.html", form=form, campaign=None), status)


@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
def edit_campaign(campaign_id: int):
    """Rename a campaign (its short name stays, as files and addresses use it)."""
    campaign = get_row(Campaign, campaign_id)
    form = f.CampaignForm(obj=campaign)
    form.slug.data = campaign.slug
    done, status = save_form(
        form,
        lambda: surveys.update_campaign(g.user, campaign, form.title.data),
        _("Campaign saved."),
        url_for("manage.show_dashboard"),
    )
    return done or (render_template("manage/campaign.html", form=form, campaign=campaign), status)


# ---- surveys ----------------------------------------------------------------------------------


def _start_choices() -> list[tuple[str, str]]:
    """How a new survey can start: empty, from a template (the 2005 campaign's), or a copy."""
    choices = [("blank", _("An empty questionnaire"))]
    choices += [
        (f"template:{t.name}", _("Template: %(title)s", title=t.title)) for t in surveys.templates()
    ]
    earlier = db.session.scalars(select(Survey).order_by(Survey.id.desc())).all()
    choices += [
        (f"copy:{s.id}", _("Copy of: %(title)s (%(slug)s)", title=s.title, slug=s.slug))
        for s in earlier
    ]
    return choices


@bp.route("/surveys/new", methods=["GET", "POST"])
def new_survey():
    """Create a survey: blank, from a template, or as a copy of another."""
    form = f.NewSurveyForm()
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).all()
    form.campaign.choices = [(c.id, c.title) for c in campaigns]
    form.start.choices = _start_choices()
    if request.method == "GET":
        form.campaign.data = request.args.get("campaign", type=int)
        wanted = request.args.get("start", "blank")
        known = {value for value, _label in form.start.choices}
        form.start.data = wanted if wanted in known else "blank"
    done, status = save_form(
        form,
        lambda: surveys.create_survey(
            g.user,
            db.session.get(Campaign, form.campaign.data),
            form.slug.data,
            form.title.data,
            SurveyKind(form.kind.data),
            form.start.data,
        ),
        _("Survey created."),
        lambda survey: url_for("manage.show_survey", survey_id=survey.id),
    )
    return done or (render_template("manage/new_survey.html", form=form), status)


def survey_page(status: int = 200):
    """The survey's overview page (also shown again after a refused state change)."""
    survey = current_survey()
    locked = surveys.is_locked(survey)
    return render_template(
        "manage/survey.html",
        survey=survey,
        locked=locked,
        locked_message=locked_message() if locked else None,
        actions=lifecycle.available_actions(survey),
        state_form=f.StateForm(),
        readiness=lifecycle.readiness_problems(survey),
        drafts=len(ballot_drafts.pending_drafts(survey)),
        copy_url=url_for(
            "manage.new_survey", campaign=survey.campaign_id, start=f"copy:{survey.id}"
        ),
        results_url=url_for("results.show_survey", slug=survey.slug)
        if "results.show_survey" in current_app.view_functions
        else None,
    ), status


@bp.get("/surveys/<int:survey_id>")
def show_survey():
    """A survey's overview: state, lifecycle buttons and the pages that manage it."""
    return survey_page()


def _settings_form(survey: Survey) -> f.SettingsForm:
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
    return form


@bp.route("/surveys/<int:survey_id>/settings", methods=["GET", "POST"])
def edit_survey():
    """Change a survey's title and settings."""
    survey = current_survey()
    form = _settings_form(survey)
    done, status = save_form(
        form,
        lambda: surveys.update_settings(
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
        ),
        _("Settings saved."),
        url_for("manage.show_survey", survey_id=survey.id),
    )
    return done or (render_template("manage/settings.html", survey=survey, form=form), status)


@bp.get("/surveys/<int:survey_id>/export.yaml")
def export_survey():
    """Download the survey as the YAML definition that ``load-survey`` reads."""
    survey = current_survey()
    response = Response(export_definition(survey), content_type="application/yaml; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{survey.slug}.yaml"'
    return response


# ---- lifecycle --------------------------------------------------------------------------------


@bp.post("/surveys/<int:survey_id>/state")
def change_state():
    """Open, close, reopen, start a test or go live; some ask for a confirmation first."""
    survey = current_survey()
    form = f.StateForm()
    if not form.validate_on_submit() or form.action.data not in set(Action):
        flash(_("This action does not exist."), "error")
        return survey_page(400)
    action = Action(form.action.data)
    if not action.allowed(survey.state, survey.is_test_mode):
        return _refused_state_change(InvalidTransition(survey.slug, survey.state, action))
    if action.confirmation and form.confirmed.data != "yes":
        return render_template("manage/confirm_state.html", survey=survey, action=action, form=form)
    try:
        lifecycle.change_state(g.user, survey, action)
    except Refusal as refused:
        return _refused_state_change(refused)
    flash(action.done, "success")
    return redirect(url_for("manage.show_survey", survey_id=survey.id))


def _refused_state_change(refused: Refusal):
    """The survey's page again (as it is now), with why the action was refused."""
    db.session.rollback()
    for message in refused.messages:
        flash(message, "error")
    return survey_page(refused.status)
