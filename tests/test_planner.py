"""The database side of planning: big ticks, and ticks that find nothing new."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from service import planner
from service.config import settings_of
from service.models import Appointment, AppointmentSeries, Contact, OutboundMessage
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York


def test_one_replan_can_insert_more_texts_than_one_statement_can_carry(
    app: Flask, session: Session
) -> None:
    # 1,900 sessions x (1 reminder + 2 check-ins) x 12 columns is over 65,535 bind
    # parameters (PostgreSQL's limit) and over SQLite's 32,766: one VALUES clause fails.
    client, _ = factories.client_with_phone(session)
    starts = [NOW + timedelta(days=1, hours=3 * i) for i in range(1900)]
    session.execute(
        insert(Appointment),
        [
            {"client_id": client.id, "starts_at": at, "ends_at": at + timedelta(hours=1)}
            for at in starts
        ],
    )
    counts = planner.replan_client(session, settings_of(app), client.id, NOW)
    session.commit()
    assert counts.planned == 1900 * 3
    total = session.scalar(select(func.count(OutboundMessage.id)))
    assert total == 1900 * 3


def test_the_next_tick_materializes_only_the_new_stretch_of_the_horizon(
    app: Flask, session: Session
) -> None:
    settings = settings_of(app)
    client, _ = factories.client_with_phone(session)
    series = AppointmentSeries(
        client_id=client.id,
        rrule="FREQ=DAILY",
        starts_local=datetime(2027, 3, 4, 9, 0),
        timezone="America/New_York",
        duration_minutes=60,
        created_at=NOW,
    )
    session.add(series)
    session.commit()
    first = planner.plan_horizon(session, settings, NOW)
    session.commit()
    assert first.materialized == settings.planning_horizon_days
    # An occurrence removed on purpose inside the planned stretch stays removed...
    gone = session.scalar(select(Appointment).order_by(Appointment.starts_at).limit(1))
    assert gone is not None
    session.delete(gone)
    session.commit()
    again = planner.plan_horizon(session, settings, NOW + timedelta(minutes=5))
    session.commit()
    assert (again.materialized, again.planned) == (0, 0)
    # ...and a day later exactly one new day has come into the horizon.
    later = planner.plan_horizon(session, settings, NOW + timedelta(days=1))
    session.commit()
    assert later.materialized == 1


def test_a_tick_replans_the_clients_that_grew_and_everyone_only_when_asked(
    make_app: Callable[..., Flask], session: Session
) -> None:
    app = make_app()
    client, _ = factories.client_with_phone(session)
    visit = factories.appointment(session, client, NOW + timedelta(days=3))
    session.commit()
    planner.replan_client(session, settings_of(app), client.id, NOW)
    session.commit()

    def reminder_at() -> datetime:
        session.expire_all()
        found = session.scalar(
            select(OutboundMessage.send_at).where(
                OutboundMessage.appointment_id == visit.id,
                OutboundMessage.kind == "reminder",
                OutboundMessage.status == "planned",
            )
        )
        assert found is not None
        return found

    assert reminder_at() == visit.starts_at - timedelta(hours=24)
    # The operator now asks for reminders 48 h ahead (a deploy with a new setting).
    changed = settings_of(make_app(REMINDER_OFFSETS="48h"))
    quiet = planner.plan_horizon(session, changed, NOW + timedelta(minutes=5))
    session.commit()
    assert (quiet.planned, quiet.updated, reminder_at()) == (
        0,
        0,
        visit.starts_at - timedelta(hours=24),
    )  # nothing grew: nobody re-planned
    full = planner.plan_horizon(session, changed, NOW + timedelta(minutes=10), everyone=True)
    session.commit()
    assert full.planned == 1  # the new 48 h reminder; the 24 h one is cancelled
    assert full.cancelled == 1
    assert reminder_at() == visit.starts_at - timedelta(hours=48)


def test_one_phone_caring_for_two_clients_gets_texts_that_each_name_their_client(
    app: Flask, session: Session
) -> None:
    mom = "+16175550177"
    kids = [
        factories.client_with_phone(session, name, phone)[0]
        for name, phone in (("Maria Diaz", "+16175550001"), ("Sam Diaz", "+16175550002"))
    ]
    for kid in kids:
        kid.contacts.append(Contact(name="Rosa Diaz", relation="mother", phone=mom, checkins=True))
        factories.appointment(session, kid, NOW + timedelta(days=2))
    session.flush()
    for kid in kids:
        planner.replan_client(session, settings_of(app), kid.id, NOW)
    session.commit()
    bodies = session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.to_phone == mom)
    ).all()
    assert {b.split(".")[0] for b in bodies if "reminder" in b} == {
        "Hi Rosa, a reminder of Maria's appointment at Bright Path on Fri Mar 5, 11:00 AM",
        "Hi Rosa, a reminder of Sam's appointment at Bright Path on Fri Mar 5, 11:00 AM",
    }
    assert {b for b in bodies if "pain" in b} == {
        "Hi Rosa, Bright Path checking in. How is Maria's pain today, from 0 (none) to 10 "
        "(worst)? Reply with one number.",
        "Hi Rosa, Bright Path checking in. How is Sam's pain today, from 0 (none) to 10 "
        "(worst)? Reply with one number.",
    }
