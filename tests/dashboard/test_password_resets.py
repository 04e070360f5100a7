"""Reset links: issued by an admin, shown once, used once within 24 hours, and any other
use answered with a clear page, never a 500."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.account_models import PasswordReset
from service.accounts import secret_hash
from service.db import utcnow
from service.domain.vocabulary import ResetKind
from service.logs import redact
from service.models import AuditEntry, User
from tests.dashboard.conftest import PASSWORD, Staff, Web, make_staff, signed_in, text_of

NEW = "a brand new pass phrase"
DEAD = "This link has expired or was already used; ask your admin for a new one."


def issue(admin: Web, staff: Staff) -> str:
    """Issue a link for ``staff`` and return its path, read from the admin's page."""
    response = admin.post(f"/admin/users/{staff.id}/reset-link")
    assert response.status_code == 200
    found = re.search(r"http://localhost(/reset/[A-Za-z0-9_-]+)", response.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def redeem(web: Web, path: str, password: str = NEW) -> str:
    return web.post(path, {"new_password": password})


def test_an_admin_sees_the_link_once_and_only_its_hash_is_kept(
    as_boss: Web, boss: Staff, ana: Staff, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = issue(as_boss, ana)
    token = path.rsplit("/", 1)[1]
    reset = session.scalars(select(PasswordReset)).one()
    assert (reset.kind, reset.user_id, reset.created_by_id) == (ResetKind.LINK, ana.id, boss.id)
    assert reset.secret_hash == secret_hash(token) != token
    assert reset.expires_at - reset.created_at == timedelta(hours=24)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "password_reset_link_issued")
    ).one()
    assert (entry.user_id, entry.entity_id) == (boss.id, str(ana.id))
    assert token not in str(entry.detail) and token not in caplog.text
    with as_boss.http.session_transaction() as cookie:
        assert token not in str(dict(cookie))
    edit_page = as_boss.get(f"/admin/users/{ana.id}").get_data(as_text=True)
    assert f"/admin/users/{ana.id}/reset-link" in edit_page


def test_a_link_sets_a_new_password_ends_every_session_and_does_not_sign_in(
    app: Flask, as_boss: Web, ana: Staff, web: Web, session: Session
) -> None:
    ana_elsewhere = signed_in(app, ana)
    path = issue(as_boss, ana)
    assert 'name="new_password"' in web.get(path).get_data(as_text=True)
    response = redeem(web, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Password changed; sign in with it." in text_of(web.get("/login"))
    assert web.get("/account").status_code == 302  # not signed in
    assert ana_elsewhere.get("/account").status_code == 302  # signed out
    assert Web(app.test_client()).login(ana.email, PASSWORD).status_code == 200
    assert Web(app.test_client()).login(ana.email, NEW).status_code == 302
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "password_reset")).one()
    assert (entry.entity_id, entry.detail["via"]) == (str(ana.id), "link")


def test_a_link_used_twice_gets_a_clear_page(
    as_boss: Web, ana: Staff, web: Web, session: Session
) -> None:
    path = issue(as_boss, ana)
    assert redeem(web, path).status_code == 302
    for again in (web.get(path), redeem(web, path, "yet another pass phrase")):
        assert again.status_code == 404
        assert DEAD in text_of(again)
    session.expire_all()
    refused = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "password_reset_link_refused")
    ).one()
    assert path.rsplit("/", 1)[1] not in str(refused.detail)


def test_a_link_expires_after_24_hours(as_boss: Web, ana: Staff, web: Web) -> None:
    path = issue(as_boss, ana)
    start = datetime.now(UTC)
    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        assert web.get(path).status_code == 200
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        response = redeem(web, path)
        assert response.status_code == 404 and DEAD in text_of(response)


