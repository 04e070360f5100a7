"""The planner's side of automatic check-ins: the rhythm it reads, keys that stay put, and
a constant number of statements however many clients it plans."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings, planner
from service.config import Settings, settings_of
from service.models import Appointment, Client, OutboundMessage
from tests import factories
from tests.dashboard.conftest import counting

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
D = timedelta(days=1)


@pytest.fixture
def settings(make_app: Callable[..., Flask]) -> Settings:
    """The default check-ins: automatic."""
    found = settings_of(make_app(CHECKIN_OFFSETS=""))
    assert found.checkin_offsets == "auto"
    return found


def asks(session: Session, appointment: Appointment) -> list[tuple[str, str, datetime]]:
    """(role, status, local send time) of the appointment's check-ins."""
    session.expire_all()
    rows = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.appointment_id == appointment.id,
            OutboundMessage.kind == "checkin",
        )
        .order_by(OutboundMessage.send_at)
    )
    return [
        (m.idempotency_key.split(":")[3], m.status, m.send_at.astimezone(NY).replace(tzinfo=None))
        for m in rows
    ]


def weekly_history(session: Session, client: Client, count: int = 4) -> list[Appointment]:
    """One-off sessions a week apart, the last one ending an hour before ``NOW``."""
    last = NOW - timedelta(hours=2)
    return [
        factories.appointment(session, client, last - i * 7 * D, status="completed")
        for i in reversed(range(count))
    ]


def test_a_client_without_a_next_session_is_asked_by_their_usual_gap(
    settings: Settings, session: Session
) -> None:
    client, _ = factories.client_with_phone(session)
    last = weekly_history(session, client)[-1]  # Wednesday 9:00-10:00
    planner.replan_client(session, settings, client.id, NOW)
    session.commit()
    assert asks(session, last) == [
        ("auto-after", "planned", datetime(2027, 3, 4, 10, 0)),
        ("auto-middle", "planned", datetime(2027, 3, 6, 10, 0)),
        ("auto-before", "planned", datetime(2027, 3, 9, 13, 0)),  # 4 h after the reminder
    ]


def test_a_one_off_with_no_history_is_asked_on_days_one_and_three(
    settings: Settings, session: Session
) -> None:
    client, _ = factories.client_with_phone(session)
    visit = factories.appointment(session, client, NOW + D)  # Thursday 11:00-12:00
    planner.replan_client(session, settings, client.id, NOW)
    session.commit()
    assert asks(session, visit) == [
        ("auto-after", "planned", datetime(2027, 3, 5, 12, 0)),
        ("auto-middle", "planned", datetime(2027, 3, 7, 12, 0)),
    ]


def test_a_monthly_series_asks_before_its_next_occurrence_is_even_booked(
    settings: Settings, session: Session
) -> None:
    client, _ = factories.client_with_phone(session)
    bookings.start_series(
        session,
        settings,
        None,
        client,
        starts_local=datetime(2027, 3, 5, 13, 0),
        rrule="FREQ=MONTHLY",
        duration=60,
        ends_at=None,
        now=NOW,
        via="test",
    )
    session.commit()
    first = session.scalars(select(Appointment)).one()  # the next is beyond the horizon
    assert asks(session, first) == [
        ("auto-after", "planned", datetime(2027, 3, 6, 14, 0)),
        ("auto-middle", "planned", datetime(2027, 3, 20, 14, 0)),
        ("auto-before", "planned", datetime(2027, 4, 4, 17, 0)),  # 4 h after the reminder
    ]
    # Once the next occurrence is booked, nothing about these asks changes.
    later = planner.plan_horizon(session, settings, NOW + 25 * D, everyone=True)
    session.commit()
    assert later.materialized == 1
    assert [a[0::2] for a in asks(session, first)][1:] == [
        ("auto-middle", datetime(2027, 3, 20, 14, 0)),
        ("auto-before", datetime(2027, 4, 4, 17, 0)),
    ]


def test_re_planning_churns_nothing_and_a_booking_on_rhythm_moves_nothing(
    settings: Settings, session: Session
) -> None:
    client, _ = factories.client_with_phone(session)
    last = weekly_history(session, client)[-1]
    planner.replan_client(session, settings, client.id, NOW)
    session.commit()
    before = asks(session, last)
    again = planner.plan_horizon(session, settings, NOW + timedelta(hours=3), everyone=True)
    session.commit()
    assert (again.planned, again.updated, again.cancelled) == (0, 0, 0)
    # The client books the next session on their rhythm: the asks stay as they were.
    factories.appointment(session, client, last.starts_at + 7 * D)
    planner.replan_client(session, settings, client.id, NOW + timedelta(hours=4))
    session.commit()
    assert asks(session, last) == before


def test_a_session_booked_sooner_moves_the_planned_asks_under_their_keys_or_drops_them(
    settings: Settings, session: Session
) -> None:
    client, _ = factories.client_with_phone(session)
    last = weekly_history(session, client)[-1]
    planner.replan_client(session, settings, client.id, NOW)
    session.commit()
    factories.appointment(session, client, last.starts_at + 3 * D)  # Saturday 9:00
    counts = planner.replan_client(session, settings, client.id, NOW + timedelta(hours=1))
    session.commit()
    assert counts.cancelled == 1  # three days apart: no middle ask
    assert asks(session, last) == [
        ("auto-after", "planned", datetime(2027, 3, 4, 10, 0)),
        ("auto-before", "planned", datetime(2027, 3, 5, 13, 0)),  # 4 h after the reminder
        ("auto-middle", "cancelled", datetime(2027, 3, 6, 10, 0)),
    ]


def test_planning_costs_the_same_statements_for_few_or_many_clients(
    make_app: Callable[..., Flask], session: Session
) -> None:
    app = make_app(CHECKIN_OFFSETS="")
    settings = settings_of(app)

    made: list[Client] = []

    def statements(clients: int) -> int:
        for _ in range(clients):
            i = len(made)
            client, _ = factories.client_with_phone(session, f"Client {i}", f"+1617555{i:04d}")
            made.append(client)
            weekly_history(session, client, count=6)
        session.commit()
        planner.plan_horizon(session, settings, NOW, everyone=True)
        session.commit()
        with counting(app) as seen:
            planner.plan_horizon(session, settings, NOW + timedelta(hours=1), everyone=True)
        session.commit()
        return len(seen)

    few = statements(2)
    assert statements(20) == few
