"""Reset codes by text: sent at once through Twilio, 10 minutes and 5 tries, limited per
email, and the same answers whether or not the email has an account."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import reset_codes
from service.account_models import PasswordReset
from service.domain.vocabulary import ResetKind
from service.models import AuditEntry, OutboundMessage, User
from tests.dashboard.conftest import PASSWORD, Staff, Web, signed_in, text_of
from tests.fake_twilio import FakeTwilio, Reply

MOBILE = "+16175550123"
NEW = "a brand new pass phrase"
SENT = "If that account has a mobile number, we have texted it a code."
FORMAT = "The code is the 6 digits in the text."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def texting_app(make_app: Callable[..., Flask], fake: FakeTwilio) -> Flask:
    """An app texting through the local Twilio ``fake`` (emptied first)."""
    fake.reset()
    return make_app(
        TWILIO_ACCOUNT_SID=fake.account_sid,
        TWILIO_AUTH_TOKEN=fake.auth_token,
        TWILIO_FROM_NUMBER="+16175550100",
        TWILIO_API_BASE_URL=fake.base_url,
    )


def give_mobile(session: Session, staff: Staff) -> Staff:
    """``staff``, with their own mobile number set (committed)."""
    user = session.get(User, staff.id)
    assert user is not None
    user.phone = MOBILE
    session.commit()
    return staff


@pytest.fixture
def app(make_app: Callable[..., Flask], fake: FakeTwilio) -> Flask:
    """The app, texting through the local Twilio."""
    return texting_app(make_app, fake)


@pytest.fixture
def mobile_ana(ana: Staff, session: Session) -> Staff:
    """Ana, with her own mobile number set."""
    return give_mobile(session, ana)


def ask(web: Web, email: str) -> str:
    """Ask for a code; the text of the page the visitor lands on."""
    response = web.post("/login/forgot", {"email": email})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/forgot/code"
    return text_of(web.get("/login/forgot/code"))


def texted_code(fake: FakeTwilio) -> str:
    found = re.search(r"\b(\d{6})\b", fake.sent[-1]["Body"])
    assert found is not None
    return found.group(1)


def enter(web: Web, email: str, code: str, password: str = NEW) -> str:
    return web.post("/login/forgot/code", {"email": email, "code": code, "new_password": password})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_text_goes_once_the_page_is_answered_so_its_time_tells_nothing(
    mobile_ana: Staff, web: Web, fake: FakeTwilio
) -> None:
    data = {"csrf_token": web.token(), "email": mobile_ana.email}
    response = web.http.post("/login/forgot", data=data)  # answered, not yet closed
    assert response.status_code == 302 and fake.sent == []
    response.close()  # what a server does once the answer is written
    assert len(fake.sent) == 1 and fake.sent[0]["To"] == MOBILE


def test_the_sign_in_page_links_to_the_forgotten_password_page(web: Web) -> None:
    page = web.get("/login").get_data(as_text=True)
    assert 'href="/login/forgot"' in page and "Forgot your password?" in page


def test_a_code_is_texted_at_once_and_sets_a_new_password(
    app: Flask, mobile_ana: Staff, web: Web, fake: FakeTwilio, session: Session
) -> None:
    elsewhere = signed_in(app, mobile_ana)
    assert SENT in ask(web, "ANA@practice.test")
    [text] = fake.sent
    code = texted_code(fake)
    assert text["To"] == MOBILE
    assert text["Body"] == (
        f"TouchBase: your sign-in reset code is {code}. It expires in 10 minutes."
        " If you did not ask, ignore this text."
    )
    assert session.scalars(select(OutboundMessage)).all() == []  # not the client outbox
    reset = session.scalars(select(PasswordReset)).one()
    assert reset.kind == ResetKind.CODE and code not in reset.secret_hash
    response = enter(web, mobile_ana.email, code)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Password changed; sign in with it." in text_of(web.get("/login"))
    assert web.get("/account").status_code == 302  # not signed in by the reset
    assert elsewhere.get("/account").status_code == 302  # every session ended
    assert Web(app.test_client()).login(mobile_ana.email, NEW).status_code == 302
    assert Web(app.test_client()).login(mobile_ana.email, PASSWORD).status_code == 200
    session.expire_all()
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries if e.action.startswith("password_reset")] == [
        reset_codes.REQUESTED,
        reset_codes.FROM_ADDRESS,
        "password_reset",
    ]
    assert all(code not in str(e.detail) for e in entries)
    assert enter(web, mobile_ana.email, code).status_code == 422  # used: dead


@pytest.mark.parametrize("case", ["unknown", "no mobile", "deactivated"])
def test_the_page_says_the_same_when_no_text_goes(
    ana: Staff, mobile_ana: Staff, web: Web, fake: FakeTwilio, session: Session, case: str
) -> None:
    email = "nobody@practice.test" if case == "unknown" else ana.email
    user = session.get(User, ana.id)
    assert user is not None
    if case == "no mobile":
        user.phone = None
    if case == "deactivated":
        user.active = False
    session.commit()
    assert SENT in ask(web, email)
    assert fake.sent == []
    entry, counted = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert (counted.action, counted.entity_id) == (reset_codes.FROM_ADDRESS, "127.0.0.1")
    assert (entry.action, entry.detail["outcome"]) == (
        reset_codes.REQUESTED,
        case.replace("unknown", "no account"),
    )


def test_letters_or_seven_digits_get_a_clear_message_without_using_a_try(
    mobile_ana: Staff, web: Web, fake: FakeTwilio
) -> None:
    ask(web, mobile_ana.email)
    for typed in ["12a456", "1234567", "12345", "abcdef", "", "9" * 5000]:
        response = enter(web, mobile_ana.email, typed)
        assert response.status_code == 422 and FORMAT in text_of(response)
    assert "4 tries left" in text_of(enter(web, mobile_ana.email, wrong(texted_code(fake))))
    assert enter(web, mobile_ana.email, " ".join(texted_code(fake))).status_code == 302


def messages_for(web: Web, email: str, code: str) -> list[str]:
    """The messages six wrong codes and then ``code`` get, in order."""
    found = []
    for _ in range(reset_codes.MAX_TRIES + 1):
        page = text_of(enter(web, email, wrong(code)))
        found.append(re.search(r"That code [^.]*\.( [^.]*\.)?", page).group(0))  # type: ignore[union-attr]
    page = text_of(enter(web, email, code))
    found.append(re.search(r"That code [^.]*\.( [^.]*\.)?", page).group(0))  # type: ignore[union-attr]
    return found


def test_five_wrong_codes_end_it_and_an_unknown_email_answers_alike(
    app: Flask, mobile_ana: Staff, web: Web, fake: FakeTwilio
) -> None:
    ask(web, mobile_ana.email)
    code = texted_code(fake)
    real = messages_for(web, mobile_ana.email, code)
    assert real == [
        "That code is not right. 4 tries left.",
        "That code is not right. 3 tries left.",
        "That code is not right. 2 tries left.",
        "That code is not right. 1 try left.",
        "That code is not right, and that was its last try. Ask for a new code.",
        "That code has expired, was used, or was tried too many times. Ask for a new code.",
        "That code has expired, was used, or was tried too many times. Ask for a new code.",
    ]
    stranger = Web(app.test_client())
    ask(stranger, "nobody@practice.test")
    assert messages_for(stranger, "nobody@practice.test", code) == real


def test_a_code_expires_after_10_minutes(mobile_ana: Staff, web: Web, fake: FakeTwilio) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        ask(web, mobile_ana.email)
    code = texted_code(fake)
    with time_machine.travel(start + timedelta(minutes=10, seconds=1), tick=False):
        response = enter(web, mobile_ana.email, code)
        assert response.status_code == 422
        assert "That code has expired, was used, or was tried too many times." in text_of(response)
    with time_machine.travel(start + timedelta(minutes=9, seconds=59), tick=False):
        assert enter(web, mobile_ana.email, code).status_code == 302


def test_codes_cannot_be_asked_for_too_often(
    mobile_ana: Staff, web: Web, fake: FakeTwilio, session: Session
) -> None:
    start = datetime.now(UTC)
    for email in (mobile_ana.email, "nobody@practice.test"):
        pages = []
        for seconds in (0, 30, 61, 122, 183, 244, 305, 3599, 3601):
            with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
                pages.append(ask(web, email))
        assert [SENT in p for p in pages] == [
            True,
            False,
            True,
            True,
            True,
            True,
            False,
            False,
            True,
        ]
        assert "Wait a minute before asking again." in pages[1]
        assert "5 codes were asked for in the last hour." in pages[6]
    assert len(fake.sent) == 6
    assert (
        len(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == reset_codes.TOO_SOON)
            ).all()
        )
        == 6
    )


def test_a_new_code_ends_the_old_one_and_a_link_ends_a_code(
    as_boss: Web, mobile_ana: Staff, web: Web, fake: FakeTwilio
) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        ask(web, mobile_ana.email)
    first = texted_code(fake)
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        ask(web, mobile_ana.email)
        second = texted_code(fake)
        if first != second:
            assert "not right" in text_of(enter(web, mobile_ana.email, first))
        as_boss.post(f"/admin/users/{mobile_ana.id}/reset-link")
        # The right code of a reset that ended: told so, with no try used up.
        assert reset_codes.dead_message() in text_of(enter(web, mobile_ana.email, second))


def test_asking_for_a_code_leaves_the_admins_link_working(
    as_boss: Web, mobile_ana: Staff, web: Web, fake: FakeTwilio, session: Session
) -> None:
    issued = as_boss.post(f"/admin/users/{mobile_ana.id}/reset-link").get_data(as_text=True)
    found = re.search(r"http://localhost(/reset/[A-Za-z0-9_-]+)", issued)
    assert found is not None
    link = found.group(1)
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        ask(web, mobile_ana.email)  # anyone who knows the email can do this
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        ask(web, mobile_ana.email)
        second = texted_code(fake)
        session.expire_all()
        kinds = {r.kind: r.ended_at for r in session.scalars(select(PasswordReset))}
        assert kinds[ResetKind.LINK] is None  # the link lives on
        rows = session.scalars(select(PasswordReset).order_by(PasswordReset.id)).all()
        assert [r.ended_at is None for r in rows] == [True, False, True]  # the old code ended
        # The link still sets the password, and that ends the newer code too.
        assert web.get(link).status_code == 200
        response = web.post(link, {"new_password": NEW})
        assert response.status_code == 302
        assert reset_codes.dead_message() in text_of(
            enter(web, mobile_ana.email, second, NEW + " again")
        )


def test_one_address_may_ask_for_20_codes_an_hour_whatever_the_emails(
    mobile_ana: Staff, web: Web, fake: FakeTwilio, session: Session
) -> None:
    start = datetime.now(UTC)

    def ask_from(address: str, email: str) -> str:
        data = {"csrf_token": web.token(), "email": email}
        environ = {"REMOTE_ADDR": address}
        web.http.post("/login/forgot", data=data, environ_base=environ, buffered=True)
        return text_of(web.get("/login/forgot/code"))

    with time_machine.travel(start, tick=False):
        pages = [ask_from("203.0.113.7", f"someone{i}@practice.test") for i in range(20)]
        assert all(SENT in page for page in pages)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        page = ask_from("203.0.113.7", mobile_ana.email)
        assert SENT not in page and fake.sent == []
        assert "20 codes were asked for from this network in the last hour." in page
        assert "Ask again in 50 minutes." in page
        assert SENT in ask_from("198.51.100.4", "someone0@practice.test")  # another address
        assert SENT in ask_from("198.51.100.4", mobile_ana.email) and len(fake.sent) == 1
    with time_machine.travel(start + timedelta(hours=1, seconds=1), tick=False):
        assert SENT in ask_from("203.0.113.7", "someone99@practice.test")
    session.expire_all()
    refused = session.scalars(
        select(AuditEntry).where(AuditEntry.action == reset_codes.TOO_SOON)
    ).all()
    assert [(e.entity_id, e.detail["ip"]) for e in refused] == [(mobile_ana.email, "203.0.113.7")]


def test_a_failed_text_is_logged_masked_and_the_page_says_the_same(
    mobile_ana: Staff,
    web: Web,
    fake: FakeTwilio,
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake.script(Reply(status=400, code=21211))
    assert SENT in ask(web, mobile_ana.email)
    assert fake.sent == []
    assert "reset code text to" in caplog.text and MOBILE not in caplog.text
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [reset_codes.REQUESTED, reset_codes.FROM_ADDRESS, reset_codes.SEND_FAILED]


def test_a_refused_password_keeps_the_code_usable(
    mobile_ana: Staff, web: Web, fake: FakeTwilio
) -> None:
    ask(web, mobile_ana.email)
    code = texted_code(fake)
    for password, reason in [
        ("x" * 5000, "At most 1,000 characters"),
        ("short", "At least 12 characters"),
        ("qwerty123456", "10,000 most common"),
    ]:
        response = enter(web, mobile_ana.email, code, password)
        assert response.status_code == 422 and reason in text_of(response)
    assert enter(web, mobile_ana.email, code).status_code == 302


def test_the_forms_need_their_token_and_an_email(web: Web) -> None:
    assert web.http.post("/login/forgot", data={"email": "a@practice.test"}).status_code == 400
    response = web.post("/login/forgot", {"email": "  "})
    assert response.status_code == 422 and "Enter your email." in text_of(response)
    response = enter(web, "not an email", "123456")
    assert response.status_code == 422 and "Not an email address." in text_of(response)
