"""The database side of the schedule: materialize series, and keep the outbox equal to the plan.

The pure planner (``service.domain.planning``) says what texts an appointment should have;
this module loads the facts it needs, and reconciles the outbox with its answer:
- a text the plan wants and the outbox lacks is inserted (``ON CONFLICT DO NOTHING`` on the
  idempotency key, so two processes planning at once insert it once);
- a text still ``planned`` is updated to what the plan says now (a new time, a new status
  such as ``skipped``), or ``cancelled`` when the plan no longer wants it;
- a text the planner had cancelled or skipped comes back when the plan wants it again (an
  appointment un-cancelled or moved back, a next session that no longer comes first);
- anything already sent, or skipped because the number opted out, is never touched; every
  change is conditional on the status it was read with, so a text a dispatcher claimed in
  the meantime is left to the dispatcher.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from service.config import Settings
from service.domain import planning, recurrence
from service.models import Appointment, AppointmentSeries, Client, OutboundMessage

PLANNED_KINDS = ("reminder", "checkin")
PLAN_CHUNK = 1000  # clients re-planned per reconcile in a planning tick
LIVE_STATUSES = ("scheduled", "confirmed", "completed")


@dataclass
class PlanCounts:
    """What one planning pass did."""

    materialized: int = 0
    planned: int = 0
    updated: int = 0
    cancelled: int = 0

    def add(self, other: PlanCounts) -> None:
        """Add another pass's counts to these."""
        self.materialized += other.materialized
        self.planned += other.planned
        self.updated += other.updated
        self.cancelled += other.cancelled


def plan_settings(settings: Settings) -> planning.PlanSettings:
    """The planner's view of the practice's settings."""
    return planning.PlanSettings(
        reminder_offsets=settings.reminder_offsets,
        checkin_offsets=settings.checkin_offsets,
        quiet_start=settings.quiet_hours[0],
        quiet_end=settings.quiet_hours[1],
        practice_name=settings.practice_name,
    )


def lookback(settings: Settings) -> timedelta:
    """How long after an appointment ends it may still need a text (its last check-in)."""
    return max(settings.checkin_offsets) + timedelta(hours=12) + timedelta(days=1)


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert


def materialize(session: Session, series: AppointmentSeries, start: datetime, end: datetime) -> int:
    """Create the series' occurrences in [start, end) that do not exist yet; return how many."""
    starts = recurrence.occurrences(
        series.rrule,
        series.starts_local,
        ZoneInfo(series.timezone),
        start,
        end,
        until=series.ends_at,
    )
    if not starts:
        return 0
    length = timedelta(minutes=series.duration_minutes)
    rows = [
        {
            "client_id": series.client_id,
            "series_id": series.id,
            "occurrence_start": at,
            "starts_at": at,
            "ends_at": at + length,
            "status": "scheduled",
            "detached": False,
        }
        for at in starts
    ]
    statement = (
        _insert(session)(Appointment)
        .on_conflict_do_nothing(index_elements=["series_id", "occurrence_start"])
        .returning(Appointment.id)
    )
    # Rows as parameters, not one VALUES clause: SQLAlchemy pages them under the driver's
    # bind-parameter limit. Count what RETURNING gives back (rowcount is not reliable here).
    return len(session.execute(statement, rows).all())


def _facts(
    appointment: Appointment, client: Client, next_start: datetime | None
) -> planning.AppointmentFacts:
    return planning.AppointmentFacts(
        id=appointment.id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        status=appointment.status,
        timezone=client.timezone,
        language=client.language,
        client_name=client.name,
        recipients=tuple(
            planning.Recipient(
                contact_id=c.id, phone=c.phone, reminders=c.reminders, checkins=c.checkins
            )
            for c in client.contacts
        ),
        next_start=next_start,
        checkin_offsets=planning.checkin_offsets_of(
            planning.parse_checkin_days(client.checkin_days) if client.checkin_days else None
        ),
    )


def _next_starts(appointments: Sequence[Appointment]) -> dict[int, datetime | None]:
    """For each appointment, the start of its client's next non-cancelled one after it."""
    by_client: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        if appointment.status != "cancelled":
            by_client[appointment.client_id].append(appointment)
    following: dict[int, datetime | None] = {}
    for rows in by_client.values():
        rows.sort(key=lambda a: (a.starts_at, a.id))
        for current in rows:
            later = [a.starts_at for a in rows if a.starts_at > current.starts_at]
            following[current.id] = min(later) if later else None
    return following


