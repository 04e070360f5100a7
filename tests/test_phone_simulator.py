"""The phone simulator page: only while simulating, behind sign-in, same handling as Twilio's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import phone_simulator as simulator
from service.models import Alert, InboundMessage, User
from tests import factories
from tests.dashboard.conftest import Web, make_staff, now, signed_in, text_of

TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "4" * 32,
    "TWILIO_AUTH_TOKEN": "t",
    "TWILIO_FROM_NUMBER": "+16175550100",
}


def _checked_in(session: Session, therapist_id: int, name: str = "Sam Lee") -> str:
    """A client of ``therapist_id`` sent a check-in an hour ago; the client's phone."""
    client, contact = factories.client_with_phone(session, name, therapist_id=therapist_id)
    factories.sent(
        session,
        client,
        contact,
        kind="checkin",
        sent_at=now() - timedelta(hours=1),
        body="How is your pain today, 0 to 10?",
    )
    session.commit()
    return contact.phone


def test_it_lists_the_phones_and_shows_what_one_received(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    phone = _checked_in(session, ana.id)
    web = signed_in(app, ana)
    assert f'value="{phone}"' in web.get("/simulator/").get_data(as_text=True)
    assert "Sam Lee · (617) 555-0123" in text_of(web.get("/simulator/"))  # as people write it
    page = web.get("/simulator/", phone=phone)
    assert page.status_code == 200
    assert "How is your pain today, 0 to 10?" in text_of(page)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script>" not in page.get_data(as_text=True)  # no inline script


def test_a_reply_goes_through_the_inbound_handling_into_the_inbox(
    app: Flask, session: Session
) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    phone = _checked_in(session, ana.id)
    web = signed_in(app, ana)
    response = web.post("/simulator/reply", {"phone": phone, "body": "9"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/simulator/?phone=")
    [reply] = session.scalars(select(InboundMessage))
    assert (reply.from_phone, reply.intent, reply.pain_score) == (phone, "pain", 9)
    assert reply.provider_sid.startswith("SMsim")
    [alert] = session.scalars(select(Alert))
    assert alert.kind == "pain"
    assert "Pain alert" in text_of(web.get("/"))
    screen = text_of(web.get("/simulator/screen", phone=phone))
    assert "9" in screen and "How is your pain today" in screen
    # The phone's screen: the check-in, the reply, then our answer (same instant as the reply).
    lines = simulator.screen(session, session.get(User, ana.id), phone)  # type: ignore[arg-type]
    assert [(line.sent_by_phone, line.body) for line in lines[:2]] == [
        (False, "How is your pain today, 0 to 10?"),
        (True, "9"),
    ]
    [answer] = lines[2:]
    assert not answer.sent_by_phone and answer.at >= lines[1].at


def test_a_reply_needs_the_csrf_token_and_a_body(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    phone = _checked_in(session, ana.id)
    web = signed_in(app, ana)
    forged = web.http.post("/simulator/reply", data={"phone": phone, "body": "STOP"})
    assert forged.status_code == 400
    empty = web.post("/simulator/reply", {"phone": phone, "body": "  "})
    assert empty.status_code == 422
    assert session.scalars(select(InboundMessage)).all() == []


def test_it_needs_a_sign_in(app: Flask) -> None:
    response = Web(app.test_client()).get("/simulator/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_therapist_cannot_play_another_therapists_client(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    ben = make_staff(app, "ben@practice.test", "Ben Okafor")
    phone = _checked_in(session, ben.id)
    web = signed_in(app, ana)
    assert phone not in text_of(web.get("/simulator/"))
    assert web.get("/simulator/", phone=phone).status_code == 404
    assert web.post("/simulator/reply", {"phone": phone, "body": "9"}).status_code == 404
    assert session.scalars(select(InboundMessage)).all() == []


def test_it_does_not_exist_with_twilio_configured(make_app: Callable[..., Flask]) -> None:
    app = make_app(**TWILIO)
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    web = signed_in(app, boss)
    assert web.get("/simulator/").status_code == 404
    assert web.get("/simulator/screen", phone="+16175550123").status_code == 404
    assert web.post("/simulator/reply", {"phone": "+16175550123", "body": "9"}).status_code == 404
    assert Web(app.test_client()).get("/simulator/").status_code == 404  # anonymous too
    assert "Phone simulator" not in text_of(web.get("/"))


def test_the_dashboard_links_to_it_while_simulating(app: Flask) -> None:
    web = signed_in(app, make_staff(app, "ana@practice.test", "Ana Ruiz"))
    assert 'href="/simulator/"' in web.get("/").get_data(as_text=True)


def test_a_nul_is_refused_like_anywhere_in_the_dashboard(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    phone = _checked_in(session, ana.id)
    web = signed_in(app, ana)
    assert web.get("/simulator/", phone=phone + "\x00").status_code == 400
    assert web.post("/simulator/reply", {"phone": phone, "body": "9\x00"}).status_code == 400
    assert session.scalars(select(InboundMessage)).all() == []


def test_it_does_not_exist_in_production_even_without_twilio(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(TOUCHBASE_ENV="production")
    assert Web(app.test_client()).get("/simulator/").status_code == 404
    assert make_app().test_client().get("/simulator/").status_code == 302  # to the login
