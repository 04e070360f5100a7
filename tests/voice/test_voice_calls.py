"""Whole calls: queued in the outbox, placed by the dispatcher through the real twilio SDK on
the local Twilio, whose caller fetches our TwiML over HTTP, presses keys and reports the end,
every request signed; then what the practice sees."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, consent, outbox
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel, MessageKind
from service.models import Alert, Appointment, InboundMessage, OutboundMessage
from service.sms.voice_gateway import TwilioVoiceGateway
from tests.app_server import app_server
from tests.fake_twilio import FakeTwilio
from tests.fake_voice import Answer, Call
from tests.voice.conftest import NOW, PHONE, Arranged, arrange, voice_config
from tests.webhooks.conftest import AUTH_TOKEN, PRACTICE_NUMBER

GREETING = "Hello, this is Bright Path."
QUESTION = (
    "How is your pain today, from 0, no pain, to 10, the worst? Press the number, then the "
    "pound key."
)
AGAIN = "Sorry, we didn't get that."
OFFER = "To stop these calls, press 9."
GOODBYE = "Goodbye."


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio("AC" + "1" * 32, AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    # No PUBLIC_BASE_URL: signatures are checked against the URL the caller reached.
    return make_app(**voice_config(PUBLIC_BASE_URL=""))


@pytest.fixture
def place(app: Flask, fake: FakeTwilio) -> Iterator[Callable[[int], Call]]:
    """Place the queued call ``message_id`` with the dispatcher; the finished call."""
    with app_server(app) as public_url:
        calls = TwilioVoiceGateway(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number=PRACTICE_NUMBER,
            public_base_url=public_url,
            api_base_url=fake.base_url,
            timeout=2,
        )
        gateways = {Channel.VOICE: calls, Channel.SMS: fake.gateway()}
        dispatcher = Dispatcher(
            get_db(app), settings_of(app), gateways, now=lambda: NOW, rng=random.Random(7)
        )

        def placed(message_id: int) -> Call:
            assert dispatcher.run()["sent"] == 1
            [call] = fake.voice.wait_for_calls(1)
            assert call.errors == [] and call.form["Url"].endswith(f"/voice/call/{message_id}")
            return call

        yield placed
        calls.close()
        gateways[Channel.SMS].close()  # type: ignore[attr-defined]


def queue_call(session: Session, people: Arranged, kind: MessageKind) -> int:
    """A reminder or check-in call, due now, queued as the planner queues one."""
    appointment = people.ahead if kind == MessageKind.REMINDER else people.past
    draft = outbox.Draft(
        idempotency_key=f"test:voice:{kind}",
        kind=kind,
        to_phone=PHONE,
        body=f"a {kind} call",
        send_at=NOW - timedelta(minutes=1),
        client_id=people.client.id,
        contact_id=people.contact.id,
        appointment_id=appointment.id,
        planned_start=appointment.starts_at,
        channel=Channel.VOICE,
    )
    [message_id] = outbox.enqueue(session, [draft], datetime.now(UTC))
    session.commit()
    return message_id


def replies_of(session: Session) -> list[tuple[str, str, str | None, int | None]]:
    session.expire_all()
    rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id))
    return [(r.channel, r.body, r.intent, r.pain_score) for r in rows]


def alert_kinds(session: Session) -> list[str]:
    return [a.kind for a in session.scalars(select(Alert).order_by(Alert.id))]


def message_status(session: Session, message_id: int) -> str:
    session.expire_all()
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    return row.status


def no_texts_sent(fake: FakeTwilio) -> bool:
    return fake.sent == []


@pytest.mark.parametrize(
    ("keys", "heard", "stored", "alerted"),
    [
        (
            ("10#",),
            [GREETING, QUESTION, "You pressed 10. Thank you.", OFFER, GOODBYE],
            [("voice", "10", "pain", 10)],
            ["pain"],
        ),
        (  # no #: the Gather's timeout ends the entry
            ("7",),
            [GREETING, QUESTION, "You pressed 7. Thank you.", OFFER, GOODBYE],
            [("voice", "7", "pain", 7)],
            [],
        ),
        (
            ("99", "4#"),
            [GREETING, QUESTION, AGAIN, QUESTION, "You pressed 4. Thank you.", OFFER, GOODBYE],
            [("voice", "99", "other", None), ("voice", "4", "pain", 4)],
            [],
        ),
        (  # nobody presses anything, twice: the stop is offered, then goodbye
            (),
            [GREETING, QUESTION, AGAIN, QUESTION, AGAIN, OFFER, GOODBYE],
            [],
            [],
        ),
    ],
)
def test_a_check_in_call_takes_the_score_by_keypad(
    session: Session,
    fake: FakeTwilio,
    place: Callable[[int], Call],
    keys: tuple[str, ...],
    heard: list[str],
    stored: list[tuple[str, str, str | None, int | None]],
    alerted: list[str],
) -> None:
    people = arrange(session)
    message_id = queue_call(session, people, MessageKind.CHECKIN)
    fake.voice.script_for(PHONE, Answer("human", keys=keys))
    call = place(message_id)
    assert call.texts == heard
    assert {(s.voice, s.language) for s in call.said} == {("Polly.Joanna", "en-US")}
    assert replies_of(session) == stored
    assert alert_kinds(session) == alerted
    assert message_status(session, message_id) == "delivered"
    assert [h.status for h in call.hits if h.kind != "status"] == [200] * (len(call.hits) - 1)
    assert call.callbacks[0].status == 204
    assert no_texts_sent(fake)


def test_nine_at_the_stop_offer_stops_calls_but_not_texts(
    session: Session, fake: FakeTwilio, place: Callable[[int], Call]
) -> None:
    people = arrange(session)
    message_id = queue_call(session, people, MessageKind.CHECKIN)
    fake.voice.script_for(PHONE, Answer("human", keys=("", "", "9")))
    call = place(message_id)
    assert call.texts[-2:] == [
        "Bright Path will not call this number again. This does not stop text messages.",
        GOODBYE,
    ]
    session.expire_all()
    assert not call_consent.may_call_number(session, PHONE)
    assert not consent.is_opted_out(session, PHONE)
    assert replies_of(session) == [("voice", "9", "other", None)]
    assert no_texts_sent(fake)


@pytest.mark.parametrize(
    ("key", "said", "status", "alerted"),
    [
        ("1", "Thank you. The appointment is confirmed.", "confirmed", []),
        (
            "2",
            "Thank you. Bright Path will call you back to find another time.",
            "scheduled",
            ["reschedule"],
        ),
    ],
)
def test_a_reminder_call_is_answered_with_one_key(
    session: Session,
    fake: FakeTwilio,
    place: Callable[[int], Call],
    key: str,
    said: str,
    status: str,
    alerted: list[str],
) -> None:
    people = arrange(session)
    message_id = queue_call(session, people, MessageKind.REMINDER)
    fake.voice.script_for(PHONE, Answer("human", keys=(key,)))
    call = place(message_id)
    assert call.texts[0].startswith("Hello, this is Bright Path with a reminder of your")
    assert call.texts[2:] == [said, GOODBYE]
    appointment = session.get(Appointment, people.ahead.id, populate_existing=True)
    assert appointment is not None and appointment.status == status
    assert alert_kinds(session) == alerted
    assert message_status(session, message_id) == "delivered"
    assert no_texts_sent(fake)


@pytest.mark.parametrize(
    ("kind", "heard", "status"),
    [
        (
            MessageKind.REMINDER,
            [
                "This is Bright Path calling about an appointment. Please call us at "
                "6 1 7, 5 5 5, 0 1 0 0."
            ],
            "delivered",
        ),
        (MessageKind.CHECKIN, [], "undelivered"),
    ],
)
def test_an_answering_machine_gets_the_short_message_or_nothing(
    session: Session,
    fake: FakeTwilio,
    place: Callable[[int], Call],
    kind: MessageKind,
    heard: list[str],
    status: str,
) -> None:
    people = arrange(session)
    message_id = queue_call(session, people, kind)
    fake.voice.script_for(PHONE, Answer("machine_end_beep"))
    call = place(message_id)
    assert call.texts == heard and call.digits == []
    assert message_status(session, message_id) == status
    assert replies_of(session) == [] and alert_kinds(session) == []


def test_a_busy_line_is_recorded_and_raises_nothing(
    session: Session, fake: FakeTwilio, place: Callable[[int], Call]
) -> None:
    people = arrange(session)
    message_id = queue_call(session, people, MessageKind.CHECKIN)
    fake.voice.script_for(PHONE, Answer("busy"))
    call = place(message_id)
    assert call.said == [] and call.callbacks[0].status == 204
    assert message_status(session, message_id) == "undelivered"
    assert alert_kinds(session) == []
