"""Reads of the schedule that its one writer (``service.bookings``) and the pages share:
which sessions a time would overlap, what ending a series removes, whether it can come back.

An overlap (with the same client's sessions, or its therapist's) is raised as ``Overlap``, a
warning the caller shows and may confirm: double sessions happen, so it is never a refusal.
Only sessions that exist are seen: occurrences of a series beyond the planning horizon are
materialized when the schedule is looked at, not here.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.domain import recurrence
from service.domain.vocabulary import LIVE
from service.models import Appointment, AppointmentSeries, Client


class Overlap(Exception):
    """A time that overlaps other live sessions of the client or of its therapist."""

    def __init__(self, appointments: list[Appointment]) -> None:
        super().__init__("the time overlaps another session")
        self.appointments = appointments


def overlapping(
    session: Session, client: Client, start: datetime, end: datetime, but: int | None = None
) -> list[Appointment]:
    """The live sessions of this client, or of its therapist's clients, that overlap
    [start, end), ``but`` the one being moved; soonest first."""
    same = Appointment.client_id == client.id
    if client.therapist_id is not None:
        same = or_(same, Client.therapist_id == client.therapist_id)
    query = (
        select(Appointment)
        .join(Client, Client.id == Appointment.client_id)
        .where(same, Appointment.status.in_(LIVE))
        .where(Appointment.starts_at < end, Appointment.ends_at > start)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if but is not None:
        query = query.where(Appointment.id != but)
    return list(session.scalars(query))


def warn(
    session: Session,
    client: Client,
    status: str,
    span: tuple[datetime, datetime],
    but: int | None = None,
) -> None:
    """Raise ``Overlap`` when a live session of this status would overlap others."""
    if status in LIVE:
        found = overlapping(session, client, span[0], span[1], but)
        if found:
            raise Overlap(found)


def removed_by_ending(session: Session, series: AppointmentSeries, now: datetime) -> int:
    """How many upcoming sessions ending the series now would remove (its future untouched
    occurrences; those moved or changed on their own stay)."""
    return (
        session.scalar(
            select(func.count()).where(
                Appointment.series_id == series.id,
                Appointment.detached.is_(False),
                Appointment.starts_at > now,
            )
        )
        or 0
    )


def restorable(series: AppointmentSeries, now: datetime) -> bool:
    """True while a series ended by hand can come back: the first session the end removed
    would still be in the future (once it has passed, the client already missed it and a
    restore would be a new plan, not an undo)."""
    if series.ended_at is None:
        return False
    first_removed = recurrence.next_starts(
        series.rrule,
        series.starts_local,
        ZoneInfo(series.timezone),
        series.ended_at,
        1,
        until=series.ends_at_before_end,
    )
    return bool(first_removed) and first_removed[0] > now
