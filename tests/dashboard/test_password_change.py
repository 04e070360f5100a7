"""Changing one's password on the account page: the current password, the rules, the
throttle, and the other sessions signed out."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from service import accounts
from service.account_models import PasswordReset
from service.dashboard import throttle
from service.db import get_db, utcnow
from service.domain.vocabulary import ResetKind
from service.models import AuditEntry, User
from service.resets import LINK_LIFETIME
from tests.dashboard.conftest import PASSWORD, Staff, Web, signed_in, text_of

NEW = "a brand new pass phrase"
TOKENS_NOTE = "not revoked with the password"


def change(web: Web, current: str = PASSWORD, new: str = NEW, **more: str) -> str:
    return web.post("/account/password", {"current_password": current, "new_password": new, **more})


def actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_account_page_has_the_current_and_the_new_password_fields(as_ana: Web) -> None:
    page = as_ana.get("/account").get_data(as_text=True)
    assert 'action="/account/password"' in page
    assert 'name="current_password"' in page and 'name="new_password"' in page


def test_a_change_keeps_this_session_and_signs_out_the_others(
    app: Flask, ana: Staff, session: Session
) -> None:
    here, elsewhere = signed_in(app, ana), signed_in(app, ana)
    response = change(here, confirm_password=NEW)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert "Password changed" in text_of(here.get("/account"))
    assert elsewhere.get("/account").status_code == 302  # sent to sign in
    assert "password_changed" in actions(session)
    assert Web(app.test_client()).login(ana.email, PASSWORD).status_code == 200  # refused
    assert Web(app.test_client()).login(ana.email, NEW).status_code == 302


def test_a_wrong_current_password_is_refused_and_counts_toward_the_throttle(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    response = change(as_ana, current="not my password at all")
    assert response.status_code == 422
    assert "That is not your current password." in text_of(response)
    assert "not my password" not in response.get_data(as_text=True)
    failures = session.scalars(select(AuditEntry).where(AuditEntry.action == throttle.ACTION)).all()
    assert [f.entity_id for f in failures] == [ana.email]
    assert "password_change_failed" in actions(session)
    user = session.get(User, ana.id)
    assert user is not None and user.session_version == 0


def test_five_wrong_current_passwords_pause_the_form_and_the_sign_in(
    app: Flask, as_ana: Web, ana: Staff
) -> None:
    for _ in range(throttle.MAX_FAILURES - 1):
        assert change(as_ana, current="guessing-again-and-again").status_code == 422
    fifth = change(as_ana, current="guessing-again-and-again")
    assert fifth.status_code == 429
    assert "Too many failed sign-ins. Try again after" in text_of(fifth)
    response = change(as_ana)  # even the right one waits now
    assert response.status_code == 429
    assert "(in 15 minutes)" in text_of(response)
    assert Web(app.test_client()).login(ana.email).status_code == 429


def test_the_rules_apply_to_the_new_password_with_a_clear_reason(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    cases = {
        "short": "At least 12 characters",
        " " * 14: "Not only spaces",
        "1qaz2wsx3edc": "10,000 most common",
        "QWERTY123456": "10,000 most common",
        ana.email.upper(): "Not your email or name",
        "x" * 5000: "At most 1,000 characters",
    }
    for new, reason in cases.items():
        response = change(as_ana, new=new)
        assert response.status_code == 422, new
        assert reason in text_of(response)
    assert as_ana.get("/account").status_code == 200  # still signed in, nothing changed
    assert "password_changed" not in actions(session)


def test_a_5000_character_current_password_is_just_wrong(as_ana: Web) -> None:
    response = change(as_ana, current="y" * 5000)
    assert response.status_code == 422
    assert "That is not your current password." in text_of(response)


def test_the_two_new_passwords_must_match(as_ana: Web, session: Session) -> None:
    response = change(as_ana, confirm_password=NEW + "!")
    assert response.status_code == 422
    assert "The two new passwords differ" in text_of(response)
    assert "password_changed" not in actions(session)


def test_an_existing_weak_password_works_until_changed(app: Flask, ana: Staff) -> None:
    with get_db(app).session() as session:
        user = session.get(User, ana.id)
        assert user is not None
        user.password_hash = generate_password_hash("          ", method="pbkdf2:sha256:1")
        session.commit()
    web = Web(app.test_client())
    assert web.login(ana.email, "          ").status_code == 302
    assert change(web, current="          ").status_code == 302
    assert Web(app.test_client()).login(ana.email, NEW).status_code == 302


def test_a_change_ends_open_resets(as_ana: Web, ana: Staff, session: Session) -> None:
    session.add(
        PasswordReset(
            user_id=ana.id,
            kind=ResetKind.LINK,
            secret_hash="0" * 64,
            expires_at=utcnow() + LINK_LIFETIME,
        )
    )
    session.commit()
    assert change(as_ana).status_code == 302
    session.expire_all()
    reset = session.scalars(select(PasswordReset)).one()
    assert reset.ended_at is not None


def test_the_message_says_the_api_tokens_still_work(
    app: Flask, ana: Staff, ben: Staff, session: Session
) -> None:
    as_ana, as_ben = signed_in(app, ana), signed_in(app, ben)
    assert TOKENS_NOTE not in text_of(_changed(as_ana))  # none: nothing to say
    made = {
        staff.id: [
            accounts.issue_token(session, session.get_one(User, staff.id), name)[0]
            for name in names
        ]
        for staff, names in ((ben, ["sync", "export", "gone"]), (ana, ["sync"]))
    }
    accounts.revoke_token_by_id(session, made[ana.id][0].id)  # Ana's only token: revoked
    session.commit()
    assert TOKENS_NOTE not in text_of(_changed(as_ana, NEW, NEW + " too"))
    assert (
        "Password changed. Your other sessions are signed out. Your 3 API tokens still work"
        " (tokens are not revoked with the password); revoke any you no longer trust below."
    ) in text_of(_changed(as_ben))
    for row in made[ben.id][:2]:
        accounts.revoke_token_by_id(session, row.id)
    session.commit()
    page = text_of(_changed(as_ben, NEW, NEW + " too"))
    assert "Your API token still works (tokens are not revoked with the password)" in page


def _changed(web: Web, current: str = PASSWORD, new: str = NEW) -> TestResponse:
    """Change the password; the account page the change leads to."""
    assert change(web, current=current, new=new).status_code == 302
    return web.get("/account")


def test_the_change_needs_a_session_and_the_form_token(web: Web, as_ana: Web) -> None:
    anonymous = web.post("/account/password", {"current_password": PASSWORD, "new_password": NEW})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    forged = as_ana.http.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": NEW}
    )
    assert forged.status_code == 400
