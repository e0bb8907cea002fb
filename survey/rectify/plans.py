"""The office's plan pages: the campaign's overview, a plan with its measures, progress, the
printable briefing (通報) and the effect report."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, send_file, url_for
from flask_babel import gettext as _

from survey.manage.base import save_form
from survey.models import Measure, MeasureStatus, Plan, PlanState, ProblemClass
from survey.rectify import bp
from survey.rectify import forms as f
from survey.rectify.opinions import branch_choices, chosen_branch, office_admin
from survey.services.lookup import find_campaign, get_row
from survey.services.rectification import effect, opinions, plans, public
from survey.services.rectification.exports import effect_workbook


def _plan_form(campaign) -> f.PlanForm:
    form = f.PlanForm()
    form.branch.choices = branch_choices(campaign, _("The whole committee"))
    return form


def _overview(campaign, form: f.PlanForm, status: int = 200):
    return render_template(
        "rectify/overview.html",
        campaign=campaign,
        plans=plans.plans_of(campaign),
        form=form,
        overdue=plans.overdue_measures(campaign),
        summary=opinions.summary(campaign),
        action_form=f.ActionForm(),
        labels=plans.PLAN_STATE_LABELS,
        is_admin=g.user.role.value == "admin",
        waiting=public.waiting_feedback(campaign),
    ), status


@bp.get("/rectify/<slug>")
def show_overview(slug: str):
    """The campaign's rectification: plans and their state, overdue measures, the public page."""
    campaign = find_campaign(slug)
    return _overview(campaign, _plan_form(campaign))


@bp.post("/rectify/<slug>/plans")
def create_plan(slug: str):
    """A new draft plan; the overview again with the form's errors (422) when refused."""
    office_admin()
    campaign = find_campaign(slug)
    form = _plan_form(campaign)
    done, status = save_form(
        form,
        lambda: plans.create_plan(
            g.user, campaign, chosen_branch(campaign, form.branch.data), form.title.data
        ),
        _("Plan created."),
        lambda plan: url_for("rectify.show_plan", plan_id=plan.id),
    )
    return done or _overview(campaign, form, status if status != 200 else 422)


def _measure_form(plan: Plan, measure: Measure | None = None) -> f.MeasureForm:
    form = f.MeasureForm(obj=measure)
    form.opinions.choices = [
        (o.id, o.text[:80])
        for o in opinions.live_opinions(plan.campaign)
        if plan.branch_id is None or o.branch_id in (None, plan.branch_id)
    ]
    evaluation = plans.evaluation_survey(plan.campaign)
    form.items.choices = [(i.id, i.text) for i in evaluation.items] if evaluation else []
    if measure is not None and not form.is_submitted():
        form.problem_class.data = measure.problem_class.value
        form.opinions.data = [o.id for o in measure.opinions]
        form.items.data = [i.id for i in measure.items]
    return form


def _measure_input(form: f.MeasureForm) -> plans.MeasureInput:
    return plans.MeasureInput(
        problem=form.problem.data,
        method=form.method.data,
        expected_effect=form.expected_effect.data,
        problem_class=ProblemClass(form.problem_class.data),
        department=form.department.data,
        deadline=form.deadline.data,
        for_members=form.for_members.data,
        opinion_ids=tuple(form.opinions.data or ()),
        item_ids=tuple(form.items.data or ()),
    )


def _plan_page(plan: Plan, form, discuss_form, status: int = 200):
    return render_template(
        "rectify/plan.html",
        plan=plan,
        form=form,
        discuss_form=discuss_form,
        action_form=f.ActionForm(),
        proposed=effect.proposed_items(plan) if plan.state is not PlanState.FILED else [],
        labels=plans,
        is_overdue=plans.is_overdue,
        role=g.user.role.value,
    ), status


@bp.route("/rectify/plans/<int:plan_id>", methods=["GET", "POST"])
def show_plan(plan_id: int):
    """A plan: its measures with their progress; add a measure; discuss, file or return it."""
    plan = get_row(Plan, plan_id)
    form = _measure_form(plan)
    status = 200
    if form.is_submitted():
        office_admin()
        done, status = save_form(
            form,
            lambda: plans.add_measure(g.user, plan, _measure_input(form)),
            _("Measure added."),
            url_for("rectify.show_plan", plan_id=plan.id),
        )
        if done:
            return done
    return _plan_page(plan, form, f.DiscussForm(formdata=None), status)


