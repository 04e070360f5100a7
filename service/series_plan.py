"""Materializing series: their occurrences up to the planning horizon, and the bookkeeping
that lets a planning tick find the few series due without reading the others.

Each series keeps ``planned_until`` (every occurrence before it exists, or was removed on
purpose) and ``next_start``, its first occurrence at or after that (None when no more
come). A tick selects the series whose ``next_start`` falls before the new horizon, an
indexed query that finds nothing on most ticks, instead of evaluating every series' rule.
``next_start`` may be earlier than the truth (a migrated row, a tick that failed), which
costs a look at the series; never later, or an occurrence would be missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from service import bulk_rows
from service.domain import recurrence
from service.domain.vocabulary import AppointmentStatus
from service.models import Appointment, AppointmentSeries

# Past the window, a weekly or fortnightly series' next occurrence is found in the same walk.
_LOOK_PAST = timedelta(days=15)
_INSTANT = timedelta(microseconds=1)  # starts are whole seconds: "after end - 1 µs" is ">= end"


def materialize(session: Session, series: AppointmentSeries, start: datetime, end: datetime) -> int:
    """Create the series' occurrences in [start, end) that do not exist yet; return how many."""
    return len(_materialize(session, [series], start, end, None))


def plan_series(
    session: Session, many: Sequence[AppointmentSeries], start: datetime, horizon: datetime
) -> int:
    """Materialize these series' occurrences in [start, horizon) and mark them planned up
    to the horizon; how many occurrences were created.

    Marked means ``planned_until`` is the horizon and ``next_start`` the first occurrence
    at or after it (None when no more come), the pair the planning tick selects by: every
    path that materializes a series up to the horizon goes through here (or, for many
    series at once, through ``plan_horizon``), so the pair never falls out of step.
    """
    following: dict[int, datetime | None] = {}
    created = len(_materialize(session, many, start, horizon, following))
    for series in many:
        series.planned_until = horizon
        series.next_start = following[series.id]
    return created


class SeriesRule(Protocol):
    """What materializing reads of a series (a row or an ``AppointmentSeries``)."""

    @property
    def id(self) -> int: ...
    @property
    def client_id(self) -> int: ...
    @property
    def rrule(self) -> str: ...
    @property
    def starts_local(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...
    @property
    def duration_minutes(self) -> int: ...
    @property
    def ends_at(self) -> datetime | None: ...
    @property
    def planned_until(self) -> datetime | None: ...


def _materialize(
    session: Session,
    many: Sequence[SeriesRule],
    start: datetime,
    end: datetime,
    following: dict[int, datetime | None] | None,
    *,
    resume: bool = False,
) -> list[tuple[int, int]]:
    """Insert the occurrences in [start, end) missing from these series (``resume``: from
    where each was planned to, if later); fill ``following`` (when given) with each
    series' first occurrence at or after ``end``; the (id, client) of each one created."""
    a, rows = Appointment, []
    for series in many:
        zone = ZoneInfo(series.timezone)
        begin = max(start, series.planned_until or start) if resume else start
        # One walk of the rule finds the window's occurrences and usually the next one.
        reach = end + _LOOK_PAST if following is not None else end
        found = recurrence.occurrences(
            series.rrule, series.starts_local, zone, begin, reach, until=series.ends_at
        )
        starts = [at for at in found if at < end]
        if following is not None:
            after = found[len(starts) :] or recurrence.next_starts(
                series.rrule, series.starts_local, zone, end - _INSTANT, 1, until=series.ends_at
            )
            following[series.id] = after[0] if after else None
        length = timedelta(minutes=series.duration_minutes)
        rows += [
            {
                "client_id": series.client_id,
                "series_id": series.id,
                "occurrence_start": at,
                "starts_at": at,
                "ends_at": at + length,
                "status": AppointmentStatus.SCHEDULED,
                "detached": False,
            }
            for at in starts
        ]
    if not rows:
        return []
    unique = ["series_id", "occurrence_start"]
    created = bulk_rows.insert_new(session, Appointment, rows, unique, [a.id, a.client_id])
    return [(int(i), int(c)) for i, c in created]


def plan_due(session: Session, now: datetime, horizon: datetime) -> list[tuple[int, int]]:
    """Materialize every live series due before the horizon, from where it was planned to
    (never before ``now``), and mark it planned to the horizon; the appointments created.

    Read as plain rows and marked with one executemany: a first tick over thousands of
    series builds no ORM object for them.
    """
    s = AppointmentSeries
    session.flush()
    due = session.execute(
        select(
            s.id,
            s.client_id,
            s.rrule,
            s.starts_local,
            s.timezone,
            s.duration_minutes,
            s.ends_at,
            s.planned_until,
            s.updated_at,
        ).where(
            or_(s.planned_until.is_(None), s.next_start < horizon),
            or_(s.ends_at.is_(None), s.ends_at > now),
        )
    ).all()
    if not due:
        return []
    # Everything up to ``planned_until`` exists already (every path that sets it
    # materialized up to it first): only the new stretch of the horizon is looked at.
    following: dict[int, datetime | None] = {}
    created = _materialize(session, due, now, horizon, following, resume=True)
    # Only a series as it was read: one edited meanwhile was marked by its edit, by its new
    # rule (an edit's own occurrences are ``bookings``' to make; this tick's, by the rule
    # it read, are judged by the edit's follow-up as before).
    t = cast(Table, s.__table__)
    mark = (
        update(t)
        .where(t.c.id == bindparam("b_id"), t.c.updated_at == bindparam("b_seen"))
        .values(planned_until=horizon, next_start=bindparam("b_next"))
    )
    seen = [{"b_id": r.id, "b_seen": r.updated_at, "b_next": following[r.id]} for r in due]
    session.execute(mark, seen)
    for instance in list(session.identity_map.values()):  # loaded here: read them anew
        if isinstance(instance, AppointmentSeries) and instance.id in following:
            session.expire(instance, ["planned_until", "next_start"])
    return created
