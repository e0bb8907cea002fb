"""create-user: passwords typed twice (or piped), argon2id hashes, and every refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.identity.passwords import MIN_LENGTH, verify_password
from survey.models import AuditEntry, Role, User

PASSWORD = "correct horse battery"


def users() -> list[User]:
    db.session.expire_all()
    return list(db.session.scalars(select(User).order_by(User.id)))


def test_create_user_prompts_twice_and_stores_an_argon2id_hash(runner):
    result = runner.invoke(
        args=["create-user", "admin", "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "User admin created (admin)" in result.output
    assert PASSWORD not in result.output
    [user] = users()
    assert (user.username, user.role, user.branch_id, user.is_active) == (
        "admin",
        Role.ADMIN,
        None,
        True,
    )
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)
    entry = db.session.scalar(select(AuditEntry))
    assert entry.action == "user.create" and "user=admin" in entry.detail


def test_create_user_asks_again_when_the_repetition_differs(runner):
    result = runner.invoke(
        args=["create-user", "admin", "--role", "admin"],
        input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert verify_password(users()[0].password_hash, PASSWORD)


def test_create_user_reads_the_password_from_stdin(runner, make_branch):
    make_branch("b07", "科技與信息化處黨支部")
    result = runner.invoke(
        args=[
            *("create-user", "secretary7", "--role", "branch_viewer", "--branch", "b07"),
            "--password-stdin",
        ],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    [user] = users()
    assert user.role is Role.BRANCH_VIEWER and user.branch.code == "b07"
    assert verify_password(user.password_hash, PASSWORD)


def test_create_user_refuses_a_duplicate_username(runner):
    runner.invoke(args=["create-user", "office", "--role", "supervisor", "--password-stdin"],
                  input=f"{PASSWORD}\n")  # fmt: skip
    result = runner.invoke(
        args=["create-user", "office", "--role", "admin", "--password-stdin"],
        input="another password\n",
    )
    assert result.exit_code == 1
    assert "This username is already taken." in result.stderr
    [user] = users()
    assert user.role is Role.SUPERVISOR and verify_password(user.password_hash, PASSWORD)


def test_create_user_refuses_a_short_password(runner):
    short = "x" * (MIN_LENGTH - 1)
    result = runner.invoke(
        args=["create-user", "admin", "--role", "admin"], input=f"{short}\n{short}\n"
    )
    assert result.exit_code == 1
    assert f"at least {MIN_LENGTH} characters" in result.stderr
    assert users() == []


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["viewer", "--role", "branch_viewer"], 1, "A branch viewer needs a branch."),
        (["viewer", "--role", "branch_viewer", "--branch", "b99"], 1, 'code "b99"'),
        (["boss", "--role", "king"], 2, "'king' is not one of"),
        (["two words", "--role", "admin"], 1, "no spaces"),
    ],
)
def test_create_user_refusals(runner, make_branch, args, status, message):
    """The same rules as the office's page (one service), with the page's messages."""
    make_branch("b01")
    result = runner.invoke(args=["create-user", *args, "--password-stdin"], input=f"{PASSWORD}\n")
    assert result.exit_code == status
    assert message in result.stderr
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_only_a_branch_viewer_keeps_a_branch(runner, make_branch):
    """As on the office's page, a branch given with another role is not kept."""
    make_branch("b01")
    args = ["create-user", "boss", "--role", "admin", "--branch", "b01", "--password-stdin"]
    result = runner.invoke(args=args, input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User.branch_id)).all() == [None]
