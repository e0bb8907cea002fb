"""Views of the auth area: sign-in and sign-out, the account page, API tokens and the audit log."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from survey.auth import bp
from survey.auth.access import SESSION_KEY, home_endpoint, is_data_entry, require_roles
from survey.auth.forms import LoginForm, LogoutForm, PasswordForm, RevokeTokenForm, TokenForm
from survey.config import time_zone
from survey.identity.passwords import MIN_LENGTH
from survey.models import Role, User
from survey.services import audit, audit_labels, own_account

#: Audit entries per page.
AUDIT_PAGE_SIZE = 50


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _start_session(user: User) -> None:
    """A fresh session for ``user``: nothing from before sign-in survives (session fixation),
    and the server keeps the session's row, which signing out deletes."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session[SESSION_KEY] = own_account.open_session(user)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; back off after repeated failures; return to a same-site ``next`` page."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if g.get("user") is not None:
            return redirect(safe_next(form.next.data) or url_for(home_endpoint(g.user)))
    if form.validate_on_submit():
        user = own_account.authenticate(form.username.data, form.password.data)
        if user is not None:
            _start_session(user)
            return redirect(safe_next(form.next.data) or url_for(home_endpoint(user)))
        form.password.errors.append(_("The username or password is not correct."))
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST with CSRF, so another site cannot sign a user out)."""
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    own_account.logout(g.get("user"), session.get(SESSION_KEY))
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def _render_account(
    password_form: PasswordForm, token_form: TokenForm, new_token=None, status: int = 200
):
    """The account page with its two forms and the user's tokens."""
    return (
        render_template(
            "auth/account.html",
            password_form=password_form,
            token_form=token_form,
            revoke_form=RevokeTokenForm(),
            tokens=own_account.list_tokens(g.user),
            offers_tokens=not is_data_entry(g.user),
            new_token=new_token,
            min_length=MIN_LENGTH,
        ),
        status,
    )


@bp.route("/account", methods=["GET", "POST"])
@require_roles(*Role)
def edit_account():
    """Change the password; other sessions of this user are signed out by the new marker. Data
    entry may change its password too, but holds no API token (the API is closed to it)."""
    password_form = PasswordForm(g.user, prefix="password")
    token_form = TokenForm(prefix="token", formdata=None)
    if request.method == "POST":
        if password_form.validate_on_submit():
            own_account.change_password(
                g.user, password_form.new_password.data, keep_session=session.get(SESSION_KEY)
            )
            flash(_("Your password has been changed. Other sessions have been signed out."), "info")
            return redirect(url_for("auth.edit_account"))
        return _render_account(password_form, token_form, status=400)
    return _render_account(password_form, token_form)


@bp.route("/account/tokens", methods=["POST"])
@require_roles()
def create_token():
    """Create an API token and show it on this one response only (it is never stored in clear).

    The page is rendered directly rather than redirected to, because carrying the token across a
    redirect would put it in the session cookie.
    """
    password_form = PasswordForm(g.user, prefix="password", formdata=None)
    token_form = TokenForm(prefix="token")
    if not token_form.validate_on_submit():
        return _render_account(password_form, token_form, status=400)
    created = own_account.create_token(g.user, token_form.name.data)
    return _render_account(password_form, TokenForm(prefix="token", formdata=None), created, 201)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@require_roles()
def revoke_token(token_id: int):
    """Revoke one of the signed-in user's tokens."""
    form = RevokeTokenForm()
    if not form.validate_on_submit():
        abort(400)
    token = own_account.revoke_token(g.user, token_id)
    if token is None:
        abort(404)
    flash(_("The token “%(name)s” has been revoked.", name=token.name), "info")
    return redirect(url_for("auth.edit_account"))


def _audit_page(flagged_only: bool, endpoint: str):
    page_number = request.args.get("page", 1, type=int)
    if page_number is None or page_number < 1:
        page_number = 1
    page = audit.page_of_entries(page_number, AUDIT_PAGE_SIZE, flagged_only=flagged_only)
    if page_number > 1 and not page.entries:
        abort(404)
    zone = time_zone(current_app.config)
    lines = [audit_labels.describe(entry, zone) for entry in page.entries]
    return render_template(
        "auth/audit.html",
        page=page,
        lines=lines,
        zone=zone.key,
        oversight=flagged_only,
        endpoint=endpoint,
    )


@bp.route("/audit")
@require_roles(Role.ADMIN)
def list_audit():
    """The audit log, newest first, a page at a time."""
    return _audit_page(False, "auth.list_audit")


@bp.route("/oversight")
@require_roles(Role.ADMIN, Role.SUPERVISOR)
def list_oversight():
    """The office actions the supervision group should see: codes minted while a survey was
    open or beyond a group's members (with the reason given), and surveys reopened."""
    return _audit_page(True, "auth.list_oversight")
