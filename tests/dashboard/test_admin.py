"""Accounts and reassignment, for admins."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import accounts
from service.models import AuditEntry, Client, User
from tests import factories
from tests.dashboard.conftest import Staff, Web, text_of


def test_an_admin_creates_a_therapist_who_can_sign_in(
    as_boss: Web, boss: Staff, web: Web, session: Session
) -> None:
    response = as_boss.post(
        "/admin/users/new",
        {
            "name": "Cy Chen",
            "email": "CY@practice.test",
            "role": "therapist",
            "password": "a long pass phrase",
        },
    )
    assert response.status_code == 302
    user = accounts.find_user(session, "cy@practice.test")
    assert user is not None and (user.role, user.active) == ("therapist", True)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "create"))
    assert entry is not None and (entry.user_id, entry.entity_id) == (boss.id, str(user.id))
    assert "Cy Chen" in text_of(as_boss.get("/admin/users"))
    assert web.login("cy@practice.test", "a long pass phrase").status_code == 302


def test_a_taken_email_or_short_password_is_shown_inline(as_boss: Web, ana: Staff) -> None:
    response = as_boss.post(
        "/admin/users/new",
        {"name": "Ana Again", "email": ana.email, "role": "therapist", "password": "short"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "already exists" in page and "At least 12 characters" in page
    assert 'value="Ana Again"' in page
    assert "short" not in page.split('name="password"', 1)[1].split(">", 1)[0]


def test_an_admin_deactivates_and_reactivates_an_account(
    as_boss: Web, ana: Staff, boss: Staff, session: Session
) -> None:
    as_boss.post(f"/admin/users/{ana.id}/active", {"active": "no"})
    assert session.scalar(select(User.active).where(User.id == ana.id)) is False
    as_boss.post(f"/admin/users/{ana.id}/active", {"active": "yes"})
    session.expire_all()
    assert session.scalar(select(User.active).where(User.id == ana.id)) is True
    as_boss.post(f"/admin/users/{boss.id}/active", {"active": "no"})  # not oneself
    assert session.scalar(select(User.active).where(User.id == boss.id)) is True


def test_an_admin_reassigns_a_client(
    as_boss: Web, as_ana: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    session.commit()
    assert as_ana.get(f"/clients/{client.id}").status_code == 200
    response = as_boss.post(f"/clients/{client.id}/therapist", {"therapist_id": ben.id})
    assert response.status_code == 302
    assert session.scalar(select(Client.therapist_id)) == ben.id
    assert as_ana.get(f"/clients/{client.id}").status_code == 404
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "reassign"))
    assert entry is not None
    assert entry.detail == {"before": ana.id, "after": ben.id, "via": "dashboard"}


def test_a_therapist_cannot_reassign(as_ana: Web, ana: Staff, ben: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    assert (
        as_ana.post(f"/clients/{client.id}/therapist", {"therapist_id": ben.id}).status_code == 403
    )
    assert session.scalar(select(Client.therapist_id)) == ana.id
