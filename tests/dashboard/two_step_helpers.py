"""Arranging two-step sign-in for dashboard tests: a user with it on, codes at an instant."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
from flask import Flask

from service import two_step
from service.db import get_db
from service.models import User
from tests.dashboard.conftest import Staff

# Five seconds into a 30-second step, a Thursday afternoon in the practice's zone.
T0 = datetime(2027, 3, 4, 19, 0, 5, tzinfo=UTC)


def turn_on_for(app: Flask, staff: Staff, now: datetime = T0) -> tuple[str, list[str]]:
    """Turn two-step sign-in on for ``staff``: its secret and ten recovery codes."""
    with get_db(app).session() as session:
        user = session.get(User, staff.id)
        assert user is not None
        secret = pyotp.random_base32()
        user.totp_secret = secret
        user.totp_enabled_at = now
        recovery = two_step.new_recovery_codes(session, user, now)
        session.commit()
    return secret, recovery


def code_at(secret: str, instant: datetime, steps: int = 0) -> str:
    """The app's code at ``instant``, or ``steps`` steps of 30 seconds away."""
    return pyotp.TOTP(secret).at(instant.timestamp() + 30 * steps)
