"""The database side of planning: big ticks, and ticks that find nothing new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from service import schedule
from service.config import settings_of
from service.models import Appointment, AppointmentSeries, OutboundMessage
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
    counts = schedule.replan_client(session, settings_of(app), client.id, NOW)
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
    first = schedule.plan_horizon(session, settings, NOW)
    session.commit()
    assert first.materialized == settings.planning_horizon_days
    # An occurrence removed on purpose inside the planned stretch stays removed...
    gone = session.scalar(select(Appointment).order_by(Appointment.starts_at).limit(1))
    assert gone is not None
    session.delete(gone)
    session.commit()
    again = schedule.plan_horizon(session, settings, NOW + timedelta(minutes=5))
    session.commit()
    assert (again.materialized, again.planned) == (0, 0)
    # ...and a day later exactly one new day has come into the horizon.
    later = schedule.plan_horizon(session, settings, NOW + timedelta(days=1))
    session.commit()
    assert later.materialized == 1