def test_a_newer_link_ends_the_earlier_one(as_boss: Web, ana: Staff, web: Web) -> None:
    first = issue(as_boss, ana)
    second = issue(as_boss, ana)
    assert DEAD in text_of(web.get(first))
    assert redeem(web, second).status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/reset/" + "A" * 43,
        "/reset/not-a-token",
        "/reset/%00%ff%fe",
        "/reset/" + "x" * 5000,
        "/reset/..%2F..%2Fadmin",
        "/reset/' OR 1=1 --",
    ],
)
def test_a_tampered_link_gets_the_same_clear_page(web: Web, ana: Staff, path: str) -> None:
    for response in (web.get(path), web.post(path, {"new_password": NEW})):
        assert response.status_code in (400, 404)
        assert "ana@" not in response.get_data(as_text=True)


def test_a_changed_character_makes_the_link_unknown(as_boss: Web, ana: Staff, web: Web) -> None:
    path = issue(as_boss, ana)
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    response = web.get(tampered)
    assert response.status_code == 404 and DEAD in text_of(response)
    assert web.get(path).status_code == 200


def test_the_rules_apply_and_a_refused_password_leaves_the_link_usable(
    as_boss: Web, ana: Staff, web: Web
) -> None:
    path = issue(as_boss, ana)
    for password, reason in [
        ("short", "At least 12 characters"),
        ("x" * 5000, "At most 1,000 characters"),
        ("qwerty123456", "10,000 most common"),
        (ana.email, "Not your email or name"),
    ]:
        response = redeem(web, path, password)
        assert response.status_code == 422 and reason in text_of(response)
    assert redeem(web, path).status_code == 302


def test_a_deactivated_account_cannot_use_its_link(
    as_boss: Web, ana: Staff, web: Web, session: Session
) -> None:
    path = issue(as_boss, ana)
    as_boss.post(f"/admin/users/{ana.id}/active", {"active": "no"})
    response = redeem(web, path)
    assert response.status_code == 404 and DEAD in text_of(response)
    session.expire_all()
    assert session.scalars(select(AuditEntry.action)).all().count("password_reset") == 0


def test_reactivating_an_account_does_not_revive_its_old_link(
    as_boss: Web, ana: Staff, web: Web, session: Session
) -> None:
    path = issue(as_boss, ana)
    user = session.get_one(User, ana.id)
    user.phone = "+16175550123"
    session.add(
        PasswordReset(
            user_id=ana.id,
            kind=ResetKind.CODE,
            secret_hash="0" * 64,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(minutes=10),
        )
    )
    session.commit()
    as_boss.post(f"/admin/users/{ana.id}/active", {"active": "no"})
    session.expire_all()
    assert None not in session.scalars(select(PasswordReset.ended_at)).all()  # link and code
    as_boss.post(f"/admin/users/{ana.id}/active", {"active": "yes"})
    assert session.get_one(User, ana.id).active
    response = redeem(web, path)
    assert response.status_code == 404 and DEAD in text_of(response)


def test_no_link_for_a_deactivated_account_and_none_from_a_therapist(
    as_boss: Web, as_ana: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    user = session.get(User, ben.id)
    assert user is not None
    user.active = False
    session.commit()
    response = as_boss.post(f"/admin/users/{ben.id}/reset-link")
    assert response.status_code == 302
    assert "reactivate the account first" in text_of(as_boss.get("/admin/users"))
    assert as_ana.post(f"/admin/users/{ben.id}/reset-link").status_code == 403
    assert as_boss.post("/admin/users/999/reset-link").status_code == 404
    assert session.scalars(select(PasswordReset)).all() == []


def test_the_link_uses_the_practices_public_address(make_app: Callable[..., Flask]) -> None:
    app = make_app(PUBLIC_BASE_URL="https://touchbase.example")
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    response = signed_in(app, boss).post(f"/admin/users/{ana.id}/reset-link")
    assert "https://touchbase.example/reset/" in response.get_data(as_text=True)


def test_the_access_log_never_shows_a_links_token() -> None:
    line = '10.0.0.1 "GET /reset/Ab_c-9xYZ" 200 812 3ms request_id=- "Mozilla/5.0"'
    assert redact(line) == '10.0.0.1 "GET /reset/[token]" 200 812 3ms request_id=- "Mozilla/5.0"'
    assert redact("POST /reset/Ab_c-9xYZ?x=1 302") == "POST /reset/[token]?x=1 302"
