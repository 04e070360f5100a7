"""Signing in and out, the login throttle, and who may see which pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.dashboard import throttle
from service.dashboard.auth import SESSION_LIFETIME
from service.models import AuditEntry, User
from tests.dashboard.conftest import Staff, Web, signed_in, text_of


def test_an_anonymous_visitor_is_sent_to_the_login_page(web: Web) -> None:
    response = web.get("/clients", q="lee")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/clients?q%3Dlee"
    assert "Sign in" in text_of(web.get("/login"))


def test_signing_in_goes_where_the_visitor_was_going(web: Web, ana: Staff) -> None:
    token = web.token()
    response = web.http.post(
        "/login",
        data={"csrf_token": token, "email": "ANA@practice.test ", "password": "long-enough-pw"},
        query_string={"next": "/schedule"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/schedule"
    assert web.get("/schedule").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
def test_it_never_redirects_off_the_site_after_login(web: Web, ana: Staff, target: str) -> None:
    token = web.token()
    response = web.http.post(
        "/login",
        data={"csrf_token": token, "email": ana.email, "password": "long-enough-pw"},
        query_string={"next": target},
    )
    assert response.headers["Location"] == "/"


def test_a_bad_password_is_refused_and_recorded(web: Web, ana: Staff, session: Session) -> None:
    response = web.login(ana.email, "not-the-password")
    assert response.status_code == 200
    assert "do not match an active account" in text_of(response)
    assert web.get("/").status_code == 302  # still anonymous
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed"))
    assert (entry.entity, entry.entity_id, entry.user_id) == ("user", ana.email, None)
    assert entry.detail == {"ip": "127.0.0.1"}


def test_an_unknown_email_gets_the_same_answer(web: Web) -> None:
    response = web.login("nobody@practice.test", "whatever-it-is")
    assert "do not match an active account" in text_of(response)


def test_five_failures_lock_the_email_from_that_address(web: Web, ana: Staff, app: Flask) -> None:
    for _ in range(throttle.MAX_FAILURES - 1):
        assert web.login(ana.email, "wrong-password").status_code == 200
    assert web.login(ana.email, "wrong-password").status_code == 429  # the fifth locks
    locked = web.login(ana.email)  # even the right password waits now
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in text_of(locked)
    assert web.get("/").status_code == 302
    # Someone else's address is not locked: a stranger cannot lock a therapist out.
    elsewhere = Web(app.test_client())
    response = elsewhere.login(ana.email, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 302


def test_the_lock_ends_fifteen_minutes_after_the_fifth_failure(
    web: Web, ana: Staff, session: Session
) -> None:
    for _ in range(throttle.MAX_FAILURES):
        web.login(ana.email, "wrong-password")
    assert web.login(ana.email).status_code == 429
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed")):
        entry.at -= throttle.LOCK + timedelta(seconds=1)
    session.commit()
    assert web.login(ana.email).status_code == 302


T0 = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("failures", "now", "until"),
    [
        ([], T0, None),
        ([T0 + i * MIN for i in range(4)], T0 + 5 * MIN, None),
        ([T0 + i * MIN for i in range(5)], T0 + 5 * MIN, T0 + 4 * MIN + throttle.LOCK),
        ([T0 + i * MIN for i in range(5)], T0 + 4 * MIN + throttle.LOCK, None),
        # Five failures spread over more than the window never lock.
        ([T0 + i * 4 * MIN for i in range(5)], T0 + 17 * MIN, None),
        # A sixth failure during the lock extends it.
        ([T0 + i * MIN for i in range(6)], T0 + 6 * MIN, T0 + 5 * MIN + throttle.LOCK),
    ],
)
def test_locked_until(failures: list[datetime], now: datetime, until: datetime | None) -> None:
    assert throttle.locked_until(failures, now) == until


def test_signing_out_ends_the_session(as_ana: Web, session: Session) -> None:
    response = as_ana.post("/logout")
    assert response.status_code == 302
    assert as_ana.get("/").status_code == 302
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    # (the inbox, read for the form's CSRF token, is audited as a "list")
    assert [a for a in actions if a != "list"] == ["login", "logout"]


def test_a_deactivated_account_is_signed_out_at_its_next_request(
    app: Flask, ana: Staff, session: Session
) -> None:
    browser = signed_in(app, ana)
    assert browser.get("/").status_code == 200
    user = session.get(User, ana.id)
    assert user is not None
    user.active = False
    session.commit()
    assert browser.get("/").status_code == 302
    assert browser.login(ana.email).status_code == 200  # and cannot sign in again


def test_admin_pages_are_refused_to_therapists(as_ana: Web) -> None:
    assert as_ana.get("/admin/users").status_code == 403
    assert as_ana.post("/admin/users/new", {"email": "x@y.co"}).status_code == 403


def test_a_session_ends_twelve_hours_after_sign_in_even_if_the_cookie_is_kept(
    app: Flask, ana: Staff
) -> None:
    browser = signed_in(app, ana)
    assert browser.get("/").status_code == 200
    cookie = browser.http.get_cookie("session")
    assert cookie is not None and cookie.expires is not None  # not a browser-session cookie
    with browser.http.session_transaction() as kept:
        assert isinstance(kept["since"], int)
        kept["since"] -= int(SESSION_LIFETIME.total_seconds()) + 1  # as if signed in long ago
    assert browser.get("/").status_code == 302
    with browser.http.session_transaction() as kept:
        assert "user_id" not in kept
