"""The plan after any sequence of edits equals the plan made fresh from the final state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import plan_facts, planner
from service.config import settings_of
from service.db import get_db
from service.domain import planning, sampling
from service.models import Appointment, Client, Contact, OutboundMessage

NOW = datetime(2027, 3, 5, 15, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
STATUSES = ("scheduled", "confirmed", "cancelled", "no_show", "completed")

day = st.integers(min_value=-4, max_value=10)
hour = st.integers(min_value=6, max_value=22)
index = st.integers(min_value=0, max_value=5)
edit = st.one_of(
    st.tuples(st.just("add"), day, hour),
    st.tuples(st.just("move"), index, day, hour),
    st.tuples(st.just("status"), index, st.sampled_from(STATUSES)),
    st.tuples(st.just("toggle"), index, st.sampled_from(("reminders", "checkins"))),
    st.tuples(st.just("caregiver"), st.integers(min_value=10, max_value=99)),
    st.tuples(st.just("remove_contact"), index),
    st.tuples(
        st.just("checkin_days"), st.sampled_from((None, "1,3,5", "2", "1,2,3,4,5,6", "auto"))
    ),
)


def local(days: int, at: int) -> datetime:
    base = NOW.astimezone(NY).date() + timedelta(days=days)
    return datetime(base.year, base.month, base.day, at, tzinfo=NY).astimezone(UTC)


def apply(session: Session, client: Client, step: tuple[Any, ...]) -> None:
    appointments = sorted(
        session.scalars(select(Appointment).where(Appointment.client_id == client.id)),
        key=lambda a: a.id,
    )
    contacts = sorted(client.contacts, key=lambda c: c.id)
    kind = step[0]
    if kind == "add":
        start = local(step[1], step[2])
        session.add(
            Appointment(client_id=client.id, starts_at=start, ends_at=start + timedelta(hours=1))
        )
    elif kind == "move" and appointments:
        target = appointments[step[1] % len(appointments)]
        target.starts_at = local(step[2], step[3])
        target.ends_at = target.starts_at + timedelta(hours=1)
    elif kind == "status" and appointments:
        appointments[step[1] % len(appointments)].status = step[2]
    elif kind == "toggle" and contacts:
        contact = contacts[step[1] % len(contacts)]
        setattr(contact, step[2], not getattr(contact, step[2]))
    elif kind == "caregiver":
        phone = f"+161755501{step[1]:02d}"
        if all(c.phone != phone for c in contacts):
            client.contacts.append(Contact(name="Care", relation="parent", phone=phone))
    elif kind == "remove_contact" and contacts:
        client.contacts.remove(contacts[step[1] % len(contacts)])
    elif kind == "checkin_days":
        client.checkin_days = step[1]
    session.flush()


def fresh_plan(
    session: Session, app: Flask, client: Client
) -> dict[str, tuple[str, datetime, str]]:
    """The plan made from nothing but the final state, straight from the pure planner."""
    rules = plan_facts.plan_settings(settings_of(app))
    appointments = sorted(
        session.scalars(select(Appointment).where(Appointment.client_id == client.id)),
        key=lambda a: (a.starts_at, a.id),
    )
    live = [a for a in appointments if a.status != "cancelled"]
    recipients = tuple(plan_facts.recipient(c) for c in client.contacts)
    plan: dict[str, tuple[str, datetime, str]] = {}
    for appointment in appointments:
        later = [a.starts_at for a in live if a.starts_at > appointment.starts_at]
        own = planning.parse_checkin_days(client.checkin_days) if client.checkin_days else None
        facts = planning.AppointmentFacts(
            id=appointment.id,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            status=appointment.status,
            timezone=client.timezone,
            language=client.language,
            client_name=client.name,
            recipients=recipients,
            next_start=min(later) if later else None,
            checkin_offsets=planning.checkin_offsets_of(own),
            # Automatic check-ins with no next session: the usual gap (no series here).
            expected_next=None
            if later
            else sampling.expected_next([a.starts_at for a in live], appointment.starts_at),
        )
        for message in planning.plan_appointment(facts, rules, NOW):
            plan[message.key] = (message.status, message.send_at, message.body)
    return plan


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(edit, max_size=12))
def test_replanning_after_edits_equals_planning_the_final_state(
    app: Flask, edits: list[tuple[Any, ...]]
) -> None:
    with get_db(app).session() as session:
        client = Client(name="Sam Lee", timezone="America/New_York", language="en")
        client.contacts.append(
            Contact(name="Sam Lee", relation="self", phone="+16175550123", checkins=True)
        )
        session.add(client)
        session.flush()
        for step in edits:
            apply(session, client, step)
            planner.replan_client(session, settings_of(app), client.id, NOW)
        session.commit()
        expected = fresh_plan(session, app, client)
        rows = session.scalars(
            select(OutboundMessage).where(OutboundMessage.client_id == client.id)
        ).all()
        actual = {r.idempotency_key: (r.status, r.send_at, r.body) for r in rows}
        for key, wanted in expected.items():
            assert actual.get(key) == wanted, key
        stray = {k for k, (status, _, _) in actual.items() if status == "planned"} - set(expected)
        assert stray == set()
        # Planning again changes nothing.
        again = planner.replan_client(session, settings_of(app), client.id, NOW)
        assert (again.planned, again.updated, again.cancelled) == (0, 0, 0)
