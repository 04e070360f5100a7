"""Filling in a stretch of the calendar: the occurrences of clients' series in a range the
schedule page or the API asks for, beyond the planning horizon. Part of the one write path:
``bookings.materialize_range`` is this."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import planner
from service.config import Settings
from service.db import lock_all
from service.models import AppointmentSeries, Client


def materialize_range(
    session: Session,
    settings: Settings,
    client_ids: Iterable[int],
    start: datetime,
    end: datetime,
    now: datetime,
) -> int:
    """Materialize these clients' occurrences in [start, end), never before a series began,
    and re-plan the clients that got new ones; how many clients did.

    Series already planned past ``end`` (by the clock or by an edit) or ended before
    ``start`` are skipped in SQL, so the usual week costs one query, not one per series.
    """
    ids = sorted(set(client_ids))
    if not ids:
        return 0
    s = AppointmentSeries
    due = select(s).where(
        s.client_id.in_(ids),
        or_(s.ends_at.is_(None), s.ends_at > start),
        or_(s.planned_until.is_(None), s.planned_until < end),
    )
    owners = set(session.scalars(due.with_only_columns(s.client_id).distinct()))
    if not owners:
        return 0
    # Lock their clients, as every writer of a schedule does, then read the series again:
    # one edited meanwhile is filled in by its new rule, not by the one read above.
    lock_all(session, Client, owners)
    touched: set[int] = set()
    fresh = due.where(s.client_id.in_(sorted(owners))).execution_options(populate_existing=True)
    for series in session.scalars(fresh):
        if planner.materialize(session, series, max(start, series.created_at), end):
            touched.add(series.client_id)
    planner.replan_clients(session, settings, touched, now)
    return len(touched)
