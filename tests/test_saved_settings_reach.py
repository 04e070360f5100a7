"""A saved setting reaches the clock's planning and the dispatcher's last check at their
next tick, without a restart."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.clock import PlanState, plan
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import OutboundMessage, PracticeSetting
from service.sms.gateway import SimulatorGateway
from tests import factories

NY = ZoneInfo("America/New_York")
NOON = time(12)


def saved_elsewhere(session: Session, **values: str) -> None:
    """Values saved as another web process would have saved them (its re-plan aside)."""
    for name, value in values.items():
        session.add(PracticeSetting(name=name, value=value, updated_at=datetime.now(UTC)))
    session.commit()


def reminders(session: Session) -> list[datetime]:
    session.expire_all()
    query = select(OutboundMessage.send_at).where(
        OutboundMessage.kind == "reminder", OutboundMessage.status == "planned"
    )
    return sorted(session.scalars(query))


def _session_in_three_days(session: Session) -> datetime:
    client, _ = factories.client_with_phone(session)
    day = datetime.now(NY).date() + timedelta(days=3)
    start = datetime.combine(day, NOON, NY).astimezone(UTC)
    factories.appointment(session, client, start)
    session.commit()
    return start


def test_the_clock_plans_with_the_saved_offsets(app: Flask, session: Session) -> None:
    start = _session_in_three_days(session)
    saved_elsewhere(session, reminder_offsets="48h,2h")
    plan(app, PlanState())
    assert reminders(session) == [start - timedelta(hours=48), start - timedelta(hours=2)]


def test_a_change_of_settings_makes_the_next_tick_replan_everyone(
    app: Flask, session: Session
) -> None:
    start = _session_in_three_days(session)
    state = PlanState()
    plan(app, state)  # the first tick plans everyone
    assert reminders(session) == [start - timedelta(hours=24)]
    assert plan(app, state).updated == 0  # within the hour: only clients that grew
    # A save whose re-plan missed this client (an edit of it raced the save) is caught up.
    saved_elsewhere(session, reminder_offsets="3h")
    counts = plan(app, state)
    assert (counts.planned, counts.cancelled) == (1, 1)
    assert reminders(session) == [start - timedelta(hours=3)]


def test_the_dispatcher_holds_a_text_in_the_saved_quiet_hours(app: Flask, session: Session) -> None:
    # 11:00 in New York, outside the environment's quiet hours (21:00-08:00).
    now = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
    client, contact = factories.client_with_phone(session)
    start = now + timedelta(hours=20)
    visit = factories.appointment(session, client, start)
    row = factories.message(
        session,
        client,
        contact,
        kind="reminder",
        send_at=now - timedelta(minutes=1),
        appointment_id=visit.id,
        planned_start=start,
    )
    session.commit()
    gateway = SimulatorGateway()
    dispatcher = Dispatcher(get_db(app), settings_of(app), {Channel.SMS: gateway}, now=lambda: now)
    saved_elsewhere(session, quiet_hours="10:00-13:00")
    assert dispatcher.run()["claimed"] == 1
    assert gateway.find_sent(contact.phone, now - timedelta(days=1)) == []
    session.refresh(row)
    assert row.status == "planned"
    assert row.send_at.astimezone(NY).time() == time(13)
