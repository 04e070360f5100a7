"""Turning two-step sign-in on and off: the QR code and secret, on only after a right code,
recovery codes shown once, turning it off yourself or by an admin."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import two_step
from service.account_models import RecoveryCode
from service.dashboard.security import CSP
from tests.dashboard.account_helpers import audits, user_row
from tests.dashboard.conftest import Staff, Web, signed_in, text_of
from tests.dashboard.two_step_helpers import T0, code_at, turn_on_for


def _secret_on(page: str) -> str:
    found = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page)
    assert found is not None, "no secret on the page"
    return found.group(1).replace(" ", "")


def _codes_left(session: Session, user_id: int) -> int:
    session.expire_all()
    query = select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user_id)
    return session.scalar(query.where(RecoveryCode.used_at.is_(None))) or 0


def test_the_page_shows_a_qr_code_and_the_secret_under_the_csp(app: Flask, ana: Staff) -> None:
    with time_machine.travel(T0, tick=False):
        web = signed_in(app, ana)
        response = web.get("/account/two-step")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    page = response.get_data(as_text=True)
    secret = _secret_on(page)
    assert len(secret) == 32
    assert "<svg" in page and "<script>" not in page and "data:" not in page
    assert " style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'name="code"' in page
    assert user_row(app, ana).totp_enabled_at is None  # not on before a right code
    # The same secret on a reload, so a code scanned before reloading still works.
    with time_machine.travel(T0, tick=False):
        assert _secret_on(web.get("/account/two-step").get_data(as_text=True)) == secret


def test_the_qr_code_names_the_practice_and_the_account(app: Flask, ana: Staff) -> None:
    user, secret = user_row(app, ana), pyotp.random_base32()
    uri = two_step.provisioning_uri(user, secret, "Bright Path")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert unquote(parsed.path) == "/Bright Path:ana@practice.test"
    assert parse_qs(parsed.query)["issuer"] == ["Bright Path"]
    assert "issuer=TouchBase" in two_step.provisioning_uri(user, secret, " ")


def test_a_right_code_turns_it_on_and_shows_ten_recovery_codes_once(
    app: Flask, ana: Staff, session: Session
) -> None:
    with time_machine.travel(T0, tick=False):
        web = signed_in(app, ana)
        secret = _secret_on(web.get("/account/two-step").get_data(as_text=True))
        response = web.post("/account/two-step", {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        shown = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)
        assert len(shown) == 10 == len(set(shown))
        assert "Two-step sign-in is on" in text_of(response)
        again = web.get("/account/two-step")
        assert shown[0] not in again.get_data(as_text=True)
        assert "10 recovery codes left" in text_of(again)
        assert "10 recovery codes left" in text_of(web.get("/account"))
    user = user_row(app, ana)
    assert user.totp_enabled_at == T0 and user.totp_secret == secret
    stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(shown) & set(stored)
    (entry,) = audits(session, "two_step_enabled")
    assert (entry.user_id, entry.entity_id) == (ana.id, str(ana.id))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("wrong", "Enter the 6 digits your app shows"),
        ("1234567", "Enter the 6 digits your app shows"),
        ("12a456", "Enter the 6 digits your app shows"),
        ("abcde-fghjk", "Enter the 6 digits your app shows"),
        ("next-step", "That code is not right"),
        ("two-steps", "That code is not right"),
    ],
)
def test_a_wrong_code_leaves_it_off(app: Flask, ana: Staff, typed: str, message: str) -> None:
    with time_machine.travel(T0, tick=False):
        web = signed_in(app, ana)
        secret = _secret_on(web.get("/account/two-step").get_data(as_text=True))
        if typed == "next-step":
            typed = "000000" if code_at(secret, T0) != "000000" else "111111"
        elif typed == "two-steps":
            typed = code_at(secret, T0, 2)
        response = web.post("/account/two-step", {"code": typed})
        assert response.status_code == 422
        assert message in text_of(response)
    assert user_row(app, ana).totp_enabled_at is None


def test_turning_it_off_needs_the_password_and_signs_out_everywhere_else(
    app: Flask, ana: Staff, session: Session
) -> None:
    secret, _ = turn_on_for(app, ana)
    with time_machine.travel(T0, tick=False) as clock:
        here, elsewhere = Web(app.test_client()), Web(app.test_client())
        for step, browser in enumerate((here, elsewhere)):
            clock.shift(30)  # a new code for each sign-in
            browser.login(ana.email)
            now = T0.timestamp() + 30 * (step + 1)
            code = pyotp.TOTP(secret).at(now)
            assert browser.post("/login/code", {"code": code}).status_code == 302
        refused = here.post("/account/two-step/off", {"current_password": "not-my-password"})
        assert refused.status_code == 422
        assert "That is not your current password." in text_of(refused)
        response = here.post("/account/two-step/off", {"current_password": "long-enough-pw"})
        assert response.status_code == 302
        assert here.get("/clients").status_code == 200
        assert elsewhere.get("/clients").status_code == 302
    user = user_row(app, ana)
    assert (user.totp_secret, user.totp_enabled_at, user.totp_last_step) == (None, None, None)
    assert _codes_left(session, ana.id) == 0
    (entry,) = audits(session, "two_step_disabled")
    assert entry.user_id == ana.id and entry.detail == {"by": "self"}
    # Next sign-in asks for the password alone.
    assert Web(app.test_client()).login(ana.email).headers["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(app: Flask, ana: Staff, session: Session) -> None:
    web = signed_in(app, ana)  # signed in before two-step sign-in was turned on
    _, old = turn_on_for(app, ana)
    assert (
        web.post("/account/two-step/recovery-codes", {"current_password": "x"}).status_code == 422
    )
    response = web.post("/account/two-step/recovery-codes", {"current_password": "long-enough-pw"})
    assert response.status_code == 200
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert _codes_left(session, ana.id) == 10
    assert len(audits(session, "recovery_codes_renewed")) == 1
    with time_machine.travel(T0, tick=False):
        for code, accepted in ((old[0], False), (new[0], True)):
            browser = Web(app.test_client())
            browser.login(ana.email)
            assert (browser.post("/login/code", {"code": code}).status_code == 302) is accepted


def test_an_admin_turns_off_someones_two_step_sign_in(
    app: Flask, ana: Staff, boss: Staff, session: Session
) -> None:
    secret, _ = turn_on_for(app, ana)
    with time_machine.travel(T0, tick=False):
        anas = Web(app.test_client())
        anas.login(ana.email)
        assert anas.post("/login/code", {"code": code_at(secret, T0)}).status_code == 302
        as_boss = signed_in(app, boss)
        page = as_boss.get(f"/admin/users/{ana.id}").get_data(as_text=True)
        assert f"/admin/users/{ana.id}/two-step/off" in page
        response = as_boss.post(f"/admin/users/{ana.id}/two-step/off")
        assert response.status_code == 302
        assert response.headers["Location"] == "/admin/users"
        assert anas.get("/clients").status_code == 302  # signed out everywhere
        assert as_boss.post("/admin/users/999/two-step/off").status_code == 404
    user = user_row(app, ana)
    assert (user.totp_secret, user.totp_enabled_at) == (None, None)
    assert _codes_left(session, ana.id) == 0
    (entry,) = audits(session, "two_step_disabled")
    assert entry.user_id == boss.id and entry.entity_id == str(ana.id)
    assert entry.detail == {"by": "admin", "admin": boss.id}


def test_a_therapist_cannot_turn_off_anothers_two_step_sign_in(
    app: Flask, ana: Staff, ben: Staff, as_ana: Web
) -> None:
    turn_on_for(app, ben)
    assert as_ana.post(f"/admin/users/{ben.id}/two-step/off").status_code == 403
    assert user_row(app, ben).totp_enabled_at is not None
    assert as_ana.http.post(f"/admin/users/{ben.id}/two-step/off").status_code == 400  # no CSRF


def test_the_account_page_says_whether_it_is_on(app: Flask, ana: Staff, as_ana: Web) -> None:
    assert "Turn on two-step sign-in" in text_of(as_ana.get("/account"))
    turn_on_for(app, ana)
    assert "10 recovery codes left" in text_of(as_ana.get("/account"))


def test_new_recovery_codes_without_two_step_lead_to_turning_it_on(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    response = as_ana.post("/account/two-step/recovery-codes", {"current_password": "x"})
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-step"
    assert "turn it on first" in text_of(as_ana.get("/account/two-step"))
    assert _codes_left(session, ana.id) == 0
