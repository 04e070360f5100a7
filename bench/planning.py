"""Planning: one planner tick over C clients on weekly series, first (everything to plan) and
idle (nothing new), against the pure planner plus bulk inserts doing the same work."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.engine import Engine

from bench.common import (
    NOW,
    ZONE,
    Databases,
    StatementCounter,
    Timed,
    app_config,
    ms,
    phone,
    timed,
)
from service import create_app, plan_facts, planner
from service.config import settings_of
from service.db import get_db
from service.domain import planning, recurrence
from service.models import Appointment, AppointmentSeries, Client, Contact, OutboundMessage

TARGET_APPOINTMENTS_PER_SECOND = 2000
LATER = timedelta(minutes=5)  # the clock's planning period


@dataclass(frozen=True)
class SeriesFacts:
    """What the bare planner holds in memory about one client and its weekly series."""

    client_id: int
    contact_id: int
    series_id: int
    phone: str
    name: str
    starts_local: datetime


def seed_series(engine: Engine, clients: int) -> list[SeriesFacts]:
    """Insert C clients, each with its own phone and one weekly 60-minute series."""
    today = NOW.astimezone(ZoneInfo(ZONE)).date()
    plan: list[tuple[str, str, datetime]] = []
    for i in range(clients):
        # First sessions spread over the next six days and 09:00-16:00, so each client has
        # exactly two occurrences inside the 14-day horizon (a seventh day would lose some
        # second occurrences to the horizon's end).
        day: date = today + timedelta(days=1 + i % 6)
        plan.append((f"Client {i}", phone(i), datetime(day.year, day.month, day.day, 9 + i % 8)))
    with engine.begin() as conn:
        client_ids = conn.scalars(
            insert(Client).returning(Client.id, sort_by_parameter_order=True),
            [{"name": n, "timezone": ZONE, "language": "en", "notes": ""} for n, _, _ in plan],
        ).all()
        contact_ids = conn.scalars(
            insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [
                {"client_id": c, "name": n, "relation": "self", "phone": p}
                | {"reminders": True, "checkins": True}
                for c, (n, p, _) in zip(client_ids, plan, strict=True)
            ],
        ).all()
        series_ids = conn.scalars(
            insert(AppointmentSeries).returning(AppointmentSeries.id, sort_by_parameter_order=True),
            [
                {"client_id": c, "rrule": "FREQ=WEEKLY", "starts_local": s, "timezone": ZONE}
                | {"duration_minutes": 60}
                for c, (_, _, s) in zip(client_ids, plan, strict=True)
            ],
        ).all()
    return [
        SeriesFacts(c, k, s, p, n, start)
        for c, k, s, (n, p, start) in zip(client_ids, contact_ids, series_ids, plan, strict=True)
    ]


def bare_plan(
    engine: Engine, seeded: list[SeriesFacts], rules: planning.PlanSettings, days: int
) -> int:
    """The bare minimum: expand, plan in memory, one executemany for each kind of row."""
    zone = ZoneInfo(ZONE)
    horizon = NOW + timedelta(days=days)
    hour = timedelta(hours=1)
    starts = [
        recurrence.occurrences("FREQ=WEEKLY", s.starts_local, zone, NOW, horizon) for s in seeded
    ]
    with engine.begin() as conn:
        # The appointments must exist (texts point at them); RETURNING gives their ids.
        ids = conn.scalars(
            insert(Appointment).returning(Appointment.id, sort_by_parameter_order=True),
            [
                {"client_id": s.client_id, "series_id": s.series_id, "occurrence_start": at}
                | {"starts_at": at, "ends_at": at + hour, "status": "scheduled"}
                | {"detached": False}
                for s, ats in zip(seeded, starts, strict=True)
                for at in ats
            ],
        ).all()
        rows: list[dict[str, Any]] = []
        next_id = iter(ids)
        for s, ats in zip(seeded, starts, strict=True):
            recipient = planning.Recipient(s.contact_id, s.phone, reminders=True, checkins=True)
            for k, at in enumerate(ats):
                facts = planning.AppointmentFacts(
                    id=next(next_id),
                    starts_at=at,
                    ends_at=at + hour,
                    status="scheduled",
                    timezone=ZONE,
                    language="en",
                    client_name=s.name,
                    recipients=(recipient,),
                    next_start=ats[k + 1] if k + 1 < len(ats) else None,
                )
                rows += [
                    {
                        "idempotency_key": m.key,
                        "client_id": s.client_id,
                        "contact_id": m.contact_id,
                        "appointment_id": m.appointment_id,
                        "to_phone": m.to,
                        "kind": m.kind,
                        "body": m.body,
                        "send_at": m.send_at,
                        "status": m.status,
                        "attempts": 0,
                    }
                    for m in planning.plan_appointment(facts, rules, NOW)
                ]
        conn.execute(insert(OutboundMessage), rows)
    return len(rows)


def bare_idle(engine: Engine, days: int) -> int:
    """The bare idle tick: one indexed-or-not query for series not yet planned that far."""
    horizon = NOW + timedelta(days=days)
    s = AppointmentSeries
    with engine.connect() as conn:
        due = select(func.count()).where(
            or_(s.planned_until.is_(None), s.planned_until < horizon),
            or_(s.ends_at.is_(None), s.ends_at > NOW),
        )
        return int(conn.scalar(due) or 0)


def outbox(engine: Engine) -> list[tuple[Any, ...]]:
    """The outbox as a sorted list of what matters to a recipient (ids differ between runs)."""
    m = OutboundMessage
    with engine.connect() as conn:
        found = conn.execute(select(m.to_phone, m.kind, m.send_at, m.status, m.body))
        return sorted(tuple(r) for r in found)


def bench_planning(dbs: Databases, clients: int) -> dict[str, Any]:
    """Plan C weekly series with plan_horizon, and with the pure planner plus bulk inserts;
    then the idle tick (nothing new, the steady state of every tick: before and after the
    databases are vacuumed and analyzed) and the clock's next tick five minutes on."""
    touchbase_url, bare_url = dbs.make(f"plan{clients}"), dbs.make(f"plan{clients}_bare")
    app = create_app(app_config(touchbase_url))
    settings = settings_of(app)
    db = get_db(app)
    dbs.engines.append(db.engine)
    bare_engine = dbs.engine(bare_url)
    seed_series(db.engine, clients)
    seeded = seed_series(bare_engine, clients)
    rules = plan_facts.plan_settings(settings)
    days = settings.planning_horizon_days

    counter = StatementCounter(db.engine)
    first, counts, statements = _tick(db, counter, settings, NOW)
    # Right after a bulk change PostgreSQL has no statistics of the new values and the old
    # row versions are still there, so it may scan the table; autovacuum vacuums and
    # analyzes it within a minute, long before the clock's next tick, as is done here.
    unanalyzed, _, _ = _tick(db, counter, settings, NOW)
    with timed() as bare:
        texts = bare_plan(bare_engine, seeded, rules, days)
    for engine in (db.engine, bare_engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    idle, again, idle_statements = _tick(db, counter, settings, NOW)
    with timed() as idle_bare:
        bare_idle(bare_engine, days)
    same_outbox = outbox(db.engine) == outbox(bare_engine)  # the later tick may plan more
    # The clock's next tick, five minutes on: only series whose next occurrence enters
    # those five minutes of horizon are read.
    later, later_counts, later_statements = _tick(db, counter, settings, NOW + LATER)
    counter.close()
    with db.engine.connect() as conn:
        appointments = int(conn.scalar(select(func.count()).select_from(Appointment)) or 0)
    same = same_outbox and counts.planned == texts
    rate = appointments / first.wall
    return {
        "clients": clients,
        "appointments": appointments,
        "texts": texts,
        "first_tick_s": round(first.wall, 3),
        "first_tick_counts": vars(counts),
        "first_tick_sql_statements": statements,
        "appointments_per_second": round(rate, 1),
        "ms_per_appointment": round(first.wall / max(appointments, 1) * 1000, 3),
        "idle_tick_s": round(idle.wall, 3),
        "idle_tick_counts": vars(again),
        "idle_tick_sql_statements": idle_statements,
        "idle_ms_per_client": round(idle.wall / clients * 1000, 4),
        "idle_tick_before_vacuum_s": round(unanalyzed.wall, 3),
        "later_tick_s": round(later.wall, 3),
        "later_tick_counts": vars(later_counts),
        "later_tick_sql_statements": later_statements,
        "bare_first_s": round(bare.wall, 3),
        "bare_appointments_per_second": round(appointments / bare.wall, 1),
        "bare_idle_ms": ms(idle_bare.wall),
        "first_tick_ratio": round(bare.wall / first.wall, 3),
        "target_appointments_per_second": TARGET_APPOINTMENTS_PER_SECOND,
        "met_first_tick": rate >= TARGET_APPOINTMENTS_PER_SECOND,
        "same_work": same,
    }


def _tick(
    db: Any, counter: StatementCounter, settings: Any, at: datetime
) -> tuple[Timed, planner.PlanCounts, int]:
    """One ``plan_horizon`` tick at ``at``, committed: its time, counts and statements."""
    counter.reset()
    with db.session() as session, timed() as took:
        counts = planner.plan_horizon(session, settings, at)
        session.commit()
    return took, counts, counter.statements


def growth(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """How the idle tick grew from each size to the next, against how N grew."""
    steps = []
    for small, large in itertools.pairwise(sizes):
        steps.append(
            {
                "from_clients": small["clients"],
                "to_clients": large["clients"],
                "n_grew": round(large["clients"] / small["clients"], 2),
                "idle_tick_grew": round(large["idle_tick_s"] / max(small["idle_tick_s"], 1e-9), 2),
                "idle_statements_grew": round(
                    large["idle_tick_sql_statements"] / max(small["idle_tick_sql_statements"], 1),
                    2,
                ),
            }
        )
    return steps