@bp.route("/rectify/measures/<int:measure_id>", methods=["GET", "POST"])
def edit_measure(measure_id: int):
    measure = get_row(Measure, measure_id)
    form = _measure_form(measure.plan, measure)
    if form.is_submitted():
        office_admin()
    done, status = save_form(
        form,
        lambda: plans.update_measure(g.user, measure, _measure_input(form)),
        _("Measure saved."),
        url_for("rectify.show_plan", plan_id=measure.plan_id),
    )
    if done:
        return done
    return render_template("rectify/measure.html", measure=measure, form=form), status


@bp.post("/rectify/measures/<int:measure_id>/delete")
def delete_measure(measure_id: int):
    office_admin()
    measure = get_row(Measure, measure_id)
    f.check_posted()
    plan_id = measure.plan_id
    plans.delete_measure(g.user, measure)
    flash(_("Measure deleted."), "success")
    return redirect(url_for("rectify.show_plan", plan_id=plan_id))


@bp.route("/rectify/measures/<int:measure_id>/progress", methods=["GET", "POST"])
def record_progress(measure_id: int):
    """Follow a measure up: in progress, done with what was done, delayed with why and when."""
    measure = get_row(Measure, measure_id)
    form = f.ProgressForm()
    if not form.is_submitted():
        form.status.data = measure.status.value
        form.note.data = measure.status_note
    else:
        office_admin()
    done, status = save_form(
        form,
        lambda: plans.record_progress(
            g.user, measure, MeasureStatus(form.status.data), form.note.data, form.new_deadline.data
        ),
        _("Progress saved."),
        url_for("rectify.show_plan", plan_id=measure.plan_id),
    )
    if done:
        return done
    return render_template("rectify/progress.html", measure=measure, form=form), status


@bp.post("/rectify/plans/<int:plan_id>/discuss")
def discuss_plan(plan_id: int):
    """Record the members' meeting; the plan page again with the errors (4xx) when refused."""
    office_admin()
    plan = get_row(Plan, plan_id)
    form = f.DiscussForm()
    done, status = save_form(
        form,
        lambda: plans.discuss_plan(g.user, plan, form.meeting.data),
        _("The plan is marked as discussed by the members' meeting."),
        url_for("rectify.show_plan", plan_id=plan.id),
    )
    measure_form = _measure_form(plan)
    measure_form.process(formdata=None)
    return done or _plan_page(plan, measure_form, form, status if status != 200 else 422)


@bp.post("/rectify/plans/<int:plan_id>/<any(file, return):step>")
def move_plan(plan_id: int, step: str):
    """File a discussed plan, or return it to draft (supervisors)."""
    plan = get_row(Plan, plan_id)
    f.check_posted()
    if step == "file":
        plans.file_plan(g.user, plan)
        flash(_("The plan is filed and shown on the public page."), "success")
    else:
        plans.return_plan(g.user, plan)
        flash(_("The plan is returned to draft and no longer public."), "success")
    return redirect(url_for("rectify.show_plan", plan_id=plan.id))


@bp.get("/rectify/plans/<int:plan_id>/briefing")
def show_briefing(plan_id: int):
    """The printable briefing (通報) of a plan's measures and their status."""
    plan = get_row(Plan, plan_id)
    return render_template(
        "rectify/briefing.html", plan=plan, labels=plans, is_overdue=plans.is_overdue
    )


@bp.post("/rectify/<slug>/public")
def set_public(slug: str):
    office_admin()
    campaign = find_campaign(slug)
    f.check_posted()
    public.set_public(g.user, campaign, not campaign.plans_are_public)
    if campaign.plans_are_public:
        flash(_("The public page is on."), "success")
    else:
        flash(_("The public page is off."), "success")
    return redirect(url_for("rectify.show_overview", slug=slug))


@bp.get("/rectify/<slug>/effect")
def show_effect(slug: str):
    """The effect of rectification, once the final satisfaction test is closed."""
    campaign = find_campaign(slug)
    return render_template(
        "rectify/effect.html",
        campaign=campaign,
        report=effect.effect_report(campaign),
        labels=plans,
        verdicts=effect.VERDICT_LABELS,
        classes=list(ProblemClass),
    )


@bp.get("/rectify/<slug>/effect.xlsx")
def export_effect(slug: str):
    campaign = find_campaign(slug)
    response = send_file(
        effect_workbook(g.user, campaign),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{campaign.slug}-rectification.xlsx",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
