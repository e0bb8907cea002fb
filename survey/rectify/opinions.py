"""The office's opinion pages: the list with its filters, adding, importing, tagging, merging,
taking in survey comments and public feedback, and the printable summary (意見彙總)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from survey.manage.base import form_status, save_form, show_refusal
from survey.models import Branch, Opinion, OpinionSource, Role
from survey.rectify import bp
from survey.rectify import forms as f
from survey.refusals import Forbidden, Invalid, NotFound, Refusal
from survey.services.imports import Rejected, read_table
from survey.services.lookup import find_campaign, find_survey, get_row
from survey.services.rectification import opinions, public
from survey.services.rectification.exports import summary_workbook

#: Opinions listed per page.
PAGE_SIZE = 100


def office_admin() -> None:
    """Changing opinions and plans is the office's work; supervisors read."""
    if g.user.role is not Role.ADMIN:
        raise Forbidden(_("Only the office (an administrator) can change this."))


def branch_choices(campaign, none_label) -> list[tuple[int, str]]:
    return [(0, none_label)] + [(b.id, f"{b.code} {b.name}") for b in campaign.branches]


def chosen_branch(campaign, branch_id: int) -> Branch | None:
    """The campaign's branch a form's select chose (0: the whole committee)."""
    if not branch_id:
        return None
    found = next((b for b in campaign.branches if b.id == branch_id), None)
    if found is None:
        raise Invalid(_("This branch is not part of the campaign."), field="branch")
    return found


def _opinion(campaign, opinion_id: int) -> Opinion:
    opinion = get_row(Opinion, opinion_id)
    if opinion.campaign_id != campaign.id:
        raise NotFound(_("This page does not exist."))
    return opinion


def _listed(everyone: list[Opinion]) -> tuple[list[Opinion], dict]:
    """The opinions the filters in the address choose (branch, theme, source)."""
    branch = request.args.get("branch", "")
    theme = request.args.get("theme", "")
    source = request.args.get("source", "")
    found = everyone
    if branch:
        found = [o for o in found if (o.branch.code if o.branch else "committee") == branch]
    if theme:
        found = [o for o in found if theme in {t.name for t in o.themes}]
    if source:
        found = [o for o in found if o.source.value == source]
    return found, {"branch": branch, "theme": theme, "source": source}


@bp.route("/rectify/<slug>/opinions", methods=["GET", "POST"])
def list_opinions(slug: str):
    """The campaign's opinions, newest first, with a form to add one."""
    campaign = find_campaign(slug)
    form = f.OpinionForm()
    form.branch.choices = branch_choices(campaign, _("The whole committee"))
    status = 200
    if form.is_submitted():
        office_admin()
        done, status = save_form(
            form,
            lambda: opinions.add_opinion(
                g.user,
                campaign,
                form.text.data,
                OpinionSource(form.source.data),
                chosen_branch(campaign, form.branch.data),
                opinions.split_themes(form.themes.data or ""),
                form.count.data,
            ),
            _("Opinion added."),
            url_for("rectify.list_opinions", slug=slug),
        )
        if done:
            return done
    everyone = opinions.live_opinions(campaign)
    listed, filters = _listed(everyone)
    return render_template(
        "rectify/opinions.html",
        campaign=campaign,
        form=form,
        opinions=listed[:PAGE_SIZE],
        more=max(0, len(listed) - PAGE_SIZE),
        filters=filters,
        themes=sorted({t.name for o in everyone for t in o.themes}),
        sources=opinions.SOURCE_LABELS,
        import_form=f.ImportOpinionsForm(),
        action_form=f.ActionForm(),
        waiting=public.waiting_feedback(campaign),
        addressed=opinions.addressed_by(campaign),
        closed_surveys=[s for s in campaign.surveys if s.state == "closed"],
        is_admin=g.user.role is Role.ADMIN,
    ), status


