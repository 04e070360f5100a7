"""The one call after an unanswered text to a contact on texts then a call: made once (by
any number of clocks), inside call hours, only to a number that may get calls, never after
a reply, and never for a reminder whose session has begun."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, consent, roster, voice_fallback
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain import provider_errors
from service.domain.vocabulary import Channel
from service.models import Appointment, Contact, InboundMessage, OutboundMessage
from service.sms.voice_gateway import SimulatedVoiceGateway
from tests import factories

SENT = datetime(2027, 3, 5, 16, 0, tzinfo=UTC)  # Friday 11:00 in New York
START = SENT + timedelta(hours=24)
DUE = SENT + timedelta(hours=4)  # 15:00 in New York: call hours
SAM = "+16175550123"


def _sam(app: Flask, session: Session, channel: str = "sms_then_voice") -> Contact:
    _, own = factories.client_with_phone(session, "Sam Lee", SAM)
    change = {"channel": channel, "voice_consent": True}
    roster.update_contact(session, settings_of(app), None, own, change, SENT, via="test")
    return own


def _text(
    session: Session,
    contact: Contact,
    *,
    kind: str = "reminder",
    sent_at: datetime = SENT,
    start: datetime = START,
) -> OutboundMessage:
    """A reminder (or check-in) text of a session at ``start``, sent at ``sent_at``."""
    appointment = session.scalar(select(Appointment).where(Appointment.starts_at == start))
    if appointment is None:
        appointment = factories.appointment(session, contact.client, start)
    row = factories.message(
        session,
        contact.client,
        contact,
        send_at=sent_at,
        kind=kind,
        key=f"{kind}:{appointment.id}:{contact.id}:{sent_at.timestamp()}",
        appointment_id=appointment.id,
        planned_start=start,
    )
    row.status, row.sent_at, row.provider_sid = "delivered", sent_at, f"SMout{row.id}"
    session.commit()
    return row


def _calls(session: Session) -> list[OutboundMessage]:
    session.expire_all()
    query = select(OutboundMessage).where(OutboundMessage.channel == "voice")
    return list(session.scalars(query.order_by(OutboundMessage.id)))


def _run(app: Flask, session: Session, now: datetime) -> voice_fallback.FallbackCounts:
    counts = voice_fallback.run(session, settings_of(app), now)
    session.commit()
    return counts


def test_an_unanswered_text_is_followed_by_one_call_once_it_is_due(
    app: Flask, session: Session
) -> None:
    text = _text(session, _sam(app, session))
    assert _run(app, session, DUE - timedelta(minutes=1)).queued == 0
    assert _run(app, session, DUE).queued == 1
    assert _run(app, session, DUE + timedelta(minutes=1)).queued == 0
    [call] = _calls(session)
    assert call.idempotency_key == f"call-after-text:{text.id}"
    assert (call.kind, call.status, call.send_at, call.to_phone) == (
        "reminder",
        "planned",
        DUE,
        SAM,
    )
    assert (call.appointment_id, call.contact_id, call.planned_start) == (
        text.appointment_id,
        text.contact_id,
        START,
    )
    # The dispatcher places it as it would the reminder itself.
    dispatcher = Dispatcher(
        get_db(app), settings_of(app), {Channel.VOICE: SimulatedVoiceGateway()}, now=lambda: DUE
    )
    assert dispatcher.run()["sent"] == 1


def test_several_clocks_at_once_make_one_call(app: Flask, session: Session) -> None:
    _text(session, _sam(app, session))
    db, settings = get_db(app), settings_of(app)
    queued: list[int] = []
    gate = threading.Barrier(3)

    def clock() -> None:
        with db.session() as own:
            gate.wait()
            queued.append(voice_fallback.run(own, settings, DUE).queued)
            own.commit()

    clocks = [threading.Thread(target=clock) for _ in range(3)]
    for each in clocks:
        each.start()
    for each in clocks:
        each.join(timeout=30)
    assert sorted(queued) == [0, 0, 1]
    assert len(_calls(session)) == 1


def _reply(session: Session, at: datetime, sid: str = "SMin1") -> None:
    session.add(InboundMessage(provider_sid=sid, from_phone=SAM, body="ok", received_at=at))
    session.commit()


def test_a_reply_before_the_call_is_due_means_no_call(app: Flask, session: Session) -> None:
    _text(session, _sam(app, session))
    _reply(session, SENT + timedelta(hours=3))
    assert _run(app, session, DUE).queued == 0
    assert _calls(session) == []


def test_a_reply_after_the_call_was_queued_calls_it_off(app: Flask, session: Session) -> None:
    _text(session, _sam(app, session))
    assert _run(app, session, DUE).queued == 1
    _reply(session, DUE + timedelta(seconds=5))
    assert _run(app, session, DUE + timedelta(seconds=10)).called_off == 1
    [call] = _calls(session)
    assert (call.status, call.error_message) == ("cancelled", "answered by a reply")


def test_a_reply_to_an_earlier_text_does_not_count(app: Flask, session: Session) -> None:
    _text(session, _sam(app, session))
    _reply(session, SENT - timedelta(minutes=1))
    assert _run(app, session, DUE).queued == 1


@pytest.mark.parametrize("change", [call_consent.withdraw_consent, call_consent.stop_calls])
def test_no_call_to_a_number_that_may_not_get_calls(
    app: Flask, session: Session, change: Callable[..., object]
) -> None:
    _text(session, _sam(app, session))
    change(session, None, SAM, SENT + timedelta(hours=1), via="test")
    session.commit()
    assert _run(app, session, DUE).queued == 0


@pytest.mark.parametrize(("code", "queued"), [(21211, 0), (30006, 1)])
def test_no_call_to_a_number_found_invalid_but_a_landline_is_called(
    app: Flask, session: Session, code: int, queued: int
) -> None:
    _text(session, _sam(app, session))
    consent.mark_invalid(session, SAM, provider_errors.explain(code), SENT + timedelta(hours=1))
    session.commit()
    assert _run(app, session, DUE).queued == queued


def test_no_call_once_calls_are_stopped_after_being_agreed_again(
    app: Flask, session: Session
) -> None:
    _text(session, _sam(app, session))
    call_consent.record_consent(session, None, SAM, SENT + timedelta(hours=1), via="test")
    call_consent.stop_calls(session, None, SAM, SENT + timedelta(hours=2), via="keypad")
    session.commit()
    assert _run(app, session, DUE).queued == 0
    assert _calls(session) == []


def test_no_call_for_a_contact_on_texts_only(app: Flask, session: Session) -> None:
    _text(session, _sam(app, session, "sms"))
    assert _run(app, session, DUE).queued == 0


def test_no_call_for_a_reminder_whose_session_began(app: Flask, session: Session) -> None:
    # Sent three hours before its session: four hours later the session has begun.
    _text(session, _sam(app, session), start=SENT + timedelta(hours=3))
    assert _run(app, session, DUE).queued == 0
    assert _run(app, session, DUE + timedelta(days=1)).queued == 0


def test_no_call_for_a_cancelled_or_moved_session(app: Flask, session: Session) -> None:
    contact = _sam(app, session)
    text = _text(session, contact)
    appointment = session.get(Appointment, text.appointment_id)
    assert appointment is not None
    appointment.status = "cancelled"
    session.commit()
    assert _run(app, session, DUE).queued == 0
    appointment.status, appointment.starts_at = "scheduled", START + timedelta(hours=1)
    appointment.ends_at = appointment.starts_at + timedelta(hours=1)
    session.commit()
    assert _run(app, session, DUE).queued == 0


def test_a_check_in_sent_late_in_the_day_is_called_the_next_morning(
    app: Flask, session: Session
) -> None:
    evening = datetime(2027, 3, 6, 0, 30, tzinfo=UTC)  # Friday 19:30 in New York
    morning = datetime(2027, 3, 6, 14, 0, tzinfo=UTC)  # Saturday 9:00
    _text(session, _sam(app, session), kind="checkin", sent_at=evening, start=SENT)
    assert _run(app, session, evening + timedelta(hours=4)).queued == 0  # 23:30: no calls
    assert _run(app, session, morning - timedelta(minutes=1)).queued == 0
    assert _run(app, session, morning).queued == 1
    [call] = _calls(session)
    assert (call.kind, call.send_at) == ("checkin", morning)
