"""Views of the results area: campaigns, survey results, branch detail, stage comparison, exports.

Each view loads, checks access, asks ``services.report`` for the published figures and hands
them to ``results.views`` / ``results.charts`` for the page. A branch viewer only ever gets a
report built for their own branch; sealed surveys show turnout only.
"""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from survey.auth.access import can_view_branch, require_roles
from survey.db import db
from survey.errors import render_error
from survey.models import Branch, Campaign, Role, Survey
from survey.results import bp, charts, views
from survey.results.forms import CompareForm, ItemForm
from survey.services import exports
from survey.services import report as reports
from survey.services.turnout import survey_turnout

#: Roles that read every branch and may export.
READ_ALL = (Role.ADMIN, Role.SUPERVISOR)


def get_campaign_or_404(slug: str) -> Campaign:
    """The campaign with this slug, its surveys loaded, or a 404."""
    campaign = db.session.scalar(
        select(Campaign).where(Campaign.slug == slug).options(selectinload(Campaign.surveys))
    )
    if campaign is None:
        abort(404)
    return campaign


def get_survey_or_404(slug: str) -> Survey:
    """The survey with this slug, or a 404."""
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
    if survey is None:
        abort(404)
    return survey


def viewer_branch_id() -> int | None:
    """The one branch a branch viewer may read; None for roles that read every branch."""
    return g.user.branch_id if g.user.role is Role.BRANCH_VIEWER else None


def done_reading() -> None:
    """End the read transaction before the figures are turned into charts: on SQLite every
    transaction holds the write lock, and respondents should not wait for chart building."""
    db.session.commit()


def may_export() -> bool:
    """Whether the signed-in user may download exports."""
    return g.user.role in READ_ALL


@bp.route("/")
@require_roles()
def list_campaigns():
    """Campaigns, newest first, and their surveys with their state."""
    campaigns = db.session.scalars(
        select(Campaign)
        .options(selectinload(Campaign.surveys))
        .order_by(Campaign.created_on.desc(), Campaign.id.desc())
    ).all()
    return render_template("results/campaigns.html", campaigns=campaigns)


@bp.route("/campaigns/<slug>")
@require_roles()
def show_campaign(slug: str):
    """A campaign's surveys: turnout for each, per-item rates for those whose results are out."""
    campaign = get_campaign_or_404(slug)
    branch_id = viewer_branch_id()
    summaries = []
    for survey in campaign.surveys:
        turnout = survey_turnout(survey, branch_id=branch_id)
        report = None
        if not survey.results_are_sealed:
            report = reports.build_report(survey, branch_id=branch_id)
        summaries.append(views.survey_summary(survey, turnout, report))
    done_reading()
    return render_template(
        "results/campaign.html",
        campaign=campaign,
        summaries=summaries,
        turnout=views.campaign_turnout(summaries),
        sealed_message=views.sealed_message(),
    )


@bp.route("/surveys/<slug>")
@require_roles()
def show_survey(slug: str):
    """One survey: ranks, funnel, distribution, heat map, tests and α (or turnout if sealed)."""
    survey = get_survey_or_404(slug)
    if g.user.role is Role.BRANCH_VIEWER:
        return redirect(url_for("results.show_branch", slug=slug, code=g.user.branch.code))
    turnout = survey_turnout(survey)
    turnout_table = views.turnout_table(turnout, _("Turnout by branch"))
    if survey.results_are_sealed:
        return render_template(
            "results/survey.html",
            survey=survey,
            turnout=turnout_table,
            sealed_message=views.sealed_message(),
        )
    report = reports.build_report(survey)
    done_reading()
    form = ItemForm(request.args, report["items"])
    item = form.chosen()
    if item is None:
        return render_error(400, _("This survey has no such item. Choose one from the list."))
    return render_template(
        "results/survey.html",
        survey=survey,
        turnout=turnout_table,
        form=form,
        item=item,
        results=views.survey_results(report, item),
        branches=charts.branch_labels(report["branches"]),
        report=report,
        may_export=may_export(),
    )


@bp.route("/surveys/<slug>/branches/<code>")
@require_roles()
def show_branch(slug: str, code: str):
    """One branch: every item with its interval and mark, categories, comments if shown."""
    survey = get_survey_or_404(slug)
    branch = db.session.scalar(select(Branch).where(Branch.code == code))
    # Another branch's page does not exist for a branch viewer, not even by its name.
    if branch is None or not can_view_branch(g.user, branch):
        abort(404)
    turnout = survey_turnout(survey, branch_id=branch.id)
    turnout_table = views.turnout_table(
        turnout, _("Turnout of %(branch)s", branch=branch.name), with_total=False
    )
    if survey.results_are_sealed:
        return render_template(
            "results/branch.html",
            survey=survey,
            branch=branch,
            turnout=turnout_table,
            sealed_message=views.sealed_message(),
        )
    report = reports.build_report(survey, branch_id=branch.id)
    if not report["branches"]:
        abort(404)
    comments = reports.comments(survey, branch)
    done_reading()
    return render_template(
        "results/branch.html",
        survey=survey,
        branch=branch,
        turnout=turnout_table,
        results=views.branch_results(report, comments),
    )


@bp.route("/campaigns/<slug>/compare")
@require_roles()
def compare_surveys(slug: str):
    """Two stages side by side: a dumbbell per branch and a verdict per branch and item."""
    campaign = get_campaign_or_404(slug)
    form = CompareForm(request.args, campaign.surveys)
    context = {"campaign": campaign, "form": form}
    if len(campaign.surveys) < 2:
        return render_template("results/compare.html", too_few=True, **context)
    chosen = form.chosen()
    if chosen is None:
        return render_error(400, _("Choose two surveys of this campaign."))
    before, after = chosen
    if before.id == after.id:
        return render_error(400, _("Choose two different surveys to compare."))
    sealed = [s for s in (before, after) if s.results_are_sealed]
    if sealed:
        return render_template(
            "results/compare.html",
            sealed=sealed,
            sealed_message=views.sealed_message(),
            before=before,
            after=after,
            **context,
        )
    branch_id = viewer_branch_id()
    before_report = reports.build_report(before, branch_id=branch_id)
    after_report = reports.build_report(after, compare=before, branch_id=branch_id)
    done_reading()
    items = views.shared_items(before_report, after_report)
    item = form.set_items(items)
    if items and item is None:
        return render_error(400, _("Both surveys must ask the item you choose."))
    dumbbell = None
    if item is not None:
        dumbbell = charts.dumbbell_chart(
            before_report, after_report, item, before.title, after.title
        )
    return render_template(
        "results/compare.html",
        before=before,
        after=after,
        dumbbell=dumbbell,
        items=items,
        verdicts=views.verdicts(before_report, after_report),
        **context,
    )


@bp.route("/surveys/<slug>/export.<any(xlsx, csv):fmt>")
@require_roles(*READ_ALL)
def export_survey(slug: str, fmt: str):
    """Download the report as a spreadsheet or CSV (``?compare=`` adds another stage)."""
    survey = get_survey_or_404(slug)
    compare = None
    compare_slug = request.args.get("compare", "").strip()
    if compare_slug:
        compare = db.session.scalar(select(Survey).where(Survey.slug == compare_slug))
        if compare is None or compare.campaign_id != survey.campaign_id or compare.id == survey.id:
            return render_error(400, _("Compare with another survey of the same campaign."))
    try:
        export = exports.export_file(survey, fmt, user=g.user, compare=compare)
    except reports.ResultsSealed:
        return render_error(409, views.sealed_message(), title=_("Results are not out yet"))
    return exports.send_export(export)
