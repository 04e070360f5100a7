"""Forms for series and one-off appointments, and the cancel/confirm/no-show/move actions
(written through ``service.bookings``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import bookings, notices, schedule_reads, wording_in_force
from service.config import current_settings
from service.dashboard import series_rules
from service.dashboard.auth import client_or_404, current_user
from service.dashboard.forms import Form
from service.dashboard.security import safe_next
from service.dashboard.timefmt import input_value
from service.db import get_session, utcnow
from service.domain import texts
from service.domain.vocabulary import AppointmentStatus
from service.models import Appointment, AppointmentSeries, Client

T = TypeVar("T")
bp = Blueprint("schedule_forms", __name__)
MAX_MINUTES = 12 * 60
VIA = "dashboard"
A = AppointmentStatus
# What the page says once an appointment was given each status.
DONE = {
    A.CONFIRMED: "confirmed",
    A.CANCELLED: "cancelled",
    A.NO_SHOW: "marked as a no-show",
    A.COMPLETED: "marked as done",
    A.SCHEDULED: "back on the schedule",
}


# The form field each refusal of ``service.bookings`` is shown on.
FIELD_OF = {"starts_at": "starts", "status": "status"}


def _back(client_id: int) -> Response:
    """Back to the schedule part of the client's page."""
    return redirect(url_for("dashboard.clients.show", client_id=client_id) + "#schedule")


@dataclass(frozen=True)
class SeriesInput:
    """The checked values of the series form."""

    starts_local: datetime
    rule: str
    duration: int
    ends_at: datetime | None


def _read_series(form: Form, tz: str) -> SeriesInput | None:
    """Check the series form; None when a field is wrong (errors recorded on ``form``)."""
    starts = form.local_datetime("starts")
    duration = form.integer("duration", low=5, high=MAX_MINUTES, required=True)
    ends_on = form.date("ends_on")
    rule = series_rules.read_rule(form, starts, ends_on, tz)
    if rule is None or starts is None or duration is None:
        return None
    ends_at = series_rules.end_of_day(ends_on, tz) if ends_on else None
    if ends_at is not None and ends_at <= series_rules.instant(starts, tz):
        form.errors["ends_on"] = "The series must end after its first session."
        return None
    return SeriesInput(starts, rule, duration, ends_at)


@bp.route("/clients/<int:client_id>/series/new", methods=["GET", "POST"])
def new_series(client_id: int) -> Response | str | tuple[str, int]:
    """Start a recurring series; its first occurrences are planned at once."""
    db, now = get_session(), utcnow()
    client = client_or_404(db, client_id, for_change=request.method == "POST")
    defaults = {"duration": "60", "every": "1", "ends": "never"}
    form = Form(request.form if request.method == "POST" else None, defaults)
    if form.submitted:
        values = _read_series(form, client.timezone)
        if values is not None:
            bookings.start_series(
                db,
                current_settings(),
                current_user(),
                client,
                starts_local=values.starts_local,
                rrule=values.rule,
                duration=values.duration,
                ends_at=values.ends_at,
                now=now,
                via=VIA,
            )
            db.commit()
            flash("Series saved; its sessions are on the schedule.")
            return _back(client.id)
    page = render_template("series/form.html", form=form, client=client, series=None)
    return (page, 422) if form.submitted else page


def _series_or_404(db: Session, series_id: int, *, for_change: bool) -> AppointmentSeries:
    """The series when the user may see its client (locked for a change); 404 otherwise."""
    series = db.get(AppointmentSeries, series_id)
    if series is None:
        abort(404)
    client_or_404(db, series.client_id)
    if for_change:
        series = bookings.lock_series(db, series_id)
        if series is None:
            abort(404)
    return series


@bp.route("/series/<int:series_id>/edit", methods=["GET", "POST"])
def edit_series(series_id: int) -> Response | str | tuple[str, int]:
    """Change a series' rule, time, length or end; only untouched future sessions follow."""
    db, now = get_session(), utcnow()
    series = _series_or_404(db, series_id, for_change=request.method == "POST")
    client = series.client
    defaults = series_rules.form_values(series)
    form = Form(request.form if request.method == "POST" else None, defaults)
    if form.submitted:
        values = _read_series(form, series.timezone)
        if values is not None:
            changes = {
                "starts_local": values.starts_local,
                "rrule": values.rule,
                "duration_minutes": values.duration,
                "ends_at": values.ends_at,
            }
            bookings.change_series(
                db, current_settings(), current_user(), series, changes, now, via=VIA
            )
            db.commit()
            flash("Series saved; future sessions follow the change.")
            return _back(client.id)
    page = render_template("series/form.html", form=form, client=client, series=series)
    return (page, 422) if form.submitted else page


