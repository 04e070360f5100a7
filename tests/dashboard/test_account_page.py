"""The account page: one's own name and mobile number, and signing out everywhere."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import resets
from service.account_models import PasswordReset
from service.models import User
from tests.dashboard.account_helpers import audits, stored_user
from tests.dashboard.conftest import PASSWORD, Staff, Web, signed_in, text_of

AGAIN = {"current_password": PASSWORD}


def test_the_page_explains_what_the_mobile_number_is_for(as_ana: Web) -> None:
    response = as_ana.get("/account")
    assert response.status_code == 200
    page = text_of(response)
    assert "only to text you a code when you forget your password" in page
    assert "ana@practice.test" in page and "Only an admin can change these" in page
    assert "Sign out everywhere, including here" in page


def test_a_user_sets_their_name_and_mobile_in_e164(
    as_ana: Web, ana: Staff, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    form = {"name": " Ana R. Ruiz ", "phone": "(617) 555-0142", "current_password": PASSWORD}
    response = as_ana.post("/account/profile", form)
    assert response.status_code == 302 and response.location.endswith("/account")
    user = stored_user(session, ana)
    assert (user.name, user.phone) == ("Ana R. Ruiz", "+16175550142")
    page = as_ana.get("/account").get_data(as_text=True)
    assert "Your profile is saved." in page and 'value="(617) 555-0142"' in page
    [entry] = audits(session, "profile_changed")
    assert (entry.user_id, entry.entity, entry.entity_id) == (ana.id, "user", str(ana.id))
    assert entry.detail == {"fields": ["name", "phone"]}
    for text in (repr(entry.detail), caplog.text):
        assert "5550142" not in text and "555-0142" not in text


def test_an_empty_mobile_clears_it_and_an_unchanged_form_records_nothing(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    as_ana.post("/account/profile", {"name": "Ana Ruiz", "phone": "+16175550142", **AGAIN})
    as_ana.post("/account/profile", {"name": "Ana Ruiz", "phone": "+1 617 555 0142"})
    assert len(audits(session, "profile_changed")) == 1  # the second changed nothing
    as_ana.post("/account/profile", {"name": "Ana Ruiz", "phone": "  ", **AGAIN})
    assert stored_user(session, ana).phone is None
    assert [e.detail for e in audits(session, "profile_changed")][-1] == {"fields": ["phone"]}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "Ana", "phone": "12"}, "Not a phone number we can text"),
        ({"name": "Ana", "phone": "call me maybe"}, "Not a phone number we can text"),
        ({"name": "Ana", "phone": "9" * 5000}, "At most 40 characters"),
        ({"name": "", "phone": ""}, "Required."),
        ({"name": "x" * 201, "phone": ""}, "At most 200 characters"),
    ],
)
def test_a_bad_profile_is_shown_again_with_the_reason(
    as_ana: Web, ana: Staff, session: Session, form: dict[str, str], message: str
) -> None:
    response = as_ana.post("/account/profile", form)
    assert response.status_code == 422
    assert message in text_of(response)
    user = stored_user(session, ana)
    assert (user.name, user.phone) == ("Ana Ruiz", None)
    assert audits(session, "profile_changed") == []


@pytest.mark.parametrize("typed", [None, "", "not my password", "x" * 5000])
def test_a_new_mobile_number_needs_the_current_password(
    as_ana: Web, ana: Staff, session: Session, typed: str | None
) -> None:
    form = {"name": "Ana Ruiz", "phone": "6175550199"}
    form |= {} if typed is None else {"current_password": typed}
    response = as_ana.post("/account/profile", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "That is not your current password." in text_of(response)
    assert 'href="#f-profile-password"' in page and "not my password" not in page
    assert stored_user(session, ana).phone is None and audits(session, "profile_changed") == []
    # A wrong one counts toward the sign-in throttle, like a failed sign-in.
    assert [e.entity_id for e in audits(session, "login_failed")] == [ana.email]
    assert len(audits(session, "phone_change_failed")) == 1


def test_a_name_alone_changes_without_the_password(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    as_ana.post("/account/profile", {"name": "Ana Ruiz", "phone": "6175550142", **AGAIN})
    response = as_ana.post("/account/profile", {"name": "Ana R. Ruiz", "phone": "617-555-0142"})
    assert response.status_code == 302
    user = stored_user(session, ana)
    assert (user.name, user.phone) == ("Ana R. Ruiz", "+16175550142")
    assert audits(session, "login_failed") == []


def test_a_new_mobile_number_ends_the_open_resets(
    app: Flask, as_ana: Web, ana: Staff, boss: Staff, session: Session
) -> None:
    user, admin = session.get_one(User, ana.id), session.get_one(User, boss.id)
    token = resets.issue_link(session, admin, user)
    session.commit()
    assert Web(app.test_client()).get(f"/reset/{token}").status_code == 200
    as_ana.post("/account/profile", {"name": "Ana Ruiz", "phone": "6175550199", **AGAIN})
    assert stored_user(session, ana).phone == "+16175550199"
    assert Web(app.test_client()).get(f"/reset/{token}").status_code == 404
    session.expire_all()
    ended = session.scalars(select(PasswordReset.ended_at)).all()
    assert len(ended) == 1 and None not in ended


def test_email_and_role_are_not_self_editable(as_ana: Web, ana: Staff, session: Session) -> None:
    response = as_ana.post(
        "/account/profile",
        {"name": "Ana Ruiz", "phone": "", "email": "boss@practice.test", "role": "admin"},
    )
    assert response.status_code == 302
    user = stored_user(session, ana)
    assert (user.email, user.role) == ("ana@practice.test", "therapist")


def test_signing_out_everywhere_ends_every_session_including_this_one(
    app: Flask, ana: Staff, ben: Staff, session: Session
) -> None:
    here, there, other = signed_in(app, ana), signed_in(app, ana), signed_in(app, ben)
    response = here.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and "/login" in response.location
    assert "signed out everywhere" in text_of(here.http.get("/login"))
    for browser in (here, there):
        assert browser.http.get("/clients").status_code == 302  # to the sign-in page
    assert other.http.get("/clients").status_code == 200  # another account is untouched
    [entry] = audits(session, "signed_out_everywhere")
    assert (entry.user_id, entry.entity_id) == (ana.id, str(ana.id))
    again = signed_in(app, ana)  # signing in again works at once
    assert again.http.get("/account").status_code == 200


def test_the_account_page_needs_a_sign_in(web: Web) -> None:
    assert web.get("/account").status_code == 302
    assert web.post("/account/profile", {"name": "x"}).status_code == 302
    assert web.post("/account/sign-out-everywhere").status_code == 302
