"""Inbox items that close themselves when the situation resolves, and say how."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings
from service.alerts import close_reschedule_requests, raise_alert
from service.config import settings_of
from service.models import Alert
from tests import factories
from tests.test_replies import NOW, PHONE, a_reminder, received


def _open(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Alert.kind).where(Alert.handled_at.is_(None))))


def test_start_closes_the_opt_out_item(app: Flask, session: Session) -> None:
    a_reminder(session)
    received(session, app, "STOP")
    assert _open(session) == ["opt_out"]
    received(session, app, "START")
    assert _open(session) == []
    [item] = session.scalars(select(Alert))
    assert item.closed_note == "client opted in again" and item.handled_by_id is None
    assert item.handled_at is not None


def test_c_after_a_reschedule_request_closes_it(app: Flask, session: Session) -> None:
    a_reminder(session)
    received(session, app, "R")
    assert _open(session) == ["reschedule"]
    received(session, app, "C")
    assert _open(session) == []
    assert session.scalar(select(Alert.closed_note)) == "client confirmed"


def test_booking_or_moving_the_clients_session_closes_the_request(
    app: Flask, session: Session
) -> None:
    appointment = a_reminder(session)
    client = appointment.client
    settings = settings_of(app)
    received(session, app, "R")
    starts = NOW + timedelta(days=3)
    bookings.book_appointment(
        session,
        settings,
        None,
        client,
        starts_at=starts,
        duration=60,
        status="scheduled",
        now=NOW,
        via="test",
    )
    session.commit()
    assert _open(session) == []
    assert session.scalar(select(Alert.closed_note)) == "a session was booked"
    raise_alert(session, "reschedule", NOW, client_id=client.id, phone=PHONE)
    bookings.change_appointment(
        session, settings, None, appointment, NOW, starts_at=starts + timedelta(days=1), via="t"
    )
    session.commit()
    assert _open(session) == []
    notes = set(session.scalars(select(Alert.closed_note)))
    assert notes == {"a session was booked", "session moved"}


def test_a_length_change_or_a_past_session_recorded_leaves_the_request_open(
    app: Flask, session: Session
) -> None:
    appointment = a_reminder(session)
    settings = settings_of(app)
    received(session, app, "R")
    same_time = appointment.starts_at  # the move form sends the time even when unchanged
    bookings.change_appointment(
        session, settings, None, appointment, NOW, starts_at=same_time, duration=90, via="t"
    )
    bookings.book_appointment(
        session,
        settings,
        None,
        appointment.client,
        starts_at=NOW - timedelta(days=2),
        duration=60,
        status="completed",
        now=NOW,
        via="test",
    )
    session.commit()
    assert len(_open(session)) == 1


def test_closing_leaves_other_clients_and_handled_items_alone(session: Session) -> None:
    mine, _ = factories.client_with_phone(session, "Sam Lee")
    other, _ = factories.client_with_phone(session, "Bea Bell", "+16175550177")
    raise_alert(session, "reschedule", NOW, client_id=other.id)
    raise_alert(session, "pain", NOW, client_id=mine.id)
    handled = raise_alert(session, "reschedule", NOW, client_id=mine.id)
    session.flush()
    handled.handled_at, handled.handled_by_id = NOW - timedelta(hours=1), None
    session.commit()
    assert close_reschedule_requests(session, mine.id, "session moved", NOW) == 0
    session.commit()
    assert sorted(_open(session)) == ["pain", "reschedule"]
    session.refresh(handled)
    assert handled.closed_note is None
