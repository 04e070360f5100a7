"""The command line: create-user and create-token, with one-line errors."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts import check_password, user_for_token
from service.models import ApiToken, AuditEntry, User


def test_create_user_makes_a_therapist_with_a_hashed_password(
    runner: FlaskCliRunner, session: Session
) -> None:
    result = runner.invoke(
        args=[
            "create-user",
            "Ana@Practice.test",
            "--name",
            "Ana Ruiz",
            "--password",
            "long-enough-pw",
        ]
    )
    assert result.exit_code == 0, result.output
    user = session.scalars(select(User)).one()
    assert (user.email, user.name, user.role) == ("ana@practice.test", "Ana Ruiz", "therapist")
    assert "long-enough-pw" not in user.password_hash
    assert check_password(user, "long-enough-pw")
    assert not check_password(user, "wrong-password")


def test_create_user_admin_flag(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(
        args=[
            "create-user",
            "boss@practice.test",
            "--name",
            "Bo",
            "--admin",
            "--password",
            "long-enough-pw",
        ]
    )
    assert result.exit_code == 0, result.output
    assert session.scalars(select(User)).one().is_admin


def test_create_user_prompts_for_the_password(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(
        args=["create-user", "p@practice.test", "--name", "P"],
        input="prompted-secret\nprompted-secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "prompted-secret" not in result.output
    assert check_password(session.scalars(select(User)).one(), "prompted-secret")


def test_create_user_refuses_a_duplicate_email_in_one_line(runner: FlaskCliRunner) -> None:
    args = ["create-user", "ana@practice.test", "--name", "Ana", "--password", "long-enough-pw"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=[*args[:1], "ANA@practice.test", *args[2:]])
    assert again.exit_code != 0
    assert again.output.strip() == "Error: a user with email ana@practice.test already exists"


def test_create_user_refuses_a_short_password(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(
        args=["create-user", "a@practice.test", "--name", "A", "--password", "short"]
    )
    assert result.exit_code != 0
    assert "password refused: At least 12 characters" in result.output
    assert session.scalars(select(User)).all() == []


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (" " * 14, "Not only spaces"),
        ("qwerty123456", "one of the 10,000 most common passwords"),
        ("1QAZ2WSX3EDC", "one of the 10,000 most common passwords"),
        ("ana.ruiz@practice.test", "Not your email or name"),
        ("Ana Ruiz-Delgado", "Not your email or name"),
        ("x" * 5000, "At most 1,000 characters"),
    ],
)
def test_create_user_refuses_a_weak_password_with_the_reason(
    runner: FlaskCliRunner, session: Session, password: str, reason: str
) -> None:
    result = runner.invoke(
        args=[
            "create-user",
            "ana.ruiz@practice.test",
            "--name",
            "Ana Ruiz-Delgado",
            "--password",
            password,
        ]
    )
    assert result.exit_code != 0
    assert result.output.startswith("Error: password refused: ") and reason in result.output
    assert password not in result.output
    assert session.scalars(select(User)).all() == []


def test_create_user_refuses_a_bad_email(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["create-user", "not-an-email", "--name", "A", "--password", "long-enough-pw"]
    )
    assert result.exit_code != 0
    assert "is not an email address" in result.output


def test_create_token_prints_a_working_token_on_its_last_line(
    app: Flask, runner: FlaskCliRunner, session: Session
) -> None:
    runner.invoke(
        args=["create-user", "ana@practice.test", "--name", "Ana", "--password", "long-enough-pw"]
    )
    result = runner.invoke(args=["create-token", "ana@practice.test"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tb_") and " " not in token
    stored = session.scalars(select(ApiToken)).one()
    assert token not in stored.token_hash
    user = user_for_token(session, token)
    assert user is not None and user.email == "ana@practice.test"
    assert user_for_token(session, token + "x") is None


def test_create_token_refuses_an_unknown_user(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-token", "nobody@practice.test"])
    assert result.exit_code != 0
    assert result.output.strip() == "Error: no user with email nobody@practice.test"


def _tokens(runner: FlaskCliRunner, email: str, count: int) -> list[str]:
    runner.invoke(args=["create-user", email, "--name", "Ana", "--password", "long-enough-pw"])
    made = [runner.invoke(args=["create-token", email]) for _ in range(count)]
    return [result.output.strip().splitlines()[-1] for result in made]


def test_revoke_token_refuses_that_token_from_then_on(
    runner: FlaskCliRunner, session: Session
) -> None:
    kept, revoked = _tokens(runner, "ana@practice.test", 2)
    result = runner.invoke(args=["revoke-token", revoked])
    assert result.exit_code == 0, result.output
    assert "revoked" in result.output and revoked not in result.output
    assert user_for_token(session, revoked) is None
    assert user_for_token(session, kept) is not None
    again = runner.invoke(args=["revoke-token", revoked])
    assert again.exit_code != 0
    assert again.output.strip() == "Error: no live token matches; it may be revoked already"
    [entry] = _revocations(session)
    row = session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_not(None))).one()
    assert (entry.user_id, entry.entity, entry.entity_id) == (None, "api_token", str(row.id))
    assert entry.detail == {"name": row.name, "owner": row.user_id, "via": "cli"}
    assert revoked not in repr(entry.detail)


def _revocations(session: Session) -> list[AuditEntry]:
    """The audited token revocations, oldest first."""
    session.expire_all()
    query = select(AuditEntry).where(AuditEntry.action == "token_revoked")
    return list(session.scalars(query.order_by(AuditEntry.id)))


def test_revoke_token_all_of_a_user(runner: FlaskCliRunner, session: Session) -> None:
    tokens = _tokens(runner, "ana@practice.test", 3)
    result = runner.invoke(args=["revoke-token", "--all-of", "ANA@practice.test"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "revoked 3 token(s) of ana@practice.test"
    assert [user_for_token(session, t) for t in tokens] == [None, None, None]
    ids = session.scalars(select(ApiToken.id).order_by(ApiToken.id)).all()
    revocations = _revocations(session)
    assert sorted(int(e.entity_id) for e in revocations) == list(ids)
    assert {e.detail["via"] for e in revocations} == {"cli"}
    unknown = runner.invoke(args=["revoke-token", "--all-of", "nobody@practice.test"])
    assert unknown.output.strip() == "Error: no user with email nobody@practice.test"


def test_revoke_token_wants_a_token_or_a_user_not_both(runner: FlaskCliRunner) -> None:
    for args in (["revoke-token"], ["revoke-token", "tb_x", "--all-of", "a@b.co"]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        assert result.output.strip() == "Error: give a token, or --all-of EMAIL (not both)"
