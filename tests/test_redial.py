"""Calling again after a call ended busy, unanswered or on a machine: at most as the rules
say, once per ended call however many reports arrive, and never when the call is no longer
wanted."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, outbox, redial, roster
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.call_retries import Outcome
from service.domain.vocabulary import Channel, MessageKind
from service.models import Appointment, Contact, OutboundMessage
from service.sms.voice_gateway import SimulatedVoiceGateway
from tests import factories

ENDED = datetime(2027, 3, 5, 16, 0, tzinfo=UTC)  # Friday 11:00 in New York
START = ENDED + timedelta(days=1)
SAM = "+16175550123"
QUIET = (time(21, 0), time(8, 0))


def _sam(app: Flask, session: Session) -> tuple[Contact, Appointment]:
    client, own = factories.client_with_phone(session, "Sam Lee", SAM)
    change = {"channel": "voice", "voice_consent": True}
    roster.update_contact(session, settings_of(app), None, own, change, ENDED, via="test")
    appointment = factories.appointment(session, client, START)
    return own, appointment


def _call(session: Session, contact: Contact, appointment: Appointment, kind: str) -> int:
    """A call of ``kind`` for the appointment, placed at ``ENDED``."""
    draft = outbox.Draft(
        idempotency_key=f"{kind}:{appointment.id}:{contact.id}:test:voice",
        kind=MessageKind(kind),
        to_phone=SAM,
        body="words",
        send_at=ENDED,
        client_id=contact.client_id,
        contact_id=contact.id,
        appointment_id=appointment.id,
        planned_start=appointment.starts_at,
        channel=Channel.VOICE,
    )
    call_id = outbox.enqueue_one(session, draft, ENDED)
    assert call_id is not None
    _placed(session, call_id)
    return call_id


def _placed(session: Session, call_id: int) -> None:
    row = session.get(OutboundMessage, call_id)
    assert row is not None
    row.status, row.sent_at, row.provider_sid = "sent", row.send_at, f"CA{call_id:032d}"
    session.commit()


def _retry(session: Session, call_id: int, outcome: Outcome, ended: datetime) -> int | None:
    retry = redial.plan_retry(session, call_id, outcome, ended, ended, quiet=QUIET)
    session.commit()
    return retry


def _row(session: Session, message_id: int) -> OutboundMessage:
    session.expire_all()
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    return row


@pytest.mark.parametrize("outcome", ["busy", "no_answer"])
def test_a_busy_or_unanswered_call_is_made_again_twice_30_minutes_apart(
    app: Flask, session: Session, outcome: Outcome
) -> None:
    contact, appointment = _sam(app, session)
    call_id, ended = _call(session, contact, appointment, "reminder"), ENDED
    for _ in range(2):
        retry = _retry(session, call_id, outcome, ended)
        assert retry is not None
        row = _row(session, retry)
        assert row.idempotency_key == f"call-again:{call_id}:{outcome}"
        assert (row.send_at, row.channel, row.kind) == (
            ended + timedelta(minutes=30),
            "voice",
            "reminder",
        )
        assert (row.appointment_id, row.contact_id, row.planned_start) == (
            appointment.id,
            contact.id,
            START,
        )
        _placed(session, retry)
        call_id, ended = retry, row.send_at
    assert _retry(session, call_id, outcome, ended) is None  # two retries: that was the last


def test_a_machine_on_a_check_in_is_called_once_more_2_hours_later(
    app: Flask, session: Session
) -> None:
    contact, appointment = _sam(app, session)
    call_id = _call(session, contact, appointment, "checkin")
    retry = _retry(session, call_id, "machine", ENDED)
    assert retry is not None and _row(session, retry).send_at == ENDED + timedelta(hours=2)
    _placed(session, retry)
    assert _retry(session, retry, "machine", ENDED + timedelta(hours=2)) is None


@pytest.mark.parametrize(("kind", "outcome"), [("reminder", "machine"), ("checkin", "answered")])
def test_a_message_left_or_an_answer_ends_the_calls(
    app: Flask, session: Session, kind: str, outcome: Outcome
) -> None:
    contact, appointment = _sam(app, session)
    assert _retry(session, _call(session, contact, appointment, kind), outcome, ENDED) is None


def test_the_outcomes_of_earlier_calls_count_along_the_chain(app: Flask, session: Session) -> None:
    contact, appointment = _sam(app, session)
    first = _call(session, contact, appointment, "checkin")
    second = _retry(session, first, "busy", ENDED)
    assert second is not None
    _placed(session, second)
    third = _retry(session, second, "machine", ENDED + timedelta(hours=1))
    assert third is not None
    _placed(session, third)
    assert redial.earlier_outcomes(session, _row(session, third)) == ["busy", "machine"]
    # One more busy is allowed; a second machine is not.
    assert _retry(session, third, "machine", ENDED + timedelta(hours=4)) is None


def test_two_reports_of_one_call_make_it_again_once(app: Flask, session: Session) -> None:
    contact, appointment = _sam(app, session)
    call_id = _call(session, contact, appointment, "reminder")
    assert _retry(session, call_id, "busy", ENDED) is not None
    assert _retry(session, call_id, "busy", ENDED) is None
    assert _retry(session, call_id, "no_answer", ENDED) is None
    retries = session.scalars(
        select(OutboundMessage).where(OutboundMessage.idempotency_key.startswith("call-again:"))
    ).all()
    assert [r.idempotency_key for r in retries] == [f"call-again:{call_id}:busy"]


def test_reports_at_once_make_it_again_once(app: Flask, session: Session) -> None:
    contact, appointment = _sam(app, session)
    call_id = _call(session, contact, appointment, "reminder")
    db, made = get_db(app), []
    gate = threading.Barrier(3)

    def report(outcome: Outcome) -> None:
        with db.session() as own:
            gate.wait()
            made.append(redial.plan_retry(own, call_id, outcome, ENDED, ENDED, quiet=QUIET))
            own.commit()

    threads = [threading.Thread(target=report, args=(o,)) for o in ("busy", "busy", "no_answer")]
    for each in threads:
        each.start()
    for each in threads:
        each.join(timeout=30)
    assert len(made) == 3 and len([m for m in made if m is not None]) == 1
    count = session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.idempotency_key.startswith("call-again:"))
    ).all()
    assert len(count) == 1


def test_a_retry_waits_for_call_hours(app: Flask, session: Session) -> None:
    contact, appointment = _sam(app, session)
    call_id = _call(session, contact, appointment, "checkin")
    evening = datetime(2027, 3, 6, 0, 45, tzinfo=UTC)  # Friday 19:45 in New York
    retry = _retry(session, call_id, "no_answer", evening)
    assert retry is not None
    assert _row(session, retry).send_at == datetime(2027, 3, 6, 14, 0, tzinfo=UTC)  # 9:00


def test_no_retry_once_calls_are_stopped(app: Flask, session: Session) -> None:
    contact, appointment = _sam(app, session)
    call_id = _call(session, contact, appointment, "reminder")
    call_consent.stop_calls(session, None, SAM, ENDED, via="keypad")
    session.commit()
    assert _retry(session, call_id, "busy", ENDED) is None


def test_no_retry_for_a_cancelled_session_or_past_its_start(app: Flask, session: Session) -> None:
    contact, appointment = _sam(app, session)
    call_id = _call(session, contact, appointment, "reminder")
    assert _retry(session, call_id, "busy", START - timedelta(minutes=20)) is None  # 30 min on
    appointment.status = "cancelled"
    session.commit()
    assert _retry(session, call_id, "busy", ENDED) is None


def test_the_dispatcher_places_the_retry(app: Flask, session: Session) -> None:
    contact, appointment = _sam(app, session)
    retry = _retry(session, _call(session, contact, appointment, "reminder"), "busy", ENDED)
    assert retry is not None
    due = ENDED + timedelta(minutes=30)
    gateways = {Channel.VOICE: SimulatedVoiceGateway()}
    dispatcher = Dispatcher(get_db(app), settings_of(app), gateways, now=lambda: due)  # type: ignore[arg-type]
    assert dispatcher.run()["sent"] == 1
    assert _row(session, retry).status == "delivered"
