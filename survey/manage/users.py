"""The manage area's office accounts (see :mod:`survey.services.user_admin`)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.db import db
from survey.manage import bp
from survey.manage import forms as f
from survey.manage.base import branch_choices, branches, save_form
from survey.models import Branch, Role, User
from survey.refusals import BadRequest, Refusal
from survey.services import user_admin
from survey.services.lookup import get_row


def _role_form(form_class, user: User | None = None):
    form = form_class(obj=user) if user is not None else form_class()
    form.branch.choices = branch_choices(branches(), _("(none)"))
    if request.method == "GET" and user is not None:
        form.role.data = user.role.value
        form.branch.data = user.branch_id or 0
    return form


def _chosen_branch(form) -> Branch | None:
    return db.session.get(Branch, form.branch.data) if form.branch.data else None


def _users_page(status: int = 200):
    return render_template(
        "manage/users.html",
        users=user_admin.list_users(),
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
    done, status = save_form(
        form,
        lambda: user_admin.create_user(
            g.user,
            form.username.data,
            form.password.data,
            Role(form.role.data),
            _chosen_branch(form),
        ),
        _("Account created."),
        url_for("manage.list_users"),
    )
    return done or (render_template("manage/user.html", form=form, account=None), status)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    """Change an account's role and branch."""
    account = get_row(User, user_id)
    form = _role_form(f.RoleForm, account)
    done, status = save_form(
        form,
        lambda: user_admin.update_user(g.user, account, Role(form.role.data), _chosen_branch(form)),
        _("Account saved."),
        url_for("manage.list_users"),
    )
    if done:
        return done
    return render_template(
        "manage/user.html",
        form=form,
        account=account,
        password_url=url_for("manage.reset_password", user_id=account.id),
    ), status


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int):
    """Give an account a new password (its sessions end)."""
    account = get_row(User, user_id)
    form = f.PasswordResetForm()
    done, status = save_form(
        form,
        lambda: user_admin.reset_password(g.user, account, form.password.data),
        _("Password of %(name)s changed.", name=account.username),
        url_for("manage.list_users"),
    )
    return done or (render_template("manage/password.html", form=form, account=account), status)


def _set_active(user_id: int, active: bool):
    account = get_row(User, user_id)
    if not f.ActionForm().validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    try:
        user_admin.set_active(g.user, account, active)
    except Refusal as refused:
        flash(refused.message, "error")
        return _users_page(refused.status)
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
