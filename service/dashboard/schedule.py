"""The schedule: today and this week in the practice's time zone, per therapist."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit, bookings
from service.access import scope_clients
from service.config import current_settings
from service.dashboard import queries, series_rules
from service.dashboard.auth import current_user
from service.db import get_session, utcnow
from service.domain import recurrence
from service.models import Appointment, AppointmentSeries, Client, User

bp = Blueprint("schedule", __name__)
# How far from today a week may be asked for: enough for any real look back or ahead, and a
# bound on what a week beyond the planning horizon makes the page materialize.
EARLIEST = timedelta(days=3 * 366)
LATEST = timedelta(days=2 * 366)


@dataclass
class Day:
    """One day's appointments, in start order."""

    day: date
    rows: list[tuple[Appointment, Client]] = field(default_factory=list)


@dataclass
class Group:
    """One therapist's week (an admin sees one group per therapist)."""

    therapist: str
    days: list[Day]


def week_of(day: date) -> list[date]:
    """The seven dates, Monday first, of the week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def _chosen_day(today: date) -> date:
    """The day whose week was asked for (``?week=YYYY-MM-DD``), else today; a day further
    than ``EARLIEST`` back or ``LATEST`` ahead is brought to that bound."""
    raw = request.args.get("week", "")
    try:
        chosen = date.fromisoformat(raw) if raw else today
    except ValueError:
        return today
    return min(max(chosen, today - EARLIEST), today + LATEST)


def _summaries(db: Session, series_ids: set[int]) -> dict[int, str]:
    """Each listed series in words ("Every Mon and Thu at 10:00 AM, 60 min"), by id."""
    if not series_ids:
        return {}
    found = db.scalars(select(AppointmentSeries).where(AppointmentSeries.id.in_(series_ids)))
    return {s.id: series_rules.summary(s) for s in found}


@bp.get("/schedule")
def index() -> str:
    """Appointments of the chosen week (this one by default), today's first."""
    db, user, now = get_session(), current_user(), utcnow()
    settings = current_settings()
    zone = ZoneInfo(settings.practice_timezone)
    today = now.astimezone(zone).date()
    days = week_of(_chosen_day(today))
    start = recurrence.to_utc(datetime.combine(days[0], time()), zone)
    end = recurrence.to_utc(datetime.combine(days[-1] + timedelta(days=1), time()), zone)
    client_ids = list(db.scalars(scope_clients(select(Client.id), user)))
    # The clock materializes only up to its horizon; a week further out is filled in here.
    if bookings.materialize_range(db, settings, client_ids, start, end, now):
        db.commit()
    rows = db.execute(
        scope_clients(
            select(Appointment, Client, User.name)
            .join(Client, Client.id == Appointment.client_id)
            .outerjoin(User, User.id == Client.therapist_id),
            user,
        )
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    by_therapist: dict[str, dict[date, Day]] = defaultdict(lambda: {d: Day(d) for d in days})
    if not user.is_admin:
        by_therapist[user.name] = {d: Day(d) for d in days}  # shown even when empty
    for appointment, client, therapist in rows:
        local_day = appointment.starts_at.astimezone(zone).date()
        by_therapist[therapist or "Unassigned"][local_day].rows.append((appointment, client))
    groups = [Group(name, list(week.values())) for name, week in sorted(by_therapist.items())]
    shown = sorted({client.id for _, client, _ in rows})
    audit.record(db, user, "list", "client", "*", clients=shown, via="schedule")
    db.commit()
    return render_template(
        "schedule.html",
        groups=groups,
        today=today,
        days=days,
        now=now,
        tz=settings.practice_timezone,
        reminders=queries.reminder_states(db, [a.id for a, _, _ in rows]),
        summaries=_summaries(db, {a.series_id for a, _, _ in rows if a.series_id}),
        previous=(days[0] - timedelta(days=7)).isoformat(),
        following=(days[0] + timedelta(days=7)).isoformat(),
        this_week=today in days,
    )
