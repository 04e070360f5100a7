"""A call made again is for a client we could not reach: once the number has written to us
since the call it follows was placed (a "C" by text after a busy reminder call, a pain
score after a check-in call nobody answered), the call still planned is called off with
the fallback's reason and never rings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from service import redial, voice_fallback
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import Appointment, InboundMessage
from service.sms.gateway import SimulatorGateway
from service.sms.voice_gateway import SimulatedVoiceGateway
from tests import factories
from tests.test_redial import ENDED, SAM, _call, _retry, _row, _sam
from tests.voice.conftest import voice_config
from tests.webhooks.conftest import Twilio

REDIAL_DUE = ENDED + timedelta(minutes=30)  # busy: the next call, 30 minutes later
ANSWERED = "answered by a reply"


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app that knows its Twilio auth token, so the signed texts are taken."""
    return make_app(**voice_config())


def _busy_call(app: Flask, session: Session, kind: str) -> tuple[Appointment, int]:
    """A reminder (or check-in) call to Sam, on calls, placed at ``ENDED`` and found busy;
    its appointment and the call made again, planned."""
    contact, appointment = _sam(app, session)
    if kind == "checkin":  # a check-in asks about a session that has taken place
        appointment.starts_at = ENDED - timedelta(hours=3)
        appointment.ends_at = ENDED - timedelta(hours=2)
        appointment.status = "completed"
        session.commit()
    called = _call(session, contact, appointment, kind)
    retry = _retry(session, called, "busy", ENDED)
    assert retry is not None and _row(session, retry).send_at == REDIAL_DUE
    return appointment, retry


def _text(app: Flask, body: str, at: datetime, sender: str = SAM) -> None:
    """A text from ``sender`` through the SMS webhook, at ``at`` on the clock it reads."""
    with time_machine.travel(at, tick=False):
        answered = Twilio(app.test_client()).text(sender, body)
    assert answered.status_code == 200


def _calls_placed(app: Flask) -> list[str]:
    """Run the clock's fallback job, then the dispatcher, once the redial is due; the
    numbers called."""
    settings, now = settings_of(app), REDIAL_DUE + timedelta(minutes=1)
    with get_db(app).session() as session:
        voice_fallback.run(session, settings, now)
        session.commit()
    calls = SimulatedVoiceGateway()
    gateways = {Channel.SMS: SimulatorGateway(), Channel.VOICE: calls}
    Dispatcher(get_db(app), settings, gateways, now=lambda: now).run()  # type: ignore[arg-type]
    # Each call the gateway placed (``find_sent`` reads records by the wall clock).
    return [record.to for record in calls._sent]


@pytest.mark.parametrize(("kind", "body"), [("reminder", "C"), ("checkin", "4")])
def test_a_call_made_again_is_called_off_by_a_text_after_the_busy_call(
    app: Flask, session: Session, kind: str, body: str
) -> None:
    appointment, retry = _busy_call(app, session, kind)
    _text(app, body, ENDED + timedelta(minutes=10))
    if kind == "reminder":  # the "C" confirmed the session
        session.expire_all()
        assert session.get(Appointment, appointment.id).status == "confirmed"  # type: ignore[union-attr]
    assert _calls_placed(app) == []
    assert (_row(session, retry).status, _row(session, retry).error_message) == (
        "cancelled",
        ANSWERED,
    )


def test_the_clocks_job_calls_it_off_before_it_is_due(app: Flask, session: Session) -> None:
    _, retry = _busy_call(app, session, "reminder")
    _text(app, "R", ENDED + timedelta(minutes=5))
    counts = voice_fallback.run(session, settings_of(app), ENDED + timedelta(minutes=6))
    session.commit()
    assert counts.called_off == 1
    assert _row(session, retry).status == "cancelled"
    # Called off once: the next run finds nothing more to do.
    assert voice_fallback.run(session, settings_of(app), REDIAL_DUE).called_off == 0


def test_a_text_before_the_call_was_placed_does_not_call_it_off(
    app: Flask, session: Session
) -> None:
    # An answer to something earlier: the busy call came after it, and asks what it asks.
    _, retry = _busy_call(app, session, "reminder")
    _text(app, "thanks", ENDED - timedelta(minutes=10))
    assert _calls_placed(app) == [SAM]
    assert _row(session, retry).status in ("sent", "delivered")


def test_another_numbers_text_leaves_it_alone(app: Flask, session: Session) -> None:
    _, retry = _busy_call(app, session, "reminder")
    factories.client_with_phone(session, "Ana Ruiz", "+16175550999")
    session.commit()
    _text(app, "C", ENDED + timedelta(minutes=10), sender="+16175550999")
    assert _calls_placed(app) == [SAM]
    assert _row(session, retry).status in ("sent", "delivered")


def test_keys_pressed_in_a_later_call_count_as_an_answer(app: Flask, session: Session) -> None:
    # A reply is any message from the number: keys pressed are stored as one (voice).
    _, retry = _busy_call(app, session, "checkin")
    session.add(
        InboundMessage(
            provider_sid="CAkeys:score",
            from_phone=SAM,
            to_phone="+16175550100",
            body="5",
            num_media=0,
            fields={},
            received_at=ENDED + timedelta(minutes=20),
            channel="voice",
        )
    )
    session.commit()
    assert redial.call_off_answered(session, REDIAL_DUE) == 1
    session.commit()
    assert (_row(session, retry).status, _row(session, retry).error_message) == (
        "cancelled",
        ANSWERED,
    )


def test_a_reminder_is_not_called_again_for_a_session_already_confirmed(
    app: Flask, session: Session
) -> None:
    contact, appointment = _sam(app, session)
    appointment.status = "confirmed"
    called = _call(session, contact, appointment, "reminder")
    assert _retry(session, called, "busy", ENDED) is None
