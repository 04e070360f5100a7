"""A score sent after a reminder still answers the day-before check-in that went first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Alert, Appointment, InboundMessage, OutboundMessage
from tests import factories
from tests.webhooks.conftest import Twilio, reply_text

PHONE = "+16175550123"
NOW = datetime.now(UTC)


def last_reply(session: Session) -> InboundMessage:
    session.expire_all()
    row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert row is not None
    return row


def status(session: Session, appointment: Appointment) -> str:
    session.expire_all()
    row = session.get(Appointment, appointment.id)
    assert row is not None
    return row.status


def checkin_then_reminder(
    session: Session, *, checkin_ago: timedelta = timedelta(hours=5)
) -> tuple[Appointment, Appointment, OutboundMessage, OutboundMessage]:
    """The day-before check-in at 13:00, then the 24 h reminder at 17:00 (issue 14)."""
    client, contact = factories.client_with_phone(session, phone=PHONE)
    last = factories.appointment(session, client, NOW - timedelta(days=6), status="completed")
    upcoming = factories.appointment(session, client, NOW + timedelta(hours=23))
    checkin = factories.sent(
        session, client, contact, kind="checkin", sent_at=NOW - checkin_ago, appointment_id=last.id
    )
    reminder = factories.sent(
        session,
        client,
        contact,
        kind="reminder",
        sent_at=NOW - timedelta(hours=1),
        appointment_id=upcoming.id,
    )
    session.commit()
    return last, upcoming, checkin, reminder


@pytest.mark.parametrize(("body", "score"), [("6", 6), ("6/10", 6), ("six", 6), ("seis", 6)])
def test_a_score_after_the_reminder_is_the_open_checkins_score(
    twilio: Twilio, session: Session, body: str, score: int
) -> None:
    last, upcoming, checkin, _ = checkin_then_reminder(session)
    assert reply_text(twilio.text(PHONE, body)) == "Thanks, we've noted it."
    row = last_reply(session)
    assert (row.intent, row.pain_score) == ("pain", score)
    assert (row.answers_message_id, row.appointment_id) == (checkin.id, last.id)
    assert status(session, upcoming) == "scheduled"


@pytest.mark.parametrize("body", ["C 6", "6 C", "c, 6"])
def test_c_and_a_score_confirm_the_reminder_and_record_the_score(
    twilio: Twilio, session: Session, body: str
) -> None:
    last, upcoming, checkin, _ = checkin_then_reminder(session)
    assert reply_text(twilio.text(PHONE, body)) == "Thanks, you're confirmed."
    row = last_reply(session)
    assert (row.intent, row.pain_score) == ("pain", 6)
    assert (row.answers_message_id, row.appointment_id) == (checkin.id, last.id)
    assert status(session, upcoming) == "confirmed"


def test_a_plain_c_still_only_confirms(twilio: Twilio, session: Session) -> None:
    _, upcoming, _, reminder = checkin_then_reminder(session)
    assert reply_text(twilio.text(PHONE, "C")) == "Thanks, you're confirmed."
    row = last_reply(session)
    assert (row.intent, row.pain_score) == ("confirm", None)
    assert (row.answers_message_id, row.appointment_id) == (reminder.id, upcoming.id)
    assert status(session, upcoming) == "confirmed"


def test_a_high_score_after_the_reminder_alerts(twilio: Twilio, session: Session) -> None:
    checkin_then_reminder(session)
    twilio.text(PHONE, "9")
    session.expire_all()
    assert [a.kind for a in session.scalars(select(Alert))] == ["pain"]


def _goes_as_today(twilio: Twilio, session: Session, reminder: OutboundMessage) -> None:
    """A bare number after a reminder, with no check-in open: read as "other", as before."""
    assert reply_text(twilio.text(PHONE, "6")) == "Thanks, we got your message."
    row = last_reply(session)
    assert (row.intent, row.pain_score) == ("other", None)
    assert (row.answers_message_id, row.appointment_id) == (reminder.id, reminder.appointment_id)


def test_a_number_with_no_checkin_sent_goes_as_today(twilio: Twilio, session: Session) -> None:
    client, contact = factories.client_with_phone(session, phone=PHONE)
    upcoming = factories.appointment(session, client, NOW + timedelta(hours=23))
    reminder = factories.sent(
        session,
        client,
        contact,
        kind="reminder",
        sent_at=NOW - timedelta(hours=1),
        appointment_id=upcoming.id,
    )
    session.commit()
    _goes_as_today(twilio, session, reminder)


def test_a_checkin_past_its_answer_window_is_not_open(twilio: Twilio, session: Session) -> None:
    _, _, _, reminder = checkin_then_reminder(session, checkin_ago=timedelta(hours=30))
    _goes_as_today(twilio, session, reminder)


def test_a_checkin_already_scored_is_not_open(twilio: Twilio, session: Session) -> None:
    client, contact = factories.client_with_phone(session, phone=PHONE)
    last = factories.appointment(session, client, NOW - timedelta(days=6), status="completed")
    upcoming = factories.appointment(session, client, NOW + timedelta(hours=23))
    factories.sent(
        session,
        client,
        contact,
        kind="checkin",
        sent_at=NOW - timedelta(hours=5),
        appointment_id=last.id,
    )
    session.commit()
    assert reply_text(twilio.text(PHONE, "5")) == "Thanks, we've noted it."
    reminder = factories.sent(
        session,
        client,
        contact,
        kind="reminder",
        sent_at=NOW - timedelta(minutes=30),
        appointment_id=upcoming.id,
    )
    session.commit()
    _goes_as_today(twilio, session, reminder)