@bp.post("/rectify/<slug>/opinions/import")
def import_opinions(slug: str):
    """Import a file of opinions: all its lines or none, with each problem's line."""
    office_admin()
    campaign = find_campaign(slug)
    form = f.ImportOpinionsForm()
    problems: list[str] = []
    status = form_status(form) if not form.validate_on_submit() else 200
    if status == 200:
        upload = form.file.data
        try:
            table = read_table(upload.read(), upload.filename or "upload.csv")
            added = opinions.import_opinions(
                g.user, campaign, table, OpinionSource(form.source.data)
            )
        except Rejected as rejected:
            problems, status = [str(p) for p in rejected.problems], rejected.status
        except Refusal as refused:
            status = show_refusal(form, refused)
        else:
            flash(_("%(count)d opinions imported.", count=added), "success")
            return redirect(url_for("rectify.list_opinions", slug=slug))
    return render_template(
        "rectify/import.html", campaign=campaign, form=form, problems=problems
    ), status


@bp.post("/rectify/<slug>/opinions/<int:opinion_id>/themes")
def tag_opinion(slug: str, opinion_id: int):
    office_admin()
    campaign = find_campaign(slug)
    opinion = _opinion(campaign, opinion_id)
    form = f.TagForm()
    themes = opinions.split_themes(form.themes.data or "")
    done, _status = save_form(
        form,
        lambda: opinions.tag_opinion(g.user, opinion, themes),
        _("Themes saved."),
        url_for("rectify.list_opinions", slug=slug, **request.args) + f"#opinion-{opinion.id}",
    )
    if done:
        return done
    raise Invalid(form.errors.get("themes") or form.form_errors or [_("Check the themes.")])


@bp.route("/rectify/<slug>/opinions/<int:opinion_id>/merge", methods=["GET", "POST"])
def merge_opinion(slug: str, opinion_id: int):
    """Merge a duplicate into another opinion of the campaign (its voices are kept)."""
    campaign = find_campaign(slug)
    opinion = _opinion(campaign, opinion_id)
    form = f.MergeForm()
    others = [o for o in opinions.live_opinions(campaign) if o.id != opinion.id]
    form.into.choices = [(o.id, f"#{o.id} {o.text[:60]}") for o in others]
    if form.is_submitted():
        office_admin()
    done, status = save_form(
        form,
        lambda: opinions.merge_opinion(g.user, opinion, _opinion(campaign, form.into.data)),
        _("Opinions merged."),
        url_for("rectify.list_opinions", slug=slug),
    )
    if done:
        return done
    return render_template(
        "rectify/merge.html", campaign=campaign, opinion=opinion, form=form
    ), status


@bp.post("/rectify/<slug>/opinions/pull/<survey_slug>")
def pull_comments(slug: str, survey_slug: str):
    """Take a closed survey's comments in as opinions (shown branches only)."""
    office_admin()
    campaign = find_campaign(slug)
    survey = find_survey(survey_slug)
    if survey.campaign_id != campaign.id:
        raise NotFound(_("This page does not exist."))
    f.check_posted()
    added = opinions.pull_comments(g.user, survey)
    flash(_("%(count)d comments taken in as opinions.", count=added), "success")
    return redirect(url_for("rectify.list_opinions", slug=slug))


@bp.post("/rectify/<slug>/feedback/take-in")
def take_in_feedback(slug: str):
    """Turn the public page's waiting feedback into opinions."""
    office_admin()
    campaign = find_campaign(slug)
    f.check_posted()
    added = public.take_in_feedback(g.user, campaign)
    flash(_("%(count)d feedback taken in as opinions.", count=added), "success")
    return redirect(url_for("rectify.list_opinions", slug=slug))


@bp.get("/rectify/<slug>/summary")
def show_summary(slug: str):
    """The opinion summary (意見彙總), printable."""
    campaign = find_campaign(slug)
    return render_template(
        "rectify/summary.html",
        campaign=campaign,
        summary=opinions.summary(campaign),
        sources=opinions.SOURCE_LABELS,
    )


@bp.get("/rectify/<slug>/summary.xlsx")
def export_summary(slug: str):
    campaign = find_campaign(slug)
    response = send_file(
        summary_workbook(g.user, campaign),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{campaign.slug}-opinions.xlsx",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
