"""The phone simulator's calls: answered in the page, keys taken as Twilio takes them, and
posted to the same webhooks a real call reaches."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service import call_consent, outbox
from service.domain.vocabulary import Channel, MessageKind
from service.models import Appointment, Client, Contact, InboundMessage, OutboundMessage
from service.number_models import PhoneNumber
from service.simulated_calls import Gather, gathered, heard
from tests import factories
from tests.dashboard.conftest import Staff, Web, make_staff, now, signed_in
from tests.dashboard.conftest import text_of as page_text

PHONE = "+16175550123"
CHECKIN = Gather("/voice/keys/5/checkin", finish_on_key="#", num_digits=2, silence="/s")
MENU = Gather("/voice/keys/5/reminder", finish_on_key="", num_digits=1, silence="/s")


@pytest.mark.parametrize(
    ("keys", "gather", "timed_out", "posted"),
    [
        ("7#", CHECKIN, False, ("7", "#")),
        ("7", CHECKIN, False, None),  # still listening
        ("7", CHECKIN, True, ("7", "")),  # let it time out: what was pressed goes
        ("10", CHECKIN, False, ("10", "")),  # numDigits reached, no # needed
        ("99", CHECKIN, False, ("99", "")),
        ("#", CHECKIN, False, ("", "#")),  # only the finish key: nothing to hand on
        ("", CHECKIN, True, ("", "")),  # silence
        ("1", MENU, False, ("1", "")),
        ("#", MENU, False, ("#", "")),  # no finish key: # is a digit like any other
    ],
)
def test_keys_are_handed_on_as_twilio_hands_them_on(
    keys: str, gather: Gather, timed_out: bool, posted: tuple[str, str] | None
) -> None:
    assert gathered(keys, gather, timed_out=timed_out) == posted


def test_a_document_is_heard_up_to_its_question_with_where_silence_leads() -> None:
    twiml = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="x">Hello.</Say>'
        '<Gather action="https://example.test/voice/keys/3/checkin" finishOnKey="#" '
        'numDigits="2"><Say>How is your pain?</Say></Gather>'
        '<Redirect method="POST">https://example.test/voice/silence/3/checkin/1</Redirect>'
        "<Say>never reached</Say></Response>"
    )
    found = heard(twiml)
    assert found.said == ("Hello.", "How is your pain?")
    assert found.gather == Gather(
        "https://example.test/voice/keys/3/checkin",
        "#",
        2,
        "https://example.test/voice/silence/3/checkin/1",
    )
    ended = heard("<Response><Say>Goodbye.</Say><Hangup/><Say>not this</Say></Response>")
    assert ended.said == ("Goodbye.",) and ended.gather is None and not ended.dial
    assert heard("<Response><Dial>+16175550100</Dial></Response>").dial == "+16175550100"


def _call(
    session: Session, therapist: Staff, kind: MessageKind = MessageKind.CHECKIN
) -> tuple[Client, OutboundMessage, Appointment]:
    """A client of ``therapist`` who agreed to calls, with a session just past and one
    ahead, and a call of ``kind`` placed (simulated, so delivered) a minute ago."""
    client, contact = factories.client_with_phone(session, "Sam Lee", PHONE)
    client.therapist_id = therapist.id
    call_consent.record_consent(session, None, PHONE, now() - timedelta(days=1), via="test")
    past = factories.appointment(session, client, now() - timedelta(days=1), status="completed")
    ahead = factories.appointment(session, client, now() + timedelta(days=2))
    about = ahead if kind == MessageKind.REMINDER else past
    return client, _placed(session, client, contact, kind, about), about


def _placed(
    session: Session, client: Client, contact: Contact, kind: str, about: Appointment
) -> OutboundMessage:
    draft = outbox.Draft(
        idempotency_key=f"test:simulated:{kind}:{about.id}",
        kind=kind,
        to_phone=contact.phone,
        body=f"a {kind} call",
        send_at=now() - timedelta(minutes=1),
        client_id=client.id,
        contact_id=contact.id,
        appointment_id=about.id,
        planned_start=about.starts_at,
        channel=Channel.VOICE,
    )
    [message_id] = outbox.enqueue(session, [draft], now())
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    row.status, row.sent_at, row.provider_sid = "delivered", now(), "CAsimulated" + "0" * 23
    session.commit()
    return row


def text_of(page: TestResponse) -> str:
    """The page's words, as a reader sees them (entities decoded)."""
    return html.unescape(page_text(page))


