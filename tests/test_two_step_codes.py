"""Two-step sign-in's stored side: codes taken once even by two requests at the same moment,
recovery codes spent once, and whom the practice's requirement applies to."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pyotp
import pytest
from flask import Flask

from service import accounts, two_step
from service.config import settings_of
from service.db import get_db
from service.domain import authenticator_codes as codes
from service.models import User

NOW = datetime(2027, 3, 4, 19, 0, 5, tzinfo=UTC)


def _user_with_two_step(app: Flask, *, admin: bool = False) -> tuple[int, str, list[str]]:
    with get_db(app).session() as session:
        user = accounts.create_user(
            session,
            settings_of(app),
            "ana@practice.test",
            "Ana Ruiz",
            "long-enough-pw",
            admin=admin,
        )
        user.totp_secret = pyotp.random_base32()
        user.totp_enabled_at = NOW
        recovery = two_step.new_recovery_codes(session, user, NOW)
        session.commit()
        return user.id, user.totp_secret, recovery


def _take(app: Flask, user_id: int, typed: str) -> bool:
    with get_db(app).session() as session:
        user = session.get(User, user_id)
        assert user is not None
        read = codes.read_code(typed)
        assert read is not None
        taken = two_step.take_code(session, user, read, NOW)
        session.commit()
        return taken


def test_two_requests_with_one_code_at_the_same_moment_sign_in_once(app: Flask) -> None:
    user_id, secret, _ = _user_with_two_step(app)
    code = pyotp.TOTP(secret).at(NOW)
    results: list[bool] = []
    start = threading.Barrier(2)

    def sign_in() -> None:
        start.wait()
        results.append(_take(app, user_id, code))

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, True]


def test_a_recovery_code_is_spent_once(app: Flask) -> None:
    user_id, _, recovery = _user_with_two_step(app)
    assert _take(app, user_id, recovery[3]) is True
    assert _take(app, user_id, recovery[3].replace("-", "").upper()) is False
    with get_db(app).session() as session:
        user = session.get(User, user_id)
        assert user is not None
        assert two_step.recovery_codes_left(session, user) == 9


@pytest.mark.parametrize(
    ("admin", "for_admins", "for_everyone", "required"),
    [
        (True, False, False, False),
        (True, True, False, True),
        (False, True, False, False),
        (False, False, True, True),
        (True, False, True, True),
    ],
)
def test_whom_the_requirement_applies_to(
    app: Flask, admin: bool, for_admins: bool, for_everyone: bool, required: bool
) -> None:
    settings = replace(
        settings_of(app), two_step_for_admins=for_admins, two_step_for_everyone=for_everyone
    )
    user = User(email="x@practice.test", name="X", role="admin" if admin else "therapist")
    assert two_step.required_for(user, settings) is required
    user.totp_enabled_at = NOW
    assert two_step.required_for(user, settings) is False
