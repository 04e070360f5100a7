"""Making a (locked) series' untouched future occurrences follow it after a change: part of
the one write path, ``bookings``' series edits (start, change, end, restore) end with this.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service import outbox, planner
from service.config import Settings
from service.domain import recurrence
from service.models import Appointment, AppointmentSeries


def follow_series(
    session: Session, settings: Settings, series: AppointmentSeries, now: datetime
) -> None:
    """Make the series' future untouched occurrences match it (removed, lengthened, added
    up to the horizon), then re-plan the client's texts.

    Occurrences may already exist beyond the horizon (the schedule page lists weeks on
    demand), so every future one is judged, not only those within the horizon.
    """
    horizon = now + timedelta(days=settings.planning_horizon_days)
    latest = session.scalar(
        select(func.max(Appointment.starts_at)).where(Appointment.series_id == series.id)
    )
    judged = max(horizon, latest + timedelta(seconds=1)) if latest else horizon
    zone = ZoneInfo(series.timezone)
    keep = set(
        recurrence.occurrences(
            series.rrule, series.starts_local, zone, now, judged, until=series.ends_at
        )
    )
    _remove_future(session, series, now, keep)
    length = timedelta(minutes=series.duration_minutes)
    for appointment in session.scalars(
        select(Appointment).where(
            Appointment.series_id == series.id,
            Appointment.detached.is_(False),
            Appointment.starts_at > now,
        )
    ):
        appointment.ends_at = appointment.starts_at + length
    planner.plan_series(session, [series], now, horizon)
    planner.replan_client(session, settings, series.client_id, now)


def _remove_future(
    session: Session, series: AppointmentSeries, after: datetime, keep: set[datetime]
) -> int:
    """Delete the series' untouched occurrences after ``after`` whose slot is not in
    ``keep``; their planned texts are cancelled first. Detached ones stay as they are."""
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
    outbox.cancel_planned(session, doomed, "the series changed", after)
    session.execute(delete(Appointment).where(Appointment.id.in_(doomed)))
    return len(doomed)
