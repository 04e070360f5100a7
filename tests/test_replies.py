"""Replies in the service layer: stored once per sid, read against what they answer, acted
on, and their acknowledgement kept in the outbox (answered at once, or queued when late)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import replies
from service.config import settings_of
from service.models import Alert, Appointment, AuditEntry, InboundMessage, OutboundMessage
from tests import factories

NOW = datetime.now(UTC)
PHONE = "+16175550123"


def inbound(sid: str, body: str, sender: str = PHONE) -> replies.Inbound:
    return replies.Inbound(sid, sender, "+16175550100", body, 0, {"MessageSid": sid})


def received(session: Session, app: Flask, body: str, *, late: bool = False) -> str | None:
    """Store a text from PHONE and process it, as the webhook (or the clock, late) does."""
    stored = replies.store(
        session.connection(), inbound(f"SM{body.encode().hex()[:30]}", body), NOW
    )
    assert stored is not None
    answer = replies.process(session, settings_of(app), stored, NOW, late=late)
    session.commit()
    return answer


def a_reminder(session: Session) -> Appointment:
    client, contact = factories.client_with_phone(session, phone=PHONE)
    appointment = factories.appointment(session, client, NOW + timedelta(hours=20))
    factories.sent(
        session,
        client,
        contact,
        kind="reminder",
        sent_at=NOW - timedelta(hours=1),
        appointment_id=appointment.id,
    )
    session.commit()
    return appointment


def test_a_text_is_stored_once_per_sid(session: Session) -> None:
    first = replies.store(session.connection(), inbound("SM1", "7"), NOW)
    again = replies.store(session.connection(), inbound("SM1", "7 again"), NOW)
    session.commit()
    assert first is not None and again is None
    assert session.scalars(select(InboundMessage.body)).all() == ["7"]


def test_c_confirms_through_the_schedules_one_write_path(app: Flask, session: Session) -> None:
    appointment = a_reminder(session)
    assert received(session, app, "C") == "Thanks, you're confirmed."
    session.expire_all()
    assert session.get(Appointment, appointment.id).status == "confirmed"  # type: ignore[union-attr]
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.entity == "appointment"))
    assert (entry.action, entry.user_id) == ("status", None)
    assert entry.detail["via"] == "reply" and entry.detail["after"] == "confirmed"


@pytest.mark.parametrize(
    ("late", "status", "sent"), [(False, "sent", True), (True, "planned", False)]
)
def test_the_acknowledgement_is_answered_at_once_or_queued_when_late(
    app: Flask, session: Session, late: bool, status: str, sent: bool
) -> None:
    a_reminder(session)
    answer = received(session, app, "R", late=late)
    assert (answer is None) is late  # late: no webhook to answer in; the dispatcher sends it
    [ack] = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "reply"))
    assert (ack.status, ack.sent_at is not None, ack.to_phone) == (status, sent, PHONE)
    assert session.scalars(select(Alert.kind)).all() == ["reschedule"]


def test_a_reply_processed_twice_acts_once(app: Flask, session: Session) -> None:
    a_reminder(session)
    stored = replies.store(session.connection(), inbound("SMtwice", "R"), NOW)
    session.commit()
    assert stored is not None
    for _ in range(2):
        replies.process(session, settings_of(app), stored, NOW)
        session.commit()
    assert session.scalars(select(Alert.kind)).all() == ["reschedule"]
    assert (
        len(session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "reply")).all())
        == 1
    )


def test_unprocessed_replies_are_found_for_the_clock(session: Session) -> None:
    old = replies.store(session.connection(), inbound("SMold", "7"), NOW - timedelta(minutes=5))
    replies.store(session.connection(), inbound("SMnew", "7"), NOW)
    session.commit()
    assert replies.unprocessed(session, NOW - timedelta(minutes=1)) == [old]