def reconcile(
    session: Session, settings: Settings, appointments: Sequence[Appointment], now: datetime
) -> PlanCounts:
    """Make the outbox of these appointments equal to the plan for them at ``now``.

    ``appointments`` must hold every appointment of each client involved from the first
    one considered onwards, so that the next-session rule sees the true next session.
    """
    counts = PlanCounts()
    if not appointments:
        return counts
    following = _next_starts(appointments)
    existing: dict[str, OutboundMessage] = {
        m.idempotency_key: m
        for m in session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.appointment_id.in_([a.id for a in appointments]),
                OutboundMessage.kind.in_(PLANNED_KINDS),
            )
        )
    }
    wanted: set[str] = set()
    fresh: list[dict[str, Any]] = []
    rules = plan_settings(settings)
    for appointment in appointments:
        facts = _facts(appointment, appointment.client, following.get(appointment.id))
        for message in planning.plan_appointment(facts, rules, now):
            wanted.add(message.key)
            row = existing.get(message.key)
            if row is None:
                fresh.append(_new_row(appointment, message, now))
            elif _refresh(session, row, message, now):
                counts.updated += 1
    for key, row in existing.items():
        if key not in wanted and row.status == "planned":
            counts.cancelled += _transition(
                session, row, now, status="cancelled", error_message="no longer in the plan"
            )
    if fresh:
        # As parameters, paged under the bind-parameter limit (one VALUES clause of every
        # new text failed past 65,535 parameters on PostgreSQL: about 900 weekly clients).
        statement = (
            _insert(session)(OutboundMessage)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(OutboundMessage.id)
        )
        counts.planned += len(session.execute(statement, fresh).all())
    session.flush()
    return counts


def _new_row(
    appointment: Appointment, message: planning.PlannedMessage, now: datetime
) -> dict[str, Any]:
    return {
        "idempotency_key": message.key,
        "client_id": appointment.client_id,
        "contact_id": message.contact_id,
        "appointment_id": appointment.id,
        "to_phone": message.to,
        "kind": message.kind,
        "body": message.body,
        "send_at": message.send_at,
        "status": message.status,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _refresh(
    session: Session, row: OutboundMessage, message: planning.PlannedMessage, now: datetime
) -> bool:
    """Bring a row the dispatcher has not taken up to date with the plan; True if changed."""
    if not _planners(row):
        return False
    new = (message.status, message.send_at, message.body, message.to)
    if (row.status, row.send_at, row.body, row.to_phone) == new:
        return False
    return bool(
        _transition(
            session,
            row,
            now,
            status=message.status,
            send_at=message.send_at,
            body=message.body,
            to_phone=message.to,
            error_message=None,  # a state the planner chose carries no outside reason
        )
    )


def _planners(row: OutboundMessage) -> bool:
    """True when the row's state is the planner's to change.

    That is a text still planned, one the planner skipped or expired itself (no reason
    recorded), or a cancelled one (its appointment may be live again). Anything sent, and
    anything skipped because the number opted out or is invalid, is left alone.
    """
    if row.status in ("planned", "cancelled"):
        return True
    return row.status in ("skipped", "expired") and row.error_message is None


def _transition(session: Session, row: OutboundMessage, now: datetime, **values: Any) -> int:
    """Change a row only if it still has the status it was read with; return 1 if it did.

    A dispatcher may have claimed (or sent) the text since it was read: then the planner
    leaves it alone rather than overwrite what really happened.
    """
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row.id, OutboundMessage.status == row.status)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    session.expire(row)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _client_appointments(
    session: Session, client_ids: Iterable[int], since: datetime
) -> list[Appointment]:
    ids = sorted(set(client_ids))
    if not ids:
        return []
    query = (
        select(Appointment)
        .where(Appointment.client_id.in_(ids), Appointment.ends_at >= since)
        .options(selectinload(Appointment.client).selectinload(Client.contacts))
        .order_by(Appointment.client_id, Appointment.starts_at, Appointment.id)
    )
    return list(session.scalars(query))


def replan_client(
    session: Session, settings: Settings, client_id: int, now: datetime
) -> PlanCounts:
    """Re-plan every appointment of one client that may still need a text."""
    session.flush()
    # Plan from what the database now holds, not from collections loaded before the edit.
    session.expire_all()
    appointments = _client_appointments(session, [client_id], now - lookback(settings))
    return reconcile(session, settings, appointments, now)


def plan_horizon(
    session: Session, settings: Settings, now: datetime, *, everyone: bool = False
) -> PlanCounts:
    """Materialize every live series up to the horizon, then re-plan the clients that got
    new occurrences, or (``everyone``) every client that may still need a text.

    Every edit re-plans its client at once, so a tick only has new occurrences to plan;
    re-planning everyone now and then (the clock does it hourly, and when it starts) is the
    net under that, and applies changed settings (offsets, quiet hours) to planned texts.
    """
    counts = PlanCounts()
    grown: set[int] = set()
    horizon = now + timedelta(days=settings.planning_horizon_days)
    for series in session.scalars(
        select(AppointmentSeries).where(
            (AppointmentSeries.ends_at.is_(None)) | (AppointmentSeries.ends_at > now)
        )
    ):
        # Everything up to ``planned_until`` exists already (every path that sets it
        # materialized up to it first): only the new stretch of the horizon is looked at.
        start = max(now, series.planned_until) if series.planned_until else now
        added = materialize(session, series, start, horizon)
        if added:
            counts.materialized += added
            grown.add(series.client_id)
        if series.planned_until is None or series.planned_until < horizon:
            series.planned_until = horizon
    session.flush()
    since = now - lookback(settings)
    client_ids = sorted(
        session.scalars(
            select(Appointment.client_id).where(Appointment.ends_at >= since).distinct()
        )
        if everyone
        else grown
    )
    for first in range(0, len(client_ids), PLAN_CHUNK):  # bounded IN lists and memory
        chunk = client_ids[first : first + PLAN_CHUNK]
        counts.add(reconcile(session, settings, _client_appointments(session, chunk, since), now))
    return counts


