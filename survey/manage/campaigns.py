"""The manage area's campaigns: creating and renaming them, the branches each one measures,
and deleting (never used) or archiving (finished) campaigns and surveys."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.db import db
from survey.manage import bp
from survey.manage import survey_forms as sf
from survey.manage.base import branches, current_survey, save_form, show_refusal
from survey.models import Campaign
from survey.refusals import BadRequest, Refusal
from survey.services import campaigns, retention, surveys
from survey.services.lookup import get_row


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    """Create a campaign (its short name is made from the title unless one is typed)."""
    form = sf.CampaignForm()
    done, status = save_form(
        form,
        lambda: surveys.create_campaign(g.user, form.slug.data, form.title.data),
        _("Campaign created."),
        lambda campaign: url_for("manage.edit_campaign_branches", campaign_id=campaign.id),
    )
    return done or (render_template("manage/campaign.html", form=form, campaign=None), status)


@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
def edit_campaign(campaign_id: int):
    """Rename a campaign (its short name stays, as files and addresses use it)."""
    campaign = get_row(Campaign, campaign_id)
    form = sf.CampaignForm(obj=campaign)
    form.slug.data = campaign.slug
    done, status = save_form(
        form,
        lambda: surveys.update_campaign(g.user, campaign, form.title.data),
        _("Campaign saved."),
        url_for("manage.show_dashboard"),
    )
    return done or (render_template("manage/campaign.html", form=form, campaign=campaign), status)


@bp.route("/campaigns/<int:campaign_id>/branches", methods=["GET", "POST"])
def edit_campaign_branches(campaign_id: int):
    """Choose the branches the campaign measures (its reports, turnout and codes list them)."""
    campaign = get_row(Campaign, campaign_id)
    form = sf.CampaignBranchesForm()
    listed = branches()
    form.branches.choices = [
        (b.id, f"{b.code} {b.name}" + ("" if b.is_active else f" ({_('inactive')})"))
        for b in listed
    ]
    if request.method == "GET":
        form.branches.data = [b.id for b in campaign.branches]
    done, status = save_form(
        form,
        lambda: campaigns.set_branches(g.user, campaign, form.branches.data or []),
        _("The campaign's branches are saved."),
        url_for("manage.edit_campaign_branches", campaign_id=campaign.id),
    )
    if done:
        return done
    return render_template(
        "manage/campaign_branches.html", form=form, campaign=campaign, branch_count=len(listed)
    ), status


def _confirmed(form) -> bool:
    """Whether a confirmation page was answered (a POST with a valid token)."""
    if request.method != "POST":
        return False
    if not form.validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    return True


def _confirm_page(title: str, text: str, button: str, form, back: str, status: int = 200):
    return render_template(
        "manage/confirm.html", title=title, text=text, button=button, form=form, back=back
    ), status


def _carry_out(change, done: str, to: str, page):
    """Run a confirmed deletion or archiving; its refusal is shown on the confirmation page."""
    try:
        change()
    except Refusal as refused:
        db.session.rollback()
        form = sf.ConfirmForm(formdata=None)
        show_refusal(form, refused)
        return page(form, refused.status)
    flash(done, "success")
    return redirect(to)


@bp.route("/campaigns/<int:campaign_id>/delete", methods=["GET", "POST"])
def delete_campaign(campaign_id: int):
    """Delete a campaign whose surveys are all unused drafts, after a confirmation."""
    campaign = get_row(Campaign, campaign_id)
    form = sf.ConfirmForm()

    def page(form, status=200):
        return _confirm_page(
            _("Delete the campaign %(title)s?", title=campaign.title),
            _(
                "The campaign and its %(n)d draft surveys are deleted for good. Only a campaign "
                "whose surveys never had codes, answers or keyed ballots can be deleted.",
                n=len(campaign.surveys),
            ),
            _("Delete the campaign"),
            form,
            url_for("manage.show_dashboard"),
            status,
        )

    if not _confirmed(form):
        return page(form)
    title = campaign.title
    return _carry_out(
        lambda: retention.delete_campaign(g.user, campaign),
        _("Campaign %(title)s deleted.", title=title),
        url_for("manage.show_dashboard"),
        page,
    )


@bp.post("/campaigns/<int:campaign_id>/archive")
def archive_campaign(campaign_id: int):
    """Archive a finished campaign, or (``restore``) bring it back to the default lists."""
    campaign = get_row(Campaign, campaign_id)
    archived = request.form.get("restore") != "1"
    if not sf.ConfirmForm().validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    try:
        retention.set_campaign_archived(g.user, campaign, archived)
    except Refusal as refused:
        db.session.rollback()
        for message in refused.messages:
            flash(message, "error")
        return redirect(url_for("manage.show_dashboard"))
    flash(_("Campaign archived.") if archived else _("Campaign restored."), "success")
    return redirect(url_for("manage.show_dashboard", archived=1 if not archived else None))


@bp.route("/surveys/<int:survey_id>/delete", methods=["GET", "POST"])
def delete_survey():
    """Delete a draft survey that never had codes, answers or keyed ballots, after a
    confirmation."""
    survey = current_survey()
    form = sf.ConfirmForm()

    def page(form, status=200):
        return _confirm_page(
            _("Delete the survey %(title)s?", title=survey.title),
            _(
                "The draft and its questionnaire are deleted for good. Only a draft that never "
                "had codes, answers or keyed ballots can be deleted."
            ),
            _("Delete the survey"),
            form,
            url_for("manage.show_survey", survey_id=survey.id),
            status,
        )

    if not _confirmed(form):
        return page(form)
    title = survey.title
    return _carry_out(
        lambda: retention.delete_survey(g.user, survey),
        _("Survey %(title)s deleted.", title=title),
        url_for("manage.show_dashboard"),
        page,
    )


@bp.post("/surveys/<int:survey_id>/archive")
def archive_survey():
    """Archive a closed survey, or (``restore``) bring it back to the default lists."""
    survey = current_survey()
    archived = request.form.get("restore") != "1"
    if not sf.ConfirmForm().validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    try:
        retention.set_survey_archived(g.user, survey, archived)
    except Refusal as refused:
        db.session.rollback()
        for message in refused.messages:
            flash(message, "error")
        return redirect(url_for("manage.show_survey", survey_id=survey.id))
    flash(_("Survey archived.") if archived else _("Survey restored."), "success")
    return redirect(url_for("manage.show_survey", survey_id=survey.id))