def _press(web: Web, page: TestResponse, message_id: int, key: str | None) -> TestResponse:
    """Press ``key`` on the keypad of ``page`` (None: wait without pressing)."""
    source = page.get_data(as_text=True)
    fields = re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', source)
    form: dict[str, object] = {}
    for name, value in fields:
        if name == "said":
            form.setdefault("said", []).append(html.unescape(value))  # type: ignore[union-attr]
        elif name != "csrf_token":
            form[name] = html.unescape(value)
    form.update({"key": key} if key is not None else {"wait": "1"})
    return web.post(f"/simulator/call/{message_id}/press", form)


def _keys(web: Web, page: TestResponse, message_id: int, keys: str) -> TestResponse:
    for key in keys:
        page = _press(web, page, message_id, key)
        assert page.status_code == 200, page.get_data(as_text=True)
    return page


def test_a_check_in_call_is_answered_with_the_keypad_and_the_score_stored_from_the_call(
    app: Flask, session: Session
) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    client, call, _ = _call(session, ana)
    web = signed_in(app, ana)
    phone = text_of(web.get("/simulator/", phone=PHONE))
    assert "Check-in call from the practice" in phone and "Answer the call" in phone
    page = web.get(f"/simulator/call/{call.id}", phone=PHONE)
    assert page.status_code == 200
    assert "How is your pain today, from 0, no pain, to 10, the worst?" in text_of(page)
    page = _keys(web, page, call.id, "7")
    assert "Pressed so far: 7" in text_of(page)  # the question still listens for a second key
    page = _keys(web, page, call.id, "#")
    assert "You pressed 7. Thank you." in text_of(page)
    assert "To stop these calls, press 9." in text_of(page)
    session.expire_all()
    [reply] = session.scalars(select(InboundMessage)).all()
    assert (reply.channel, reply.body, reply.pain_score, reply.client_id) == (
        "voice",
        "7",
        7,
        client.id,
    )
    assert reply.answers_message_id == call.id and reply.provider_sid.startswith("CAsim")
    assert "Pressed 7" in text_of(web.get("/simulator/", phone=PHONE))
    # Nothing more pressed at the stop offer: the call says goodbye and ends.
    ended = _press(web, page, call.id, None)
    assert "The call has ended." in text_of(ended) and "Goodbye" in text_of(ended)


def test_two_digits_go_at_once_and_a_score_out_of_range_is_asked_again(
    app: Flask, session: Session
) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    _, call, _ = _call(session, ana)
    web = signed_in(app, ana)
    page = _keys(web, web.get(f"/simulator/call/{call.id}", phone=PHONE), call.id, "99")
    assert "Sorry, we didn't get that." in text_of(page)
    page = _keys(web, page, call.id, "10")
    assert "You pressed 10. Thank you." in text_of(page)
    session.expire_all()
    assert sorted(r.body for r in session.scalars(select(InboundMessage))) == ["10", "99"]


def test_silence_asks_again_then_offers_the_stop_and_nine_stops_calls_not_texts(
    app: Flask, session: Session
) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    _, call, _ = _call(session, ana)
    web = signed_in(app, ana)
    page = web.get(f"/simulator/call/{call.id}", phone=PHONE)
    page = _press(web, page, call.id, None)
    assert "Sorry, we didn't get that." in text_of(page) and "Keypad" in page.get_data(as_text=True)
    page = _press(web, page, call.id, None)
    assert "To stop these calls, press 9." in text_of(page)
    page = _keys(web, page, call.id, "9")
    assert "will not call this number again" in text_of(page)
    session.expire_all()
    number = session.get(PhoneNumber, PHONE)
    assert call_consent.stopped_by_caller(number) and not number.opted_out  # type: ignore[union-attr]


