"""When a client is next expected, for automatic check-ins (``service.domain.sampling``).

The planner knows each appointment's next booked session (``plan_facts.next_starts``). For the
appointments without one whose check-ins are automatic, this module says when the client is
expected next: at the series' next occurrence (materialized or not yet), else after their
usual gap. Two statements for a whole planned chunk, however many appointments it holds, and
none when every appointment has its next session booked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain import planning, recurrence, sampling
from service.domain.vocabulary import AppointmentStatus
from service.models import Appointment, AppointmentSeries, Client

# How far before a session its rhythm's last gaps may reach.
HISTORY = timedelta(days=sampling.RHYTHM_GAPS * sampling.LONGEST_GAP_DAYS)


def own_checkins(client: Client) -> sampling.CheckinOffsets | None:
    """The client's own check-in offsets (fixed days or AUTO); None: the practice's."""
    days = planning.parse_checkin_days(client.checkin_days) if client.checkin_days else None
    return planning.checkin_offsets_of(days)


def expected_for(
    session: Session,
    practice: sampling.CheckinOffsets,
    appointments: Sequence[Appointment],
    following: Mapping[int, datetime | None],
) -> dict[int, datetime | None]:
    """When each client is next expected, for the appointments whose check-ins are automatic
    (the client's own setting, else the ``practice``'s) and that have no next session in
    ``following``."""
    open_ended = [
        a
        for a in appointments
        if following.get(a.id) is None
        and a.status != AppointmentStatus.CANCELLED
        and isinstance(own_checkins(a.client) or practice, str)
    ]
    return _expected_next(session, open_ended)


def _expected_next(
    session: Session, appointments: Sequence[Appointment]
) -> dict[int, datetime | None]:
    """For each of these appointments (ones with no next session booked), when its client is
    expected next; None when neither a series nor a rhythm says."""
    if not appointments:
        return {}
    series = _series(session, {a.series_id for a in appointments if a.series_id is not None})
    history = _history(session, appointments)
    found: dict[int, datetime | None] = {}
    for appointment in appointments:
        rule = series.get(appointment.series_id) if appointment.series_id is not None else None
        upcoming = _next_occurrence(rule, appointment) if rule is not None else None
        found[appointment.id] = upcoming or sampling.expected_next(
            history[appointment.client_id], appointment.starts_at
        )
    return found


def _series(session: Session, ids: set[int]) -> dict[int, AppointmentSeries]:
    """The series of these ids, by id."""
    if not ids:
        return {}
    rows = session.scalars(select(AppointmentSeries).where(AppointmentSeries.id.in_(sorted(ids))))
    return {s.id: s for s in rows}


def _history(session: Session, appointments: Sequence[Appointment]) -> dict[int, list[datetime]]:
    """The starts of the clients' sessions (not cancelled) that their rhythms may look at."""
    since = min(a.starts_at for a in appointments) - HISTORY
    until = max(a.starts_at for a in appointments)
    found: dict[int, list[datetime]] = defaultdict(list)
    rows = session.execute(
        select(Appointment.client_id, Appointment.starts_at).where(
            Appointment.client_id.in_(sorted({a.client_id for a in appointments})),
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.starts_at >= since,
            Appointment.starts_at <= until,
        )
    )
    for client_id, starts_at in rows:
        found[client_id].append(starts_at)
    return found


def _next_occurrence(series: AppointmentSeries, appointment: Appointment) -> datetime | None:
    """The series' next occurrence after this appointment's slot, if it comes after it."""
    slot = appointment.occurrence_start or appointment.starts_at
    upcoming = recurrence.next_starts(
        series.rrule,
        series.starts_local,
        ZoneInfo(series.timezone),
        slot,
        count=1,
        until=series.ends_at,
    )
    return upcoming[0] if upcoming and upcoming[0] > appointment.starts_at else None
