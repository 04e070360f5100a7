"""Series and appointments (written through ``service.bookings``); every change re-plans
the client's texts at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings
from service.access import client_for, scope_clients
from service.api.errors import ApiError, invalid, not_found
from service.api.inputs import Fields, json_body, query_datetime, query_int
from service.api.serialize import appointment_json, series_json
from service.api.tokens import current_user
from service.config import current_settings
from service.db import get_session, lock, utcnow
from service.domain import recurrence
from service.domain.vocabulary import AppointmentStatus
from service.models import Appointment, AppointmentSeries, Client
from service.values import MAX_ID

bp = Blueprint("api_schedule", __name__)

SERIES_FIELDS = {"client_id", "starts_at", "duration_minutes", "rrule", "ends_at"}
APPOINTMENT_FIELDS = {"client_id", "starts_at", "duration_minutes", "status", "confirm_overlap"}
PATCH_FIELDS = {"status", "starts_at", "duration_minutes", "confirm_overlap", "notify"}
MAX_RANGE = timedelta(days=366)
STATUSES = tuple(AppointmentStatus)
VIA = "api"


def _client(session: Session, fields: Fields) -> Client | None:
    """The client named in the body, locked (its schedule changes); None: an error noted."""
    client_id = fields.integer("client_id", low=1, high=MAX_ID)
    if client_id is None:
        fields.errors.setdefault("client_id", "is required")
        return None
    client = client_for(session, current_user(), client_id)
    if client is None or lock(session, Client, client_id) is None:
        fields.errors["client_id"] = "no such client"
        return None
    return client


def _overlap(exc: bookings.Overlap) -> ApiError:
    """The 409 naming the sessions a time overlaps; sent again with ``confirm_overlap``."""
    zones = {a.id: a.client.timezone for a in exc.appointments}
    error = ApiError(
        409,
        "overlap",
        "the time overlaps another session; send again with confirm_overlap true to book it",
        {"starts_at": "overlaps another session"},
    )
    error.extra = {"overlaps": [appointment_json(a, zones[a.id]) for a in exc.appointments]}
    return error


def _instant(value: datetime, tz: str) -> datetime:
    """A date-time from the API as an instant: with an offset it is one, without it is local.

    Appointments are kept to the whole second; finer precision means nothing here.
    """
    value = value.replace(microsecond=0)
    return value if value.tzinfo is not None else recurrence.to_utc(value, ZoneInfo(tz))


def _rule(fields: Fields, rule: str | None, first: datetime | None) -> None:
    if rule is None or first is None:
        return
    try:
        recurrence.parse_rule(rule, first)
    except recurrence.InvalidRule as exc:
        fields.errors["rrule"] = str(exc)


def _local_start(fields: Fields, *, required: bool) -> datetime | None:
    value = fields.local_or_aware("starts_at", required=required)
    if value is not None and value.tzinfo is not None:
        fields.errors["starts_at"] = "a series starts at a local wall-clock time, without offset"
        return None
    return value


def _series_out(series: AppointmentSeries, now: datetime) -> dict[str, Any]:
    upcoming = recurrence.next_starts(
        series.rrule, series.starts_local, ZoneInfo(series.timezone), now, 5, until=series.ends_at
    )
    # The summary in Spanish when the caller prefers it (Accept-Language), else English.
    language = request.accept_languages.best_match(("en", "es"), default="en") or "en"
    return series_json(series, upcoming, language)


def _visible_series(
    session: Session, series_id: int, *, for_change: bool = False
) -> AppointmentSeries:
    """The series when the caller may see its client (locked for a change); 404 otherwise."""
    series = session.get(AppointmentSeries, series_id)
    if series is None or client_for(session, current_user(), series.client_id) is None:
        raise not_found("series")
    if for_change:
        series = bookings.lock_series(session, series_id)
        if series is None:
            raise not_found("series")
    return series


@bp.post("/series")
def create_series() -> tuple[dict[str, Any], int]:
    """Start a recurring schedule and plan its first occurrences."""
    session, now = get_session(), utcnow()
    fields = json_body(SERIES_FIELDS)
    client = _client(session, fields)
    first = _local_start(fields, required=True)
    duration = fields.integer("duration_minutes", low=5, high=12 * 60, default=60)
    rule = fields.text("rrule", required=True, max_length=500)
    ends = fields.local_or_aware("ends_at", nullable=True)
    _rule(fields, rule, first)
    fields.done()
    assert client is not None and first is not None and rule is not None and duration
    series = bookings.start_series(
        session,
        current_settings(),
        current_user(),
        client,
        starts_local=first,
        rrule=rule,
        duration=duration,
        ends_at=_instant(ends, client.timezone) if ends else None,
        now=now,
        via=VIA,
    )
    body = _series_out(series, now)
    session.commit()
    return body, 201


@bp.get("/series/<int:series_id>")
def get_series(series_id: int) -> dict[str, Any]:
    """One series with its next five starts."""
    return _series_out(_visible_series(get_session(), series_id), utcnow())


@bp.patch("/series/<int:series_id>")
def update_series(series_id: int) -> dict[str, Any]:
    """Change the rule, time, length or end; only future untouched occurrences follow."""
    session, now = get_session(), utcnow()
    series = _visible_series(session, series_id, for_change=True)
    fields = json_body(SERIES_FIELDS - {"client_id"})
    changes: dict[str, Any] = {}
    if fields.has("starts_at"):
        changes["starts_local"] = _local_start(fields, required=True)
    if fields.has("rrule"):
        changes["rrule"] = fields.text("rrule", max_length=500)
    if fields.has("duration_minutes"):
        changes["duration_minutes"] = fields.integer("duration_minutes", low=5, high=12 * 60)
    if fields.has("ends_at"):
        ends = fields.local_or_aware("ends_at", nullable=True)
        changes["ends_at"] = _instant(ends, series.timezone) if ends else None
    _rule(
        fields,
        changes.get("rrule") or series.rrule,
        changes.get("starts_local") or series.starts_local,
    )
    fields.done()
    bookings.change_series(
        session, current_settings(), current_user(), series, changes, now, via=VIA
    )
    body = _series_out(series, now)
    session.commit()
    return body


@bp.delete("/series/<int:series_id>")
def end_series(series_id: int) -> tuple[str, int]:
    """End a series now: its future untouched occurrences and their texts go away."""
    session, now = get_session(), utcnow()
    series = _visible_series(session, series_id, for_change=True)
    bookings.end_series(session, current_settings(), current_user(), series, now, via=VIA)
    session.commit()
    return "", 204


@bp.post("/appointments")
def create_appointment() -> tuple[dict[str, Any], int]:
    """Book one appointment (or record a past one as completed, which gets its check-ins)."""
    session, now = get_session(), utcnow()
    fields = json_body(APPOINTMENT_FIELDS)
    client = _client(session, fields)
    start = fields.local_or_aware("starts_at", required=True)
    duration = fields.integer("duration_minutes", low=5, high=12 * 60, default=60)
    status = fields.choice("status", STATUSES, AppointmentStatus.SCHEDULED)
    confirm_overlap = fields.boolean("confirm_overlap", False)
    fields.done()
    assert client is not None and start is not None and duration and status
    try:
        appointment = bookings.book_appointment(
            session,
            current_settings(),
            current_user(),
            client,
            starts_at=_instant(start, client.timezone),
            duration=duration,
            status=status,
            now=now,
            via=VIA,
            confirm_overlap=confirm_overlap,
        )
    except bookings.Refused as refused:
        raise invalid({refused.field: str(refused)}) from None
    except bookings.Overlap as overlap:
        raise _overlap(overlap) from None
    body = appointment_json(appointment, client.timezone)
    session.commit()
    return body, 201


@bp.get("/appointments")
def list_appointments() -> dict[str, Any]:
    """Every appointment in a range (default the planning horizon), occurrences included."""
    session, now, user = get_session(), utcnow(), current_user()
    client_id = query_int("client_id")
    start = query_datetime("from") or now
    end = query_datetime("to") or start + timedelta(days=current_settings().planning_horizon_days)
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            # Which zone a bare time means is ambiguous across clients: ask for the offset.
            raise invalid({name: "must carry an offset, like 2027-03-04T00:00-05:00"})
    if end <= start or end - start > MAX_RANGE:
        raise invalid({"to": "must be after from, at most 366 days later"})
    clients = scope_clients(select(Client.id), user)
    if client_id is not None:
        if client_for(session, user, client_id) is None:
            raise not_found("client")
        clients = clients.where(Client.id == client_id)
    client_ids = list(session.scalars(clients))
    # The clock materializes only up to its horizon; a range further out is filled in here.
    if bookings.materialize_range(session, current_settings(), client_ids, start, end, now):
        session.commit()
    rows = session.execute(
        select(Appointment, Client.timezone)
        .join(Client, Client.id == Appointment.client_id)
        .where(
            Appointment.client_id.in_(client_ids),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    return {"items": [appointment_json(a, tz) for a, tz in rows]}


def _visible_appointment(
    session: Session, appointment_id: int, *, for_change: bool = False
) -> Appointment:
    """The appointment when the caller may see its client (locked for a change); 404
    otherwise."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or client_for(session, current_user(), appointment.client_id) is None:
        raise not_found("appointment")
    if for_change:
        appointment = bookings.lock_appointment(session, appointment_id)
        if appointment is None:  # removed by a series edit while we waited
            raise not_found("appointment")
    return appointment