def remove_future_occurrences(
    session: Session, series: AppointmentSeries, after: datetime, keep: set[datetime]
) -> int:
    """Delete the series' untouched occurrences after ``after`` whose slot is not in ``keep``.

    Their planned texts are cancelled first; occurrences changed on their own (detached)
    stay as they are.
    """
    doomed = [
        a.id
        for a in session.scalars(
            select(Appointment).where(
                Appointment.series_id == series.id,
                Appointment.detached.is_(False),
                Appointment.starts_at > after,
            )
        )
        if a.occurrence_start not in keep
    ]
    if not doomed:
        return 0
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.appointment_id.in_(doomed), OutboundMessage.status == "planned")
        .values(status="cancelled", error_message="the series changed", updated_at=after)
    )
    session.execute(delete(Appointment).where(Appointment.id.in_(doomed)))
    return len(doomed)


def apply_series_change(
    session: Session, settings: Settings, series: AppointmentSeries, now: datetime
) -> None:
    """After a series' rule, length or end changed: make its future untouched occurrences
    match it (removed, lengthened, added up to the horizon), then re-plan the client's texts.

    Occurrences may already exist beyond the horizon (the schedule page lists weeks on
    demand), so every future one is judged, not only those within the horizon.
    """
    horizon = now + timedelta(days=settings.planning_horizon_days)
    latest = session.scalar(
        select(func.max(Appointment.starts_at)).where(Appointment.series_id == series.id)
    )
    judged = max(horizon, latest + timedelta(seconds=1)) if latest else horizon
    keep = set(
        recurrence.occurrences(
            series.rrule,
            series.starts_local,
            ZoneInfo(series.timezone),
            now,
            judged,
            until=series.ends_at,
        )
    )
    remove_future_occurrences(session, series, now, keep)
    length = timedelta(minutes=series.duration_minutes)
    for appointment in session.scalars(
        select(Appointment).where(
            Appointment.series_id == series.id,
            Appointment.detached.is_(False),
            Appointment.starts_at > now,
        )
    ):
        appointment.ends_at = appointment.starts_at + length
    materialize(session, series, now, horizon)
    series.planned_until = horizon
    replan_client(session, settings, series.client_id, now)


def change_appointment(
    session: Session,
    settings: Settings,
    appointment: Appointment,
    now: datetime,
    *,
    status: str | None = None,
    starts_at: datetime | None = None,
    duration: int | None = None,
) -> None:
    """Move, re-time or give a (checked) status to one appointment, then re-plan its client.

    The appointment leaves its series' edits from then on (``detached``).
    """
    length = (
        timedelta(minutes=duration) if duration else appointment.ends_at - appointment.starts_at
    )
    if starts_at is not None:
        appointment.starts_at = starts_at
    appointment.ends_at = appointment.starts_at + length
    if status is not None:
        appointment.status = status
    appointment.detached = True
    replan_client(session, settings, appointment.client_id, now)


def start_series(
    session: Session,
    settings: Settings,
    client: Client,
    *,
    starts_local: datetime,
    rrule: str,
    duration: int,
    ends_at: datetime | None,
    now: datetime,
) -> AppointmentSeries:
    """Start a recurring schedule and plan its occurrences up to the horizon."""
    series = AppointmentSeries(
        client_id=client.id,
        rrule=rrule,
        starts_local=starts_local.replace(second=0, microsecond=0),
        timezone=client.timezone,
        duration_minutes=duration,
        ends_at=ends_at,
    )
    session.add(series)
    session.flush()
    apply_series_change(session, settings, series, now)
    return series


def end_series(
    session: Session, settings: Settings, series: AppointmentSeries, now: datetime
) -> None:
    """End a series now: its future untouched occurrences and their texts go away."""
    series.ends_at = min(series.ends_at or now, now)
    apply_series_change(session, settings, series, now)


def book_appointment(
    session: Session,
    settings: Settings,
    client: Client,
    *,
    starts_at: datetime,
    duration: int,
    status: str,
    now: datetime,
) -> Appointment:
    """Book one appointment (a past one recorded as completed gets its check-ins)."""
    appointment = Appointment(
        client_id=client.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=duration),
        status=status,
    )
    session.add(appointment)
    session.flush()
    replan_client(session, settings, client.id, now)
    return appointment