@bp.route("/series/<int:series_id>/end", methods=["GET", "POST"])
def end_series(series_id: int) -> Response | str:
    """Ask first, saying how many upcoming sessions go; then end the series now (its future
    untouched sessions and their texts go away, until a restore)."""
    db, now = get_session(), utcnow()
    series = _series_or_404(db, series_id, for_change=request.method == "POST")
    if request.method == "GET":
        return render_template(
            "series/end.html",
            series=series,
            client=series.client,
            summary=series_rules.summary(series),
            removed=schedule_reads.removed_by_ending(db, series, now),
        )
    bookings.end_series(db, current_settings(), current_user(), series, now, via=VIA)
    db.commit()
    flash("Series ended; its future sessions were removed. You can restore it from this page.")
    return _back(series.client_id)


@bp.post("/series/<int:series_id>/restore")
def restore_series(series_id: int) -> Response:
    """Bring an ended series back with its future sessions and their texts."""
    db, now = get_session(), utcnow()
    series = _series_or_404(db, series_id, for_change=True)
    try:
        bookings.restore_series(db, current_settings(), current_user(), series, now, via=VIA)
    except bookings.Refused as refused:
        flash(f"Not restored: {refused}.", "error")
        return _back(series.client_id)
    db.commit()
    flash("Series restored; its sessions are back on the schedule.")
    return _back(series.client_id)


def _attempt(form: Form, write: Callable[[], T]) -> tuple[bool, T | None, list[Appointment]]:
    """Run a booking write: (True, its result, []) once written; a refusal becomes the
    field's error, an overlap the sessions to show with "Book/Move anyway" (nothing written).
    """
    try:
        return True, write(), []
    except bookings.Refused as refused:
        form.errors[FIELD_OF[refused.field]] = f"{str(refused).capitalize()}."
        return False, None, []
    except bookings.Overlap as overlap:
        return False, None, overlap.appointments


@bp.route("/clients/<int:client_id>/appointments/new", methods=["GET", "POST"])
def new_appointment(client_id: int) -> Response | str | tuple[str, int]:
    """Book a one-off appointment, or record a past one as done (it gets its check-ins)."""
    db, now = get_session(), utcnow()
    client = client_or_404(db, client_id, for_change=request.method == "POST")
    form = Form(request.form if request.method == "POST" else None, {"duration": "60"})
    if form.submitted:
        starts = form.local_datetime("starts")
        duration = form.integer("duration", low=5, high=MAX_MINUTES, required=True)
        status = form.choice("status", (A.SCHEDULED, A.COMPLETED), A.SCHEDULED) or A.SCHEDULED
        overlaps: list[Appointment] = []
        if form.ok and starts is not None and duration is not None:
            booked, _, overlaps = _attempt(
                form,
                lambda: bookings.book_appointment(
                    db,
                    current_settings(),
                    current_user(),
                    client,
                    starts_at=series_rules.instant(starts, client.timezone),
                    duration=duration,
                    status=status,
                    now=now,
                    via=VIA,
                    confirm_overlap=form.checkbox("confirm_overlap"),
                ),
            )
            if booked:
                db.commit()
                flash("Appointment booked.")
                return _back(client.id)
        page = render_template(
            "appointments/form.html",
            form=form,
            client=client,
            appointment=None,
            overlaps=overlaps,
        )
        return page, 422
    return render_template("appointments/form.html", form=form, client=client, appointment=None)


def _visible_appointment(db: Session, appointment_id: int, *, for_change: bool) -> Appointment:
    """The appointment when the current user may see its client (locked for a change); 404
    otherwise."""
    appointment = db.get(Appointment, appointment_id)
    if appointment is None:
        abort(404)
    client_or_404(db, appointment.client_id)
    if for_change:
        appointment = bookings.lock_appointment(db, appointment_id)
        if appointment is None:  # removed by a series edit while we waited
            abort(404)
    return appointment


def _told(client: Client) -> list[str]:
    """The names of the people a notice about this client's sessions goes to."""
    return [c.name for c in client.contacts if c.reminders]


