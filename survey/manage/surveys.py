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
from survey.manage import survey_forms as sf
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
from survey.refusals import NotFound, Refusal
from survey.respond.forms import make_response_form
from survey.services import ballot_drafts, lifecycle, links, retention, surveys
from survey.services.definition_yaml import export_definition

# ---- dashboard and campaigns ------------------------------------------------------------------


@bp.before_app_request
def _apply_schedules() -> None:
    """Open and close scheduled surveys on time, even when only respondents come by (one cheap
    query per process every few seconds: :func:`lifecycle.apply_due_schedules_now_and_then`)."""
    lifecycle.apply_due_schedules_now_and_then()


@bp.get("/")
def show_dashboard():
    """Campaigns and their surveys, with where each survey stands; archived ones only when
    asked for (``?archived=1``)."""
    show_archived = request.args.get("archived") == "1"
    campaigns = db.session.scalars(
        select(Campaign).options(selectinload(Campaign.surveys)).order_by(Campaign.id.desc())
    ).all()
    archived = sum(c.is_archived for c in campaigns) + sum(
        s.is_archived for c in campaigns if not c.is_archived for s in c.surveys
    )
    drafts = dict(
        db.session.execute(
            select(BallotDraft.survey_id, func.count(BallotDraft.id)).group_by(
                BallotDraft.survey_id
            )
        ).all()
    )
    return render_template(
        "manage/dashboard.html",
        campaigns=[c for c in campaigns if show_archived or not c.is_archived],
        show_archived=show_archived,
        archived_count=archived,
        drafts=drafts,
        branch_count=db.session.scalar(select(func.count(Branch.id))),
        action_form=sf.ConfirmForm(),
    )


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
    form = sf.NewSurveyForm()
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
        schedule=_schedule_facts(survey),
        can_delete=not retention.deletion_problems(survey),
        action_form=sf.ConfirmForm(),
        links=links.survey_links(survey) if survey.access is Access.LINK else [],
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


def _schedule_facts(survey: Survey) -> dict:
    """The survey's schedule in the office's time zone, for its page."""
    return {
        "zone": str(lifecycle.time_zone()),
        "opens_at": lifecycle.to_local(survey.opens_at),
        "closes_at": lifecycle.to_local(survey.closes_at),
        "target": None if survey.target is None else f"{survey.target * 100:.4g}",
        "blocked": survey.state.value == "draft"
        and survey.opens_at is not None
        and survey.opens_at <= lifecycle.utc_now(),
    }


def _settings_form(survey: Survey) -> sf.SettingsForm:
    form = sf.SettingsForm()
    if request.method == "GET":
        form.target.data = None if survey.target is None else round(survey.target * 100, 1)
        form.welcome_text.data = survey.welcome_text
        form.thanks_text.data = survey.thanks_text
        form.opens_at.data = lifecycle.to_local(survey.opens_at)
        form.closes_at.data = lifecycle.to_local(survey.closes_at)
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
            texts=_texts(form),
        ),
        _("Settings saved."),
        url_for("manage.show_survey", survey_id=survey.id),
    )
    return done or (
        render_template(
            "manage/settings.html", survey=survey, form=form, zone=str(lifecycle.time_zone())
        ),
        status,
    )


def _texts(form: sf.SettingsForm) -> surveys.SurveyTexts:
    """The target, texts and schedule of a sent settings form (times converted to UTC)."""
    return surveys.SurveyTexts(
        target=None if form.target.data is None else form.target.data / 100,
        welcome_text=form.welcome_text.data or "",
        thanks_text=form.thanks_text.data or "",
        opens_at=lifecycle.to_utc(form.opens_at.data),
        closes_at=lifecycle.to_utc(form.closes_at.data),
    )


@bp.get("/surveys/<int:survey_id>/preview")
def preview_survey():
    """The questionnaire exactly as a phone shows it (the respondents' template), without a
    code; the form posts nowhere and nothing is stored."""
    survey = current_survey()
    is_link = survey.access is Access.LINK
    form = make_response_form(
        survey, with_code=False, choose_category=is_link and len(survey.categories) > 1
    )(formdata=None)
    return render_template(
        "manage/preview.html",
        survey=survey,
        form=form,
        item_fields=form.item_fields(),
        is_open_link=is_link,
        comment_limit=survey.comment_max_length if survey.allows_comments else None,
    )


@bp.get("/surveys/<int:survey_id>/poster/<int:branch_id>")
def show_poster(branch_id: int):
    """A printable A4 poster of one branch's open link, with its QR code."""
    survey = current_survey()
    link = next((x for x in links.survey_links(survey) if x.branch.id == branch_id), None)
    if link is None or survey.access is not Access.LINK:
        raise NotFound(_("This page does not exist."))
    return render_template(
        "manage/poster.html", survey=survey, link=link, qr=links.poster_qr(link.url)
    )


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
