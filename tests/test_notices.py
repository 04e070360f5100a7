"""Notices of a moved or cancelled session: queued once per person who gets reminders,
sent once however often the dispatcher runs, held past quiet hours, dropped when untrue."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings, replies
from service import notices as notices_module
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel, MessageKind
from service.models import Appointment, Contact, OutboundMessage
from tests import factories
from tests.fake_twilio import FakeTwilio

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
START = datetime(2027, 3, 5, 15, 0, tzinfo=UTC)  # Friday 10:00
NEW = datetime(2027, 3, 5, 17, 0, tzinfo=UTC)  # Friday 12:00
NOTICES = (MessageKind.MOVE_NOTICE, MessageKind.CANCEL_NOTICE)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
def dispatcher(app: Flask, fake: FakeTwilio, clock: list[datetime]) -> Iterator[Dispatcher]:
    gateway = fake.gateway()
    yield Dispatcher(
        get_db(app),
        settings_of(app),
        {Channel.SMS: gateway},
        now=lambda: clock[0],
        rng=random.Random(7),
    )
    gateway.close()


def booked(session: Session, *, reminders_to_caregiver: bool = True) -> Appointment:
    """Sam's Friday session; Sam and a caregiver get reminders (the caregiver when asked)."""
    client, _ = factories.client_with_phone(session)
    caregiver = Contact(
        name="Rosa Lee",
        relation="parent",
        phone="+16175550177",
        reminders=reminders_to_caregiver,
        checkins=False,
    )
    client.contacts.append(caregiver)
    appointment = factories.appointment(session, client, START)
    session.commit()
    return appointment


def change(
    app: Flask, session: Session, appointment: Appointment, at: datetime, **how: object
) -> None:
    locked = bookings.lock_appointment(session, appointment.id)
    assert locked is not None
    bookings.change_appointment(
        session,
        settings_of(app),
        None,
        locked,
        at,
        via="test",
        **how,  # type: ignore[arg-type]
    )
    session.commit()


def notices(session: Session) -> list[OutboundMessage]:
    session.expire_all()
    query = select(OutboundMessage).where(OutboundMessage.kind.in_(NOTICES))
    return list(session.scalars(query.order_by(OutboundMessage.id)))


