"""Branches and office accounts managed in the browser; every change lands in the audit log."""

from __future__ import annotations

import html

from sqlalchemy import select

from survey.db import db
from survey.identity.passwords import verify_password
from survey.models import ApiToken, AuditEntry, Branch, Role, User
from survey.services.own_account import create_token
from survey.services.responses import submit_with_code
from tests.conftest import isolated_client
from tests.helpers.dbstate import snapshot
from tests.helpers.web import sign_in_as, token


def _post(client, path: str, data: dict | None = None):
    response = client.post(path, data={"csrf_token": token(client), **(data or {})})
    return response, html.unescape(response.get_data(as_text=True))


def _audit(action: str) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.action == action, AuditEntry.username == "office")
            .order_by(AuditEntry.id)
        )
    )


# ---- branches ---------------------------------------------------------------------------------


def test_branches_are_added_edited_and_deleted_when_unused(admin):
    response, _page = _post(admin, "/manage/branches/new", {"code": "top", "name": "機關黨委"})
    assert response.status_code == 302
    top = db.session.scalar(select(Branch).where(Branch.code == "top"))
    _post(admin, "/manage/branches/new", {"code": "b01", "name": "第一支部", "parent": str(top.id)})
    b01 = db.session.scalar(select(Branch).where(Branch.code == "b01"))
    assert b01.parent_id == top.id
    response, _page = _post(
        admin, f"/manage/branches/{b01.id}", {"code": "b01", "name": "辦公室支部", "parent": "0"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (b01.name, b01.parent_id) == ("辦公室支部", None)
    listing = admin.get("/manage/branches").get_data(as_text=True)
    assert f"/manage/branches/{b01.id}/delete" in listing
    b01_id = b01.id
    response, _page = _post(admin, f"/manage/branches/{b01_id}/delete")
    assert response.status_code == 302
    db.session.expunge_all()
    assert db.session.get(Branch, b01_id) is None
    assert _audit("branch.create") == ["branch=top parent=-", "branch=b01 parent=top"]
    assert _audit("branch.update") == ["branch=b01 parent=-"]
    assert _audit("branch.delete") == ["branch=b01"]


def test_branch_with_responses_is_never_deleted_but_can_be_deactivated(
    admin, make_survey, make_branch, mint
):
    survey = make_survey("pingyi")
    branch = make_branch("b01", "第一支部")
    code = mint(survey, branch, 1)[0]
    submit_with_code(code, {i.id: survey.options[0].id for i in survey.items}, None)
    listing = admin.get("/manage/branches").get_data(as_text=True)
    assert f"/manage/branches/{branch.id}/delete" not in listing
    before = snapshot()
    response, page = _post(admin, f"/manage/branches/{branch.id}/delete")
    assert response.status_code == 409
    assert "never deleted" in page and "Deactivate it instead." in page
    assert snapshot() == before
    response, _page = _post(admin, f"/manage/branches/{branch.id}/deactivate")
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Branch, branch.id).is_active
    page = admin.get(f"/manage/surveys/{survey.id}/codes").get_data(as_text=True)
    assert "b01 第一支部</option>" not in page  # an inactive branch is not offered for codes
    _post(admin, f"/manage/branches/{branch.id}/activate")
    db.session.expire_all()
    assert db.session.get(Branch, branch.id).is_active
    assert _audit("branch.deactivate") == ["branch=b01"] == _audit("branch.activate")


# ---- accounts ---------------------------------------------------------------------------------


def test_accounts_are_created_changed_reset_and_deactivated(app, admin, make_branch):
    b01 = make_branch("b01", "第一支部")
    response, _page = _post(
        admin,
        "/manage/users/new",
        {
            "username": "secretary",
            "password": "a first password",
            "confirm": "a first password",
            "role": "supervisor",
            "branch": "0",
        },
    )
    assert response.status_code == 302
    account = db.session.scalar(select(User).where(User.username == "secretary"))
    assert account.role is Role.SUPERVISOR and account.branch_id is None
    assert verify_password(account.password_hash, "a first password")
    assert "a first password" not in account.password_hash

    # The new account works; then its role changes to the viewer of one branch.
    other = isolated_client(app)
    sign_in_as(other, account)
    assert other.get("/manage/").status_code == 403
    response, _page = _post(
        admin, f"/manage/users/{account.id}", {"role": "branch_viewer", "branch": str(b01.id)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (account.role, account.branch_id) == (Role.BRANCH_VIEWER, b01.id)

    # A reset password ends the account's sessions and revokes its API tokens: whoever knew
    # the old password may have made either.
    token = create_token(account, "script").token
    response, _page = _post(
        admin,
        f"/manage/users/{account.id}/password",
        {"password": "a second password", "confirm": "a second password"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert verify_password(account.password_hash, "a second password")
    assert other.get("/manage/").status_code == 302  # signed out: sent to the sign-in page
    assert db.session.get(ApiToken, token.id).revoked_on is not None

    response, _page = _post(admin, f"/manage/users/{account.id}/deactivate")
    assert response.status_code == 302
    db.session.expire_all()
    assert not account.is_active
    sign_in_as(other, account)
    assert other.get("/manage/").status_code == 302
    _post(admin, f"/manage/users/{account.id}/activate")
    db.session.expire_all()
    assert account.is_active

    assert _audit("user.create") == ["user=secretary role=supervisor"]
    assert _audit("user.update") == ["user=secretary supervisor/- -> branch_viewer/b01"]
    assert _audit("user.reset_password") == ["user=secretary tokens_revoked=1"]
    assert _audit("user.deactivate") == ["user=secretary"] == _audit("user.activate")


def test_the_last_active_admin_stays_an_admin(admin, make_user):
    other = make_user("deputy", Role.ADMIN)
    response, _page = _post(admin, f"/manage/users/{other.id}/deactivate")
    assert response.status_code == 302  # another admin remains
    me = db.session.scalar(select(User).where(User.username == "office"))
    before = snapshot()
    response, page = _post(admin, f"/manage/users/{me.id}/deactivate")
    assert response.status_code == 409
    assert "You cannot deactivate your own account." in page
    assert snapshot() == before
