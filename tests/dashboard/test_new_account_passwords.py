"""The admin's new-account form applies the same password rules as every other way in."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import User
from tests.dashboard.conftest import Web, text_of


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "At least 12 characters"),
        (" " * 20, "Not only spaces"),
        ("qwerty123456", "one of the 10,000 most common passwords"),
        ("cy.chen@practice.test", "Not your email or name"),
        ("Cy Chen Junior", "Not your email or name"),
        ("z" * 5000, "At most 1,000 characters"),
    ],
)
def test_a_weak_first_password_is_refused_with_the_reason(
    as_boss: Web, session: Session, password: str, reason: str
) -> None:
    response = as_boss.post(
        "/admin/users/new",
        {
            "name": "Cy Chen Junior",
            "email": "cy.chen@practice.test",
            "role": "therapist",
            "password": password,
        },
    )
    assert response.status_code == 422
    assert reason in text_of(response)
    assert session.scalar(select(User).where(User.email == "cy.chen@practice.test")) is None


def test_a_first_password_within_the_rules_is_accepted(as_boss: Web, web: Web) -> None:
    response = as_boss.post(
        "/admin/users/new",
        {"name": "Cy", "email": "cy@practice.test", "role": "therapist", "password": "tea at four"},
    )
    assert response.status_code == 422  # 11 characters
    response = as_boss.post(
        "/admin/users/new",
        {
            "name": "Cy",
            "email": "cy@practice.test",
            "role": "therapist",
            "password": "tea at four!",
        },
    )
    assert response.status_code == 302
    assert web.login("cy@practice.test", "tea at four!").status_code == 302
