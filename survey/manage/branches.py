"""The manage area's branches: the list, single edits, and importing a file of branches.

An import is previewed first. The checked rows travel from the preview to the confirmation in a
hidden field signed with the app's secret key, and :func:`survey.services.branches.import_branches`
checks them against the database again when confirmed, exactly as ``import-branches`` does.
"""

from __future__ import annotations

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from survey.db import db
from survey.manage import bp
from survey.manage import forms as f
from survey.manage.base import branch_choices, branches, form_status, save_form
from survey.models import Branch, Campaign
from survey.refusals import BadRequest, Refusal
from survey.services.branches import (
    branch_is_used,
    delete_branch,
    import_branches,
    plan_branches,
    save_branch,
    set_branch_active,
    set_branches_active,
    template_rows,
)
from survey.services.imports import Rejected, Row, Table, read_table
from survey.services.lookup import get_row
from survey.services.sheet_files import MIMETYPES, table_file

#: How long a branch-import preview may be confirmed (seconds).
IMPORT_MAX_AGE = 3600


def _branches_page(status: int = 200):
    listed = db.session.scalars(
        select(Branch).options(selectinload(Branch.parent)).order_by(Branch.code)
    ).all()
    return render_template(
        "manage/branches.html",
        branches=[(b, branch_is_used(b)) for b in listed],
        action_form=f.ActionForm(),
    ), status


@bp.get("/branches")
def list_branches():
    """Every branch with its parent and whether it is active; delete or deactivate."""
    return _branches_page()


def _save_branch(branch: Branch | None):
    form = f.BranchForm(obj=branch)
    others = [b for b in branches() if branch is None or b.id != branch.id]
    form.parent.choices = branch_choices(others, _("(none)"))
    if not form.is_submitted() and branch is not None:
        form.parent.data = branch.parent_id or 0
    done, status = save_form(
        form,
        lambda: save_branch(
            branch, form.code.data.strip(), form.name.data.strip(), _parent(form), g.user
        ),
        _("Branch saved."),
        url_for("manage.list_branches"),
    )
    return done or (render_template("manage/branch.html", form=form, branch=branch), status)


def _parent(form) -> Branch | None:
    return db.session.get(Branch, form.parent.data) if form.parent.data else None


@bp.route("/branches/new", methods=["GET", "POST"])
def new_branch():
    """Add a branch."""
    return _save_branch(None)


@bp.route("/branches/<int:branch_id>", methods=["GET", "POST"])
def edit_branch(branch_id: int):
    """Change a branch's code, name or parent."""
    return _save_branch(get_row(Branch, branch_id))


def _branch_button(branch_id: int) -> Branch:
    """The branch a button names, once the button's form is checked."""
    branch = get_row(Branch, branch_id)
    if not f.ActionForm().validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    return branch


def _set_activity(branch_id: int, active: bool):
    branch = _branch_button(branch_id)
    set_branch_active(branch, active, user=g.user)
    if active:
        flash(_("Branch %(code)s is active again.", code=branch.code), "success")
    else:
        flash(_("Branch %(code)s deactivated.", code=branch.code), "success")
    return redirect(url_for("manage.list_branches"))


@bp.post("/branches/activity")
def set_activity_of_many():
    """Activate or deactivate the ticked branches at once."""
    if not f.ActionForm().validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    active = request.form.get("activity") == "activate"
    chosen = [int(v) for v in request.form.getlist("branch") if v.isdigit()]
    try:
        changed = set_branches_active(chosen, active, user=g.user)
    except Refusal as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return _branches_page(refused.status)
    if active:
        flash(_("%(n)d branches activated.", n=changed), "success")
    else:
        flash(_("%(n)d branches deactivated.", n=changed), "success")
    return redirect(url_for("manage.list_branches"))