def test_a_reminder_call_is_confirmed_with_one_key(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    _, call, ahead = _call(session, ana, MessageKind.REMINDER)
    web = signed_in(app, ana)
    page = web.get(f"/simulator/call/{call.id}", phone=PHONE)
    assert "To confirm, press 1." in text_of(page)
    page = _keys(web, page, call.id, "1")
    assert "The appointment is confirmed." in text_of(page)
    session.expire_all()
    assert session.get(Appointment, ahead.id).status == "confirmed"  # type: ignore[union-attr]


def test_a_call_can_be_played_only_by_whoever_may_see_its_client(
    app: Flask, session: Session
) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    ben = make_staff(app, "ben@practice.test", "Ben Okafor")
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    _, call, _ = _call(session, ana)
    assert signed_in(app, ben).get(f"/simulator/call/{call.id}", phone=PHONE).status_code == 404
    assert signed_in(app, boss).get(f"/simulator/call/{call.id}", phone=PHONE).status_code == 200
    web = signed_in(app, ana)
    assert web.get(f"/simulator/call/{call.id}").status_code == 404  # no phone named
    assert web.get(f"/simulator/call/{call.id}", phone="+16175550999").status_code == 404
    assert web.get(f"/simulator/call/{call.id + 99}", phone=PHONE).status_code == 404


def test_a_text_is_no_call_to_answer(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    client, contact = factories.client_with_phone(session, "Sam Lee", PHONE)
    client.therapist_id = ana.id
    text = factories.sent(session, client, contact, kind="checkin", sent_at=now())
    session.commit()
    web = signed_in(app, ana)
    assert web.get(f"/simulator/call/{text.id}", phone=PHONE).status_code == 404
    assert "Answer the call" not in text_of(web.get("/simulator/", phone=PHONE))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"key": "a"}, "keypad"),
        ({"key": "12"}, "keypad"),
        ({"keys": "7<"}, "keypad"),
        ({"keys": "1" * 20}, "keypad"),
        ({"call_sid": "SMnot-a-call"}, "not one the simulator answered"),
        ({"action": "/voice/keys/{other}/checkin"}, "not a step of this call"),
        ({"action": "/api/v1/clients"}, "not a step of this call"),
        ({"action": "/voice/status"}, "not a step of this call"),
    ],
)
def test_a_tampered_press_is_a_clear_400_and_stores_nothing(
    app: Flask, session: Session, change: dict[str, str], why: str
) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    _, call, _ = _call(session, ana)
    web = signed_in(app, ana)
    page = _keys(web, web.get(f"/simulator/call/{call.id}", phone=PHONE), call.id, "7")
    source = page.get_data(as_text=True)
    for name, value in change.items():
        value = value.format(other=call.id + 1)
        source = re.sub(
            rf'(<input type="hidden" name="{name}" value=")[^"]*(">)',
            rf"\g<1>{value}\g<2>",
            source,
        )
    page.set_data(source)
    key = change.get("key", "#")
    answered = _press(web, page, call.id, key)
    assert answered.status_code == 400
    assert why in text_of(answered)
    assert session.scalars(select(InboundMessage)).all() == []


def test_a_press_needs_the_csrf_token(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    _, call, _ = _call(session, ana)
    web = signed_in(app, ana)
    response = web.http.post(f"/simulator/call/{call.id}/press", data={"phone": PHONE, "key": "7"})
    assert response.status_code in (400, 403)


def test_the_calls_do_not_exist_with_twilio_configured(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        TWILIO_ACCOUNT_SID="AC" + "4" * 32, TWILIO_AUTH_TOKEN="t", TWILIO_FROM_NUMBER="+16175550100"
    )
    assert (
        app.test_client().get("/simulator/call/1", query_string={"phone": PHONE}).status_code == 404
    )


def test_a_call_whose_steps_are_absolute_urls_is_followed_the_same(
    make_app: Callable[..., Flask], session: Session
) -> None:
    app = make_app(PUBLIC_BASE_URL="https://touchbase.example")
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    _, call, _ = _call(session, ana)
    web = signed_in(app, ana)
    page = web.get(f"/simulator/call/{call.id}", phone=PHONE)
    assert 'value="https://touchbase.example/voice/keys/' in page.get_data(as_text=True)
    assert "You pressed 3. Thank you." in text_of(_keys(web, page, call.id, "3#"))


def test_a_number_of_digits_that_is_no_number_is_read_as_none(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    _, call, _ = _call(session, ana)
    web = signed_in(app, ana)
    page = web.get(f"/simulator/call/{call.id}", phone=PHONE)
    page.set_data(
        page.get_data(as_text=True).replace(
            'name="num_digits" value="2"', 'name="num_digits" value="²"'
        )
    )
    pressed = _press(web, page, call.id, "7")
    assert pressed.status_code == 200 and "Pressed so far: 7" in text_of(pressed)
