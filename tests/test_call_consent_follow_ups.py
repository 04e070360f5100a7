"""Calls withdrawn or stopped call off, at once, the calls planned to follow other messages:
the call after an unanswered text and a call made again after a busy line are skipped
with the dispatcher's reason, never placed, and the texts to the number go on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, outbox, redial, roster, voice_fallback
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain import follow_up_calls
from service.domain.vocabulary import Channel, MessageKind
from service.models import Appointment, Contact, OutboundMessage
from service.sms.gateway import SimulatorGateway
from service.sms.voice_gateway import SimulatedVoiceGateway
from tests import factories
from tests.voice.conftest import PHONE, Twilio, call_sid, voice_config

SENT = datetime(2027, 3, 5, 16, 0, tzinfo=UTC)  # Friday 11:00 in New York
START = SENT + timedelta(hours=24)
DUE = SENT + timedelta(hours=4)  # the fallback call: 15:00 in New York
LATER = DUE + timedelta(hours=1)  # both follow-ups and the text are due by then
QUIET = (time(21, 0), time(8, 0))


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app that knows its Twilio auth token, so the signed key presses are taken."""
    return make_app(**voice_config())


@dataclass
class Planned:
    """What is planned to the number: a fallback call, a redial and a text."""

    placed: int  # the call that found the line busy, and where keys are pressed
    fallback: int
    redial: int
    text: int


def _arrange(app: Flask, session: Session) -> Planned:
    """A contact on texts then a call, with a reminder text left unanswered (its call
    planned), a reminder call that found the line busy (its redial planned) and a text
    planned to the same number."""
    settings = settings_of(app)
    client, own = factories.client_with_phone(session, "Sam Lee", PHONE)
    change = {"channel": "sms_then_voice", "voice_consent": True}
    roster.update_contact(session, settings, None, own, change, SENT, via="test")
    appointment = factories.appointment(session, client, START)
    text = _delivered_reminder(session, own, appointment)
    placed = _placed_call(session, own, appointment)
    session.commit()
    assert voice_fallback.run(session, settings, DUE).queued == 1
    redialled = redial.plan_retry(session, placed, "busy", SENT, SENT, quiet=QUIET)
    assert redialled is not None
    planned_text = factories.message(session, client, own, send_at=DUE, body="see you soon")
    session.commit()
    key = follow_up_calls.fallback_key(text.id)
    fallback = session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    assert fallback is not None and fallback.status == "planned"
    assert _row(session, redialled).status == "planned"
    return Planned(placed, fallback.id, redialled, planned_text.id)


def _delivered_reminder(
    session: Session, contact: Contact, appointment: Appointment
) -> OutboundMessage:
    row = factories.message(
        session,
        contact.client,
        contact,
        send_at=SENT,
        kind="reminder",
        key=f"reminder:{appointment.id}:{contact.id}:test",
        appointment_id=appointment.id,
        planned_start=START,
    )
    row.status, row.sent_at, row.provider_sid = "delivered", SENT, f"SMout{row.id}"
    return row


def _placed_call(session: Session, contact: Contact, appointment: Appointment) -> int:
    draft = outbox.Draft(
        idempotency_key=f"reminder:{appointment.id}:{contact.id}:test:voice",
        kind=MessageKind.REMINDER,
        to_phone=PHONE,
        body="words",
        send_at=SENT,
        client_id=contact.client_id,
        contact_id=contact.id,
        appointment_id=appointment.id,
        planned_start=START,
        channel=Channel.VOICE,
    )
    call_id = outbox.enqueue_one(session, draft, SENT)
    assert call_id is not None
    row = _row(session, call_id)
    row.status, row.sent_at, row.provider_sid = "sent", SENT, call_sid()
    return call_id


def _row(session: Session, message_id: int) -> OutboundMessage:
    session.expire_all()
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    return row


def _dispatch(app: Flask) -> SimulatedVoiceGateway:
    """Run the dispatcher once everything planned is due; the calls' gateway."""
    calls = SimulatedVoiceGateway()
    gateways = {Channel.SMS: SimulatorGateway(), Channel.VOICE: calls}
    Dispatcher(get_db(app), settings_of(app), gateways, now=lambda: LATER).run()  # type: ignore[arg-type]
    return calls


def _called_off(app: Flask, session: Session, planned: Planned, reason: str) -> None:
    """Both follow-ups skipped with ``reason`` and never placed; the text sent."""
    for call in (planned.fallback, planned.redial):
        assert (_row(session, call).status, _row(session, call).error_message) == (
            "skipped",
            reason,
        )
    assert _row(session, planned.text).status == "planned"  # texts are not stopped
    calls = _dispatch(app)
    # The simulator stamps what it places with the real clock, well before SENT.
    assert calls.find_sent(PHONE, datetime(2000, 1, 1, tzinfo=UTC)) == []
    for call in (planned.fallback, planned.redial):
        assert _row(session, call).status == "skipped"
    assert _row(session, planned.text).status in ("sent", "delivered")
    # Nothing makes them again: their keys are taken.
    assert voice_fallback.run(session, settings_of(app), LATER).queued == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (call_consent.withdraw_consent, "calls not agreed"),
        (call_consent.stop_calls, "calls stopped"),
    ],
)
def test_withdrawing_or_stopping_calls_skips_the_follow_up_calls_at_once(
    app: Flask, session: Session, change: Callable[..., object], reason: str
) -> None:
    planned = _arrange(app, session)
    change(session, None, PHONE, SENT + timedelta(hours=2), via="test", settings=settings_of(app))
    session.commit()
    _called_off(app, session, planned, reason)


def test_nine_pressed_at_the_stop_offer_skips_the_follow_up_calls(
    app: Flask, session: Session
) -> None:
    planned = _arrange(app, session)
    pressed = Twilio(app.test_client(), call_sid()).keys(planned.placed, "stop_offer", "9")
    assert pressed.status_code == 200
    _called_off(app, session, planned, "calls stopped")


def test_another_numbers_follow_up_calls_are_left_alone(app: Flask, session: Session) -> None:
    planned = _arrange(app, session)
    other = "+16175550999"
    call_consent.record_consent(session, None, other, SENT, via="test")
    call_consent.withdraw_consent(session, None, other, SENT, via="test")
    session.commit()
    for call in (planned.fallback, planned.redial):
        assert _row(session, call).status == "planned"