@bp.get("/branches/template.<any(csv, xlsx):fmt>")
def branch_template(fmt: str):
    """A branch list to fill in, with Chinese headers (编号, 名称, 上级) and example rows."""
    header, rows = template_rows()
    response = Response(table_file(header, rows, fmt), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="branches.{fmt}"'
    return response


@bp.post("/branches/<int:branch_id>/deactivate")
def deactivate_branch(branch_id: int):
    """Deactivate a branch: it gets no new codes; its results stay."""
    return _set_activity(branch_id, False)


@bp.post("/branches/<int:branch_id>/activate")
def activate_branch(branch_id: int):
    """Make a deactivated branch active again."""
    return _set_activity(branch_id, True)


@bp.post("/branches/<int:branch_id>/delete", endpoint="delete_branch")
def delete_branch_row(branch_id: int):
    """Delete a branch that nothing refers to; otherwise explain and offer deactivation."""
    branch = _branch_button(branch_id)
    code = branch.code
    try:
        delete_branch(branch, user=g.user)
    except Refusal as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return _branches_page(refused.status)
    flash(_("Branch %(code)s deleted.", code=code), "success")
    return redirect(url_for("manage.list_branches"))


def _import_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="ceping.manage.import_branches")


def _dump_table(table: Table, campaign: Campaign | None) -> str:
    return _import_serializer().dumps(
        {
            "campaign": campaign.id if campaign is not None else None,
            "source": table.source,
            "header": table.header,
            "header_line": table.header_line,
            "rows": [[row.line, row.cells] for row in table.rows],
        }
    )


def _load_table(payload: str) -> tuple[Table, Campaign | None]:
    data = _import_serializer().loads(payload, max_age=IMPORT_MAX_AGE)
    table = Table(
        data["source"],
        list(data["header"]),
        int(data["header_line"]),
        [Row(int(line), dict(cells)) for line, cells in data["rows"]],
    )
    campaign = get_row(Campaign, int(data["campaign"])) if data.get("campaign") else None
    return table, campaign


def _campaign() -> Campaign | None:
    """The campaign an import is made for (``?campaign=<id>``), or None: the branches page."""
    campaign_id = request.args.get("campaign", type=int)
    return get_row(Campaign, campaign_id) if campaign_id else None


def _import_page(form, plan=None, problems=None, confirm=None, status=200, campaign=None):
    return render_template(
        "manage/import_branches.html",
        form=form,
        plan=plan,
        problems=problems or [],
        confirm_form=confirm,
        campaign=campaign,
    ), status


@bp.route("/branches/import", methods=["GET", "POST"], endpoint="import_branches")
def import_branches_file():
    """Upload a CSV or .xlsx of branches; a preview shows what would be added or changed."""
    form = f.UploadForm()
    campaign = _campaign()
    if not form.validate_on_submit():
        return _import_page(form, status=form_status(form), campaign=campaign)
    upload = form.file.data
    try:
        table = read_table(upload.read(), upload.filename or "branches.csv")
    except Rejected as rejected:
        return _import_page(
            form, problems=rejected.problems, status=rejected.status, campaign=campaign
        )
    plan = plan_branches(table)
    if plan.problems:
        return _import_page(form, plan, plan.problems, status=422, campaign=campaign)
    confirm = f.ConfirmImportForm(formdata=None, payload=_dump_table(table, campaign))
    return _import_page(form, plan, confirm=confirm, campaign=campaign)


@bp.post("/branches/import/confirm")
def confirm_import():
    """Apply a previewed import, after checking the signed rows against the database again."""
    confirm = f.ConfirmImportForm()
    if not confirm.validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    try:
        table, campaign = _load_table(confirm.payload.data)
    except (BadSignature, KeyError, TypeError, ValueError):
        flash(_("This preview has expired or was changed. Please upload the file again."), "error")
        return _import_page(f.UploadForm(formdata=None), status=400)
    try:
        plan = import_branches(table, g.user, campaign)
    except Rejected as rejected:
        return _import_page(f.UploadForm(formdata=None), None, rejected.problems, status=409)
    flash(
        _(
            "Branches imported: %(added)d added, %(changed)d changed, %(same)d unchanged.",
            added=len(plan.to_add),
            changed=len(plan.to_change),
            same=plan.unchanged,
        ),
        "success",
    )
    if campaign is not None:
        return redirect(url_for("manage.edit_campaign_branches", campaign_id=campaign.id))
    return redirect(url_for("manage.list_branches"))