def _move_preview(appointment: Appointment, starts: datetime | None) -> str:
    """The move notice as it would read; until a new time is chosen it shows a blank."""
    client = appointment.client
    old = notices.told_start(get_session(), appointment.id, appointment.starts_at)
    new = series_rules.instant(starts, client.timezone) if starts is not None else old
    in_force = wording_in_force.current(get_session())
    text = notices.move_text(current_settings(), client, new, old, in_force=in_force)
    if new != old:
        return text
    # The new time comes first in every language.
    was = texts.format_local(old.astimezone(ZoneInfo(client.timezone)), client.language)
    return text.replace(was, "[the new time]", 1)


@bp.route("/appointments/<int:appointment_id>/move", methods=["GET", "POST"])
def move(appointment_id: int) -> Response | str | tuple[str, int]:
    """Move one appointment (it leaves its series' future edits); its texts follow, and
    the client is told when the box is ticked (it is, at first)."""
    db, now = get_session(), utcnow()
    appointment = _visible_appointment(db, appointment_id, for_change=request.method == "POST")
    client = appointment.client
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    defaults = {
        "starts": input_value(appointment.starts_at, client.timezone),
        "duration": str(minutes),
        "notify": "on",
    }
    form = Form(request.form if request.method == "POST" else None, defaults)
    overlaps: list[Appointment] = []
    starts = form.local_datetime("starts") if form.submitted else None
    if form.submitted:
        duration = form.integer("duration", low=5, high=MAX_MINUTES, required=True)
        if form.ok and starts is not None and duration is not None:
            moved, told, overlaps = _attempt(
                form,
                lambda: bookings.change_appointment(
                    db,
                    current_settings(),
                    current_user(),
                    appointment,
                    now,
                    starts_at=series_rules.instant(starts, client.timezone),
                    duration=duration,
                    via=VIA,
                    confirm_overlap=form.checkbox("confirm_overlap"),
                    notify=form.checkbox("notify"),
                ),
            )
            if moved:
                db.commit()
                flash(
                    "Appointment moved; its reminders follow"
                    + (" and the client was told." if told else ".")
                )
                return _back(client.id)
    page = render_template(
        "appointments/form.html",
        form=form,
        client=client,
        appointment=appointment,
        overlaps=overlaps,
        told=_told(client),
        preview=_move_preview(appointment, starts),
    )
    return (page, 422) if form.submitted else page


@bp.post("/appointments/<int:appointment_id>/status")
def set_status(appointment_id: int) -> Response:
    """Confirm, cancel, mark no-show or done, or restore an appointment; the plan follows."""
    db, now = get_session(), utcnow()
    appointment = _visible_appointment(db, appointment_id, for_change=True)
    status = request.form.get("status", "")
    if status not in tuple(AppointmentStatus):
        abort(400, "Unknown appointment status.")
    default = url_for("dashboard.clients.show", client_id=appointment.client_id) + "#schedule"
    try:
        bookings.change_appointment(
            db, current_settings(), current_user(), appointment, now, status=status, via=VIA
        )
    except bookings.Refused as refused:
        flash(f"Not changed: {refused}.", "error")
        return redirect(safe_next(request.form.get("next"), default))
    db.commit()
    flash(f"Appointment {DONE[AppointmentStatus(status)]}.")
    return redirect(safe_next(request.form.get("next"), default))


@bp.route("/appointments/<int:appointment_id>/cancel", methods=["GET", "POST"])
def cancel(appointment_id: int) -> Response | str:
    """Cancel a session, offering (ticked at first) to tell the client, with the text."""
    db, now = get_session(), utcnow()
    appointment = _visible_appointment(db, appointment_id, for_change=request.method == "POST")
    client = appointment.client
    default = url_for("dashboard.clients.show", client_id=client.id) + "#schedule"
    back = safe_next(request.values.get("next"), default)
    form = Form(request.form if request.method == "POST" else None, {"notify": "on"})
    if form.submitted:
        try:
            told = bookings.change_appointment(
                db,
                current_settings(),
                current_user(),
                appointment,
                now,
                status=A.CANCELLED,
                via=VIA,
                notify=form.checkbox("notify"),
            )
        except bookings.Refused as refused:
            flash(f"Not changed: {refused}.", "error")
            return redirect(back)
        db.commit()
        flash("Appointment cancelled" + (" and the client was told." if told else "."))
        return redirect(back)
    return render_template(
        "appointments/cancel.html",
        form=form,
        client=client,
        appointment=appointment,
        told=_told(client) if appointment.starts_at > now else [],
        preview=notices.cancel_text(
            current_settings(),
            client,
            notices.told_start(db, appointment.id, appointment.starts_at),
            in_force=wording_in_force.current(db),
        ),
        back=back,
        next=request.args.get("next", ""),
    )