def test_a_move_with_notify_is_sent_once_to_each_person_however_often_the_dispatcher_runs(
    app: Flask, session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    appointment = booked(session)
    change(app, session, appointment, NOW, starts_at=NEW, notify=True)
    assert dispatcher.run()["sent"] == 2
    assert dispatcher.run()["sent"] == 0
    sent = [m for m in fake.sent if "is now" in m["Body"]]
    assert sorted(m["To"] for m in sent) == ["+16175550123", "+16175550177"]
    assert {m["To"]: m["Body"] for m in sent} == {
        "+16175550123": "Your appointment at Bright Path is now Fri Mar 5, 12:00 PM "
        "(was Fri Mar 5, 10:00 AM). Reply C to confirm.",
        # The caregiver is greeted and told whose session it is.
        "+16175550177": "Hi Rosa, Sam's appointment at Bright Path is now Fri Mar 5, 12:00 PM "
        "(was Fri Mar 5, 10:00 AM). Reply C to confirm.",
    }
    assert {n.status for n in notices(session)} == {"sent"}


def test_a_caregivers_cancellation_notice_names_the_client(app: Flask, session: Session) -> None:
    appointment = booked(session)
    appointment.client.language = "es"
    session.commit()
    change(app, session, appointment, NOW, status="cancelled", notify=True)
    own, caregiver = notices(session)
    assert own.body.startswith("Su cita en Bright Path del vie 5 mar, 10:00 queda cancelada.")
    assert (caregiver.to_phone, caregiver.body) == (
        "+16175550177",
        "Hola Rosa, la cita de Sam en Bright Path del vie 5 mar, 10:00 queda cancelada. "
        "Responda R y le buscamos otra fecha, o llame al (617) 555-0100.",
    )
    # One key per contact per change, as before.
    assert len({n.idempotency_key for n in (own, caregiver)}) == 2


def test_without_notify_nobody_is_told(app: Flask, session: Session) -> None:
    appointment = booked(session)
    change(app, session, appointment, NOW, starts_at=NEW)
    change(app, session, appointment, NOW, status="cancelled")
    assert notices(session) == []


def test_only_contacts_who_get_reminders_are_told_of_a_cancellation(
    app: Flask, session: Session
) -> None:
    appointment = booked(session, reminders_to_caregiver=False)
    change(app, session, appointment, NOW, status="cancelled", notify=True)
    [notice] = notices(session)
    assert (notice.kind, notice.to_phone, notice.send_at) == ("cancel_notice", "+16175550123", NOW)
    assert notice.body == (
        "Your appointment at Bright Path on Fri Mar 5, 10:00 AM is cancelled. "
        "Reply R and we'll find a new time, or call (617) 555-0100."
    )


def test_a_notice_queued_in_quiet_hours_waits_for_the_morning(
    app: Flask, session: Session, dispatcher: Dispatcher, fake: FakeTwilio, clock: list[datetime]
) -> None:
    night = datetime(2027, 3, 4, 3, 0, tzinfo=UTC)  # Wednesday 22:00 in New York
    appointment = booked(session, reminders_to_caregiver=False)
    change(app, session, appointment, night, starts_at=NEW, notify=True)
    [notice] = notices(session)
    assert notice.send_at == datetime(2027, 3, 4, 13, 0, tzinfo=UTC)  # Thursday 8:00
    clock[0] = night
    dispatcher.run()
    assert not [m for m in fake.sent if "is now" in m["Body"]]
    clock[0] = notice.send_at
    dispatcher.run()
    assert len([m for m in fake.sent if "is now" in m["Body"]]) == 1


def test_a_notice_made_untrue_by_a_later_change_never_leaves(
    app: Flask, session: Session, dispatcher: Dispatcher, fake: FakeTwilio, clock: list[datetime]
) -> None:
    night = datetime(2027, 3, 4, 3, 0, tzinfo=UTC)
    appointment = booked(session, reminders_to_caregiver=False)
    change(app, session, appointment, night, starts_at=NEW, notify=True)
    later = NEW + timedelta(hours=1)
    change(app, session, appointment, night, starts_at=later, notify=True)
    clock[0] = datetime(2027, 3, 4, 13, 0, tzinfo=UTC)
    dispatcher.run()
    first, second = notices(session)
    assert (first.status, first.error_message) == ("cancelled", "appointment moved again")
    assert second.status == "sent"
    [told] = [m for m in fake.sent if "is now" in m["Body"]]
    # The client never heard of 12:00 (its notice never left): the notice names 10:00.
    assert "is now Fri Mar 5, 1:00 PM (was Fri Mar 5, 10:00 AM)" in told["Body"]


def test_a_move_back_before_its_notice_left_tells_nothing(
    app: Flask, session: Session, dispatcher: Dispatcher, fake: FakeTwilio, clock: list[datetime]
) -> None:
    night = datetime(2027, 3, 4, 3, 0, tzinfo=UTC)
    appointment = booked(session, reminders_to_caregiver=False)
    change(app, session, appointment, night, starts_at=NEW, notify=True)
    change(app, session, appointment, night, starts_at=START, notify=True)
    clock[0] = datetime(2027, 3, 4, 13, 0, tzinfo=UTC)
    dispatcher.run()
    [first] = notices(session)
    assert first.status == "cancelled"
    assert not [m for m in fake.sent if "is now" in m["Body"]]


def test_a_cancellation_names_the_time_the_client_knows(app: Flask, session: Session) -> None:
    night = datetime(2027, 3, 4, 3, 0, tzinfo=UTC)
    appointment = booked(session, reminders_to_caregiver=False)
    change(app, session, appointment, night, starts_at=NEW, notify=True)
    change(app, session, appointment, night, status="cancelled", notify=True)
    _, cancel = notices(session)
    assert "on Fri Mar 5, 10:00 AM is cancelled" in cancel.body


@pytest.mark.parametrize(
    ("kind", "caregiver", "reply", "confirmed"),
    [
        ("move_notice", False, "C", True),
        ("cancel_notice", False, "C", False),
        ("move_notice", True, "C", True),
        ("move_notice", True, "reaction", True),  # Liked "Hi Rosa, Sam's appointment ..."
        ("cancel_notice", True, "reaction", False),
    ],
)
def test_c_or_a_like_after_a_move_notice_confirms_the_new_time(
    app: Flask, session: Session, kind: str, caregiver: bool, reply: str, confirmed: bool
) -> None:
    now = datetime.now(UTC)
    client, contact = factories.client_with_phone(session)
    if caregiver:
        contact = Contact(name="Rosa Lee", relation="parent", phone="+16175550177")
        client.contacts.append(contact)
    appointment = factories.appointment(session, client, now + timedelta(days=2))
    session.flush()
    start, settings = appointment.starts_at, settings_of(app)
    if kind == "move_notice":
        old = start - timedelta(hours=1)
        body = notices_module.move_written(settings, client, start, old, contact)[0]
    else:
        body = notices_module.cancel_written(settings, client, start, contact)[0]
    factories.sent(
        session,
        client,
        contact,
        kind=kind,
        sent_at=now - timedelta(minutes=5),
        appointment_id=appointment.id,
        body=body,
    )
    session.commit()
    said = "C" if reply == "C" else f"Liked \u201c{body}\u201d"
    stored = replies.store(
        session.connection(),
        replies.Inbound("SM" + "c" * 32, contact.phone, "+16175550100", said, 0, {}),
        now,
    )
    assert stored is not None
    answer = replies.process(session, settings, stored, now)
    session.commit()
    session.expire_all()
    status = session.get(Appointment, appointment.id).status  # type: ignore[union-attr]
    assert status == ("confirmed" if confirmed else "scheduled")
    if confirmed:  # to a caregiver, the answer says whose session it was
        thanks = (
            "Thanks, Sam's appointment is confirmed." if caregiver else "Thanks, you're confirmed."
        )
        assert answer == thanks


def test_a_waiting_notice_skips_a_contact_who_stopped_getting_reminders(
    app: Flask, session: Session, dispatcher: Dispatcher, fake: FakeTwilio, clock: list[datetime]
) -> None:
    night = datetime(2027, 3, 4, 3, 0, tzinfo=UTC)
    appointment = booked(session)
    change(app, session, appointment, night, starts_at=NEW, notify=True)
    rosa = session.scalars(select(Contact).where(Contact.name == "Rosa Lee")).one()
    rosa.reminders = False
    session.commit()
    clock[0] = datetime(2027, 3, 4, 13, 0, tzinfo=UTC)
    dispatcher.run()
    told = sorted(m["To"] for m in fake.sent if "is now" in m["Body"])
    assert told == ["+16175550123"]
    statuses = {n.to_phone: (n.status, n.error_message) for n in notices(session)}
    assert statuses["+16175550177"] == ("cancelled", "contact removed or changed")
