"""Plans and measures (整改方案、整改措施), and their progress (跟蹤檢查).

A plan belongs to the committee (branch None) or to one branch. Each measure answers the
speech's three questions (the problem, the method, the effect sought), has a class, a
responsible department and a deadline, answers some opinions and should move some items of
the evaluation stage. A plan moves draft → discussed (the members' meeting's date) → filed (by
a supervisor); only filed plans are public. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from survey.db import db
from survey.models import (
    Branch,
    Campaign,
    Item,
    Measure,
    MeasureStatus,
    Opinion,
    Plan,
    PlanState,
    ProblemClass,
    Role,
    Survey,
    SurveyKind,
    SurveyState,
    User,
)
from survey.refusals import Conflict, Forbidden, Invalid
from survey.services import audit

PLAN_STATE_LABELS = {
    PlanState.DRAFT: _l("Draft"),
    PlanState.DISCUSSED: _l("Discussed by the members' meeting"),
    PlanState.FILED: _l("Filed"),
}
CLASS_LABELS = {
    ProblemClass.IMMEDIATE: _l("Fix at once"),
    ProblemClass.BY_DEADLINE: _l("Fix by a deadline"),
    ProblemClass.GRADUAL: _l("Explain and solve step by step"),
}
STATUS_LABELS = {
    MeasureStatus.NOT_STARTED: _l("Not started"),
    MeasureStatus.IN_PROGRESS: _l("In progress"),
    MeasureStatus.DONE: _l("Done"),
    MeasureStatus.DELAYED: _l("Delayed"),
}
TITLE_LIMIT = 200
TEXT_LIMIT = 4000


def _text(value: str, field: str, message: str, limit: int = TEXT_LIMIT) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(message, field=field)
    if len(value) > limit:
        raise Invalid(_("At most %(limit)d characters.", limit=limit), field=field)
    return value


def plans_of(campaign: Campaign, filed_only: bool = False) -> list[Plan]:
    """The campaign's plans, the committee's first, then by branch code, measures loaded."""
    query = (
        select(Plan)
        .where(Plan.campaign_id == campaign.id)
        .outerjoin(Branch, Branch.id == Plan.branch_id)
        .options(selectinload(Plan.measures).selectinload(Measure.items))
        .order_by(Plan.branch_id.is_not(None), Branch.code)
    )
    if filed_only:
        query = query.where(Plan.state == PlanState.FILED)
    return list(db.session.scalars(query))


def create_plan(actor: User | None, campaign: Campaign, branch: Branch | None, title: str) -> Plan:
    """A new draft plan for the committee (``branch`` None) or a branch of the campaign."""
    title = _text(title, "title", _("Give the plan a title."), TITLE_LIMIT)
    if branch is not None and branch not in campaign.branches:
        raise Invalid(_("This branch is not part of the campaign."), field="branch")
    taken = select(Plan.id).where(
        Plan.campaign_id == campaign.id,
        Plan.branch_id.is_(None) if branch is None else Plan.branch_id == branch.id,
    )
    if db.session.scalar(taken) is not None:
        raise Conflict(_("This campaign already has a plan for it."), field="branch")
    with db.transaction():
        plan = Plan(campaign_id=campaign.id, branch=branch, title=title, state=PlanState.DRAFT)
        db.session.add(plan)
        db.session.flush()
        where = branch.code if branch is not None else "committee"
        audit.record("plan.create", f"campaign={campaign.slug} plan={plan.id} for={where}", actor)
    return plan


def _editable(plan: Plan) -> None:
    if plan.state is PlanState.FILED:
        raise Conflict(
            _("This plan is filed; a supervisor must return it to the branch before it changes.")
        )


def discuss_plan(actor: User | None, plan: Plan, meeting: date | None) -> None:
    """Record the members' meeting that discussed the plan (draft → discussed)."""
    if plan.state is not PlanState.DRAFT:
        raise Conflict(_("Only a draft plan can be marked as discussed."))
    if meeting is None:
        raise Invalid(_("Give the date of the members' meeting."), field="meeting")
    if meeting > date.today():
        raise Invalid(_("The meeting cannot be in the future."), field="meeting")
    if not plan.measures:
        raise Conflict(_("A plan needs at least one measure before it is discussed."))
    with db.transaction():
        plan.state, plan.discussed_on = PlanState.DISCUSSED, meeting
        audit.record("plan.discuss", f"plan={plan.id} meeting={meeting.isoformat()}", actor)


def file_plan(actor: User | None, plan: Plan) -> None:
    """File a discussed plan (報機關黨委備案): a supervisor's act; it becomes public."""
    _supervisor(actor)
    if plan.state is not PlanState.DISCUSSED:
        raise Conflict(_("Only a plan discussed by the members' meeting can be filed."))
    with db.transaction():
        plan.state, plan.filed_on = PlanState.FILED, date.today()
        audit.record("plan.file", f"plan={plan.id}", actor)


def return_plan(actor: User | None, plan: Plan) -> None:
    """Send a filed or discussed plan back to draft (to be revised after the masses'
    opinions); it leaves the public page until filed again."""
    _supervisor(actor)
    if plan.state is PlanState.DRAFT:
        raise Conflict(_("This plan is already a draft."))
    with db.transaction():
        before = plan.state
        plan.state, plan.filed_on = PlanState.DRAFT, None
        audit.record("plan.return", f"plan={plan.id} state={before}->draft", actor)


def _supervisor(actor: User | None) -> None:
    """Filing is the supervising committee's act: a supervisor, or the command line."""
    if actor is not None and actor.role is not Role.SUPERVISOR:
        raise Forbidden(_("Only a supervisor can file a plan or return it."))


