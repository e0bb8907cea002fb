"""Views of the results area: campaigns, survey results, branch detail, stage comparison, exports.

Each view loads, checks access, asks ``services.report`` for the published figures and hands
them to ``results.views`` / ``results.charts`` for the page. A branch viewer only ever gets a
report built for their own branch; sealed surveys show turnout only.
"""

from __future__ import annotations

from flask import g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from survey.auth.access import can_view_branch, require_roles
from survey.db import db
from survey.models import Campaign, Role
from survey.refusals import BadRequest, NotFound
from survey.results import bp, charts, views
from survey.results import comparison as compared
from survey.results.forms import CompareForm, ItemForm
from survey.services import exports
from survey.services import report as reports
from survey.services.comparison import stage_comparison
from survey.services.exports.comparison import comparison_export
from survey.services.lookup import find_branch, find_campaign, find_survey
from survey.services.turnout import survey_turnout

#: Roles that read every branch and may export.
READ_ALL = (Role.ADMIN, Role.SUPERVISOR)


def viewer_branch_id() -> int | None:
    """The one branch a branch viewer may read; None for roles that read every branch."""
    return g.user.branch_id if g.user.role is Role.BRANCH_VIEWER else None


def done_reading() -> None:
    """End the read transaction before the figures are turned into charts: on SQLite every
    transaction holds the write lock, and respondents should not wait for chart building."""
    db.session.commit()


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
    campaign = find_campaign(slug)
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
    )


@bp.route("/surveys/<slug>")
@require_roles()
def show_survey(slug: str):
    """One survey: ranks, funnel, distribution, heat map, tests and α (or turnout if sealed)."""
    survey = find_survey(slug)
    if g.user.role is Role.BRANCH_VIEWER:
        return redirect(url_for("results.show_branch", slug=slug, code=g.user.branch.code))
    turnout = views.turnout_table(survey_turnout(survey), _("Turnout by branch"))
    if survey.results_are_sealed:
        return render_template(
            "results/survey.html",
            survey=survey,
            turnout=turnout,
            sealed_message=reports.sealed_message(survey),
        )
    report = reports.build_report(survey)
    done_reading()
    form = ItemForm(request.args, report.items)
    item = form.chosen()
    if item is None:
        raise BadRequest(_("This survey has no such item. Choose one from the list."))
    return render_template(
        "results/survey.html",
        survey=survey,
        turnout=turnout,
        form=form,
        item=item,
        results=views.survey_results(report, item),
        may_export=g.user.role in READ_ALL,
    )


@bp.route("/surveys/<slug>/branches/<code>")
@require_roles()
def show_branch(slug: str, code: str):
    """One branch: every item with its interval and mark, categories, comments if shown."""
    survey = find_survey(slug)
    branch = find_branch(code)
    # Another branch's page does not exist for a branch viewer, not even by its name.
    if not can_view_branch(g.user, branch):
        raise NotFound(_("This page does not exist."))
    turnout = views.turnout_table(
        survey_turnout(survey, branch_id=branch.id),
        _("Turnout of %(branch)s", branch=branch.name),
        with_total=False,
    )
    context = {"survey": survey, "branch": branch, "turnout": turnout}
    if survey.results_are_sealed:
        return render_template(
            "results/branch.html", sealed_message=reports.sealed_message(survey), **context
        )
    report = reports.build_report(survey, branch_id=branch.id)
    if not report.branches:
        raise NotFound(_("This page does not exist."))
    comments = reports.comments(survey, branch)
    done_reading()
    return render_template(
        "results/branch.html", results=views.branch_results(report, comments), **context
    )


@bp.route("/campaigns/<slug>/compare")
@require_roles()
def compare_surveys(slug: str):
    """Two stages side by side: the paired items, a dumbbell per branch, a verdict per branch
    and item, and the branches left out with the reason."""
    campaign = find_campaign(slug)
    form = CompareForm(request.args, campaign.surveys)
    context = {"campaign": campaign, "form": form}
    if len(campaign.surveys) < 2:
        return render_template("results/compare.html", too_few=True, **context)
    chosen = form.chosen()
    if chosen is None:
        raise BadRequest(_("Choose two surveys of this campaign."))
    before, after = chosen
    if before.id == after.id:
        raise BadRequest(_("Choose two different surveys to compare."))
    context.update(before=before, after=after)
    sealed = [s for s in (before, after) if s.results_are_sealed]
    if sealed:
        messages = [reports.sealed_message(s) for s in sealed]
        return render_template("results/compare.html", sealed=messages, **context)
    view = stage_comparison(before, after, branch_id=viewer_branch_id())
    done_reading()
    items = [item for item in view.after.items if view.pair(item.key)]
    item = form.set_items(items)
    if items and item is None:
        raise BadRequest(_("Both surveys must ask the item you choose."))
    pair = view.pair(item) if item is not None else None
    dumbbell = None
    if pair is not None:
        dumbbell = charts.dumbbell_chart(
            view.before, view.after, pair.key, before.title, after.title, pair.earlier_key
        )
    return render_template(
        "results/compare.html",
        dumbbell=dumbbell,
        pair=pair,
        items=items,
        pairs=compared.pair_rows(view),
        unpaired=compared.unpaired_items(view),
        verdicts=compared.verdict_rows(view),
        left_out=view.left_out,
        may_export=g.user.role in READ_ALL,
        **context,
    )


@bp.route("/campaigns/<slug>/compare.<any(xlsx, csv):fmt>")
@require_roles(*READ_ALL)
def export_comparison(slug: str, fmt: str):
    """Download the comparison of two stages (``?a=&b=`` as on the page) as xlsx or CSV."""
    campaign = find_campaign(slug)
    form = CompareForm(request.args, campaign.surveys)
    chosen = form.chosen()
    if chosen is None:
        raise BadRequest(_("Choose two surveys of this campaign."))
    export = comparison_export(chosen[0], chosen[1], fmt, user=g.user)
    response = send_file(
        export.stream,
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/surveys/<slug>/export.<any(xlsx, csv):fmt>")
@require_roles(*READ_ALL)
def export_survey(slug: str, fmt: str):
    """Download the report as a spreadsheet or CSV (``?compare=`` adds another stage).

    ``no-store``: results must not stay in a browser's or proxy's cache once downloaded.
    """
    survey = find_survey(slug)
    compare_slug = request.args.get("compare", "").strip()
    compare = find_survey(compare_slug) if compare_slug else None
    export = exports.export_file(survey, fmt, user=g.user, compare=compare)
    response = send_file(
        export.stream,
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