@bp.patch("/appointments/<int:appointment_id>")
def update_appointment(appointment_id: int) -> dict[str, Any]:
    """Cancel, confirm, complete, mark no-show or move one appointment; the plan follows."""
    session, now = get_session(), utcnow()
    appointment = _visible_appointment(session, appointment_id, for_change=True)
    tz = appointment.client.timezone
    fields = json_body(PATCH_FIELDS)
    status = fields.choice("status", STATUSES)
    start = fields.local_or_aware("starts_at")
    duration = fields.integer("duration_minutes", low=5, high=12 * 60)
    confirm_overlap = fields.boolean("confirm_overlap", False)
    # Off unless asked: an integration that tells its clients itself is not doubled.
    notify = fields.boolean("notify", False)
    fields.done()
    try:
        bookings.change_appointment(
            session,
            current_settings(),
            current_user(),
            appointment,
            now,
            status=status,
            starts_at=_instant(start, tz) if start is not None else None,
            duration=duration,
            via=VIA,
            confirm_overlap=confirm_overlap,
            notify=notify,
        )
    except bookings.Refused as refused:
        raise invalid({refused.field: str(refused)}) from None
    except bookings.Overlap as overlap:
        raise _overlap(overlap) from None
    body = appointment_json(appointment, tz)
    session.commit()
    return body


@bp.get("/appointments/<int:appointment_id>")
def get_appointment(appointment_id: int) -> dict[str, Any]:
    """One appointment."""
    appointment = _visible_appointment(get_session(), appointment_id)
    return appointment_json(appointment, appointment.client.timezone)