@dataclass
class MeasureInput:
    """What the measure form (or a caller) gives."""

    problem: str
    method: str
    expected_effect: str
    problem_class: ProblemClass
    department: str
    deadline: date | None
    for_members: bool = False
    opinion_ids: tuple[int, ...] = ()
    item_ids: tuple[int, ...] = ()


def _checked(plan: Plan, given: MeasureInput) -> dict:
    values = {
        "problem": _text(given.problem, "problem", _("Say what the problem is.")),
        "method": _text(given.method, "method", _("Say how it will be fixed.")),
        "expected_effect": _text(
            given.expected_effect, "expected_effect", _("Say what the fix should achieve.")
        ),
        "department": _text(
            given.department, "department", _("Name the responsible department."), TITLE_LIMIT
        ),
        "problem_class": given.problem_class,
        "deadline": given.deadline,
        "for_members": given.for_members,
    }
    if given.problem_class is ProblemClass.BY_DEADLINE and given.deadline is None:
        raise Invalid(_("A measure fixed by a deadline needs its deadline."), field="deadline")
    values["opinions"] = _rows(Opinion, given.opinion_ids, plan.campaign_id, "opinions")
    values["items"] = _items(plan, given.item_ids)
    return values


def _rows(model, ids, campaign_id: int, field: str) -> list:
    rows = list(db.session.scalars(select(model).where(model.id.in_(ids)))) if ids else []
    if len(rows) != len(set(ids)) or any(r.campaign_id != campaign_id for r in rows):
        raise Invalid(_("Choose opinions of this campaign."), field=field)
    return rows


def _items(plan: Plan, ids) -> list[Item]:
    evaluation = evaluation_survey(plan.campaign)
    allowed = {item.id: item for item in evaluation.items} if evaluation else {}
    if any(i not in allowed for i in ids):
        raise Invalid(_("Choose items of the campaign's evaluation stage."), field="items")
    return [allowed[i] for i in dict.fromkeys(ids)]


def add_measure(actor: User | None, plan: Plan, given: MeasureInput) -> Measure:
    _editable(plan)
    values = _checked(plan, given)
    with db.transaction():
        measure = Measure(plan=plan, position=len(plan.measures), **values)
        db.session.add(measure)
        db.session.flush()
        audit.record("measure.add", f"plan={plan.id} measure={measure.id}", actor)
    return measure


def update_measure(actor: User | None, measure: Measure, given: MeasureInput) -> None:
    _editable(measure.plan)
    values = _checked(measure.plan, given)
    with db.transaction():
        changed = [k for k, v in values.items() if getattr(measure, k) != v]
        for key, value in values.items():
            setattr(measure, key, value)
        audit.record(
            "measure.update", f"measure={measure.id} changed={','.join(changed) or '-'}", actor
        )


def delete_measure(actor: User | None, measure: Measure) -> None:
    _editable(measure.plan)
    with db.transaction():
        plan = measure.plan
        plan.measures.remove(measure)
        for position, rest in enumerate(plan.measures):
            rest.position = position
        audit.record("measure.delete", f"plan={plan.id} measure={measure.id}", actor)


def record_progress(
    actor: User | None,
    measure: Measure,
    status: MeasureStatus,
    note: str = "",
    new_deadline: date | None = None,
) -> None:
    """Follow a filed plan's measure up: in progress, done (what was done), delayed (why, and
    the new date)."""
    if measure.plan.state is not PlanState.FILED:
        raise Conflict(_("Progress is followed once the plan is filed."))
    note = (note or "").strip()
    if status is MeasureStatus.DONE and not note:
        raise Invalid(_("Say what was done."), field="note")
    if status is MeasureStatus.DELAYED:
        if not note:
            raise Invalid(_("Say why the measure is late."), field="note")
        if new_deadline is None or new_deadline <= date.today():
            raise Invalid(_("Give a new date in the future."), field="new_deadline")
    with db.transaction():
        before = measure.status
        measure.status, measure.status_note = status, note[:TEXT_LIMIT]
        measure.new_deadline = new_deadline if status is MeasureStatus.DELAYED else None
        measure.done_on = date.today() if status is MeasureStatus.DONE else None
        audit.record("measure.progress", f"measure={measure.id} status={before}->{status}", actor)


def due_date(measure: Measure) -> date | None:
    """The date the measure is now due: the new date of a delayed one, else its deadline."""
    return measure.new_deadline or measure.deadline


def is_overdue(measure: Measure, today: date | None = None) -> bool:
    """Not done, and its due date has passed."""
    due = due_date(measure)
    return (
        measure.status is not MeasureStatus.DONE
        and due is not None
        and due < (today or date.today())
    )


def overdue_measures(campaign: Campaign) -> list[Measure]:
    """The filed plans' measures past their due date, earliest first."""
    found = [m for plan in plans_of(campaign, filed_only=True) for m in plan.measures]
    return sorted((m for m in found if is_overdue(m)), key=lambda m: due_date(m))


def evaluation_survey(campaign: Campaign) -> Survey | None:
    """The campaign's evaluation stage whose results a plan answers: its last closed one."""
    closed = [
        s
        for s in campaign.surveys
        if s.kind is SurveyKind.EVALUATION and s.state is SurveyState.CLOSED
    ]
    return closed[-1] if closed else None


def final_test(campaign: Campaign) -> Survey | None:
    """The satisfaction test that measures the effect: the campaign's last closed satisfaction
    survey, or while none is closed its last satisfaction survey (the effect then waits for it
    to close). A later test, once closed, takes over: it is the more recent measurement."""
    found = [s for s in campaign.surveys if s.kind is SurveyKind.SATISFACTION]
    closed = [s for s in found if s.state is SurveyState.CLOSED]
    return (closed or found or [None])[-1]
