"""Series and appointments, written one way: start, change and end a series; book, move and
re-status an appointment, tie it to a calendar feed's event or untie it; fill in a stretch
of the calendar.

The API, the dashboard and the demo change the schedule only through these functions.
Each works on rows its caller locked, the client first (``lock_series``,
``lock_appointment``, or ``db.lock`` of the client whose schedule grows): a client's
writes take turns, so each re-plans the client from everything the others did, and a
series edit never removes an occurrence that was changed on its own meanwhile. Each checks
the change against the domain's rules (``Refused`` says why not), makes the untouched
future occurrences of a series follow it, re-plans the client's texts at once, and records
one audit entry (``client_id``, ``fields``, ``before``/``after`` for a status, ``via``).
Nothing here commits: the caller ends the unit of work. A session to come is never put in
the past; an ``Overlap`` waits for ``confirm_overlap``; a move resets a confirmation (it was
for the old time); with ``notify`` a move or cancellation queues a notice (``notices``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service import alerts, audit, notices, planner, roster, schedule_reads
from service.config import Settings
from service.domain import feed_owned, status_changes
from service.domain.vocabulary import UPCOMING, AppointmentStatus
from service.models import Appointment, AppointmentSeries, AuditEntry, Client, User
from service.schedule_fill import materialize_range as materialize_range  # fills the calendar
from service.schedule_reads import Overlap as Overlap  # raised here, caught as bookings.Overlap
from service.series_follow import follow_series

SERIES_FIELDS = ("starts_local", "rrule", "duration_minutes", "ends_at")
FEED_KEY = ("feed_id", "feed_uid", "feed_instance")  # an appointment's feed and event


class Refused(ValueError):
    """A change the schedule's rules do not allow; the message says why, ``field`` what."""

    def __init__(self, reason: str, field: str = "status") -> None:
        super().__init__(reason)
        self.field = field


def _check_time(
    session: Session,
    client: Client,
    status: str,
    span: tuple[datetime, datetime],
    now: datetime,
    *,
    changing: int | None = None,
    moved: bool = True,
    confirm_overlap: bool,
) -> None:
    """Refuse a session to come booked or ``moved`` into the past; warn (``Overlap``) of an
    unconfirmed overlap with a session other than the one ``changing``."""
    past = status_changes.past_refusal(status, span[0], now, moving=changing is not None)
    if moved and past is not None:
        raise Refused(past, "starts_at")
    if not confirm_overlap:
        schedule_reads.warn(session, client, status, span, changing)


def lock_series(session: Session, series_id: int) -> AppointmentSeries | None:
    """A series and its client, both locked (client first, as every writer does), or None."""
    return roster.lock_with_client(session, AppointmentSeries, series_id)


def lock_appointment(session: Session, appointment_id: int) -> Appointment | None:
    """An appointment and its client, both locked (client first), or None when it is gone
    (a series edit removes untouched occurrences)."""
    return roster.lock_with_client(session, Appointment, appointment_id)


@dataclass(frozen=True)
class SeriesStart:
    """A recurring schedule to start for a (locked) client: its first local start, rule,
    length in minutes and end (None: none)."""

    client: Client
    starts_local: datetime
    rrule: str
    duration: int
    ends_at: datetime | None


def start_series(
    session: Session,
    settings: Settings,
    actor: User | None,
    client: Client,
    *,
    starts_local: datetime,
    rrule: str,
    duration: int,
    ends_at: datetime | None,
    now: datetime,
    via: str,
) -> AppointmentSeries:
    """Start a recurring schedule for a (locked) client and plan its occurrences up to the
    horizon."""
    start = SeriesStart(client, starts_local, rrule, duration, ends_at)
    return start_many(session, settings, actor, [start], now=now, via=via)[0]


def start_many(
    session: Session,
    settings: Settings,
    actor: User | None,
    starts: Sequence[SeriesStart],
    *,
    now: datetime,
    via: str,
) -> list[AppointmentSeries]:
    """Start these series as ``start_series`` does, written together (one flush, one insert
    of their occurrences: an import's). A new series has no occurrence to judge: they are
    only added up to the horizon."""
    made = [
        AppointmentSeries(
            client_id=s.client.id,
            rrule=s.rrule,
            starts_local=s.starts_local.replace(second=0, microsecond=0),
            timezone=s.client.timezone,
            duration_minutes=s.duration,
            ends_at=s.ends_at,
            created_at=now,  # entered now: the calendar is never filled in before it
        )
        for s in starts
    ]
    session.add_all(made)
    session.flush()
    horizon = now + timedelta(days=settings.planning_horizon_days)
    planner.plan_series(session, made, now, horizon)
    for series in made:
        planner.replan_client(session, settings, series.client_id, now)
        audit.record(
            session, actor, "create", "series", series.id, client_id=series.client_id, via=via
        )
    return made


def change_series(
    session: Session,
    settings: Settings,
    actor: User | None,
    series: AppointmentSeries,
    changes: Mapping[str, Any],
    now: datetime,
    *,
    via: str,
) -> list[str]:
    """Change a (locked) series' first start, rule, length or end (``SERIES_FIELDS``);
    only its untouched future occurrences follow. The names that changed."""
    if "starts_local" in changes:  # a series starts on the minute, as when it was started
        first = changes["starts_local"].replace(second=0, microsecond=0)
        changes = {**changes, "starts_local": first}
    changed = sorted(
        k for k, v in changes.items() if k in SERIES_FIELDS and getattr(series, k) != v
    )
    for key in changed:
        setattr(series, key, changes[key])
    if "ends_at" in changed:  # a new end replaces the one "End series" kept for a restore
        series.ended_at = series.ends_at_before_end = None
    follow_series(session, settings, series, now)
    audit.record(
        session,
        actor,
        "update",
        "series",
        series.id,
        client_id=series.client_id,
        fields=changed,
        via=via,
    )
    return changed


def end_series(
    session: Session,
    settings: Settings,
    actor: User | None,
    series: AppointmentSeries,
    now: datetime,
    *,
    via: str,
) -> None:
    """End a (locked) series now: its future untouched occurrences and their texts go. The
    end it had is kept so that ``restore_series`` can bring them back."""
    if series.ends_at is None or series.ends_at > now:  # ending an ended one keeps its undo
        series.ended_at, series.ends_at_before_end = now, series.ends_at
    series.ends_at = min(series.ends_at or now, now)
    follow_series(session, settings, series, now)
    audit.record(session, actor, "end", "series", series.id, client_id=series.client_id, via=via)


def restore_series(
    session: Session,
    settings: Settings,
    actor: User | None,
    series: AppointmentSeries,
    now: datetime,
    *,
    via: str,
) -> None:
    """Undo ``end_series`` on a (locked) series: its end comes back, and with it its future
    occurrences and their texts. ``Refused`` once ``schedule_reads.restorable`` says no."""
    if not schedule_reads.restorable(series, now):
        raise Refused("the series can no longer be restored: its next session has passed")
    series.ends_at = series.ends_at_before_end
    series.ended_at = series.ends_at_before_end = None
    follow_series(session, settings, series, now)
    audit.record(
        session, actor, "restore", "series", series.id, client_id=series.client_id, via=via
    )


def book_appointment(
    session: Session,
    settings: Settings,
    actor: User | None,
    client: Client,
    *,
    starts_at: datetime,
    duration: int,
    status: str,
    now: datetime,
    via: str,
    confirm_overlap: bool = False,
) -> Appointment:
    """Book one appointment for a (locked) client (a past one recorded as completed gets its
    check-ins)."""
    refused = status_changes.new_status_refusal(status, starts_at, now)
    if refused is not None:
        raise Refused(refused)
    span = (starts_at, starts_at + timedelta(minutes=duration))
    _check_time(session, client, status, span, now, confirm_overlap=confirm_overlap)
    appointment = Appointment(
        client_id=client.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=duration),
        status=status,
    )
    session.add(appointment)
    session.flush()
    audit.record(
        session, actor, "create", "appointment", appointment.id, client_id=client.id, via=via
    )
    if status in UPCOMING:  # a past session recorded as done answers no request
        alerts.close_reschedule_requests(session, client.id, "a session was booked", now)
    planner.replan_client(session, settings, client.id, now)
    return appointment


def change_appointment(
    session: Session,
    settings: Settings,
    actor: User | None,
    appointment: Appointment,
    now: datetime,
    *,
    status: str | None = None,
    starts_at: datetime | None = None,
    duration: int | None = None,
    via: str,
    confirm_overlap: bool = False,
    notify: bool = False,
) -> list[int]:
    """Move, re-time or give a (checked) status to one (locked) appointment, then re-plan
    its client and, with ``notify``, tell it of a move or cancellation (the ids of the
    notices queued). The appointment leaves its series' edits from then on (``detached``)."""
    before, old_start = appointment.status, appointment.starts_at
    refused = feed_owned.refusal(appointment.feed_id, via, status, starts_at, duration) or (
        status and status_changes.refusal(before, status, starts_at or appointment.starts_at, now)
    )
    if refused:
        raise Refused(refused, feed_owned.field_of(refused, starts_at))
    moved = starts_at is not None and starts_at != old_start
    if moved and before == AppointmentStatus.CONFIRMED and status is None:
        status = AppointmentStatus.SCHEDULED  # the client confirmed the old time
    length = (
        timedelta(minutes=duration) if duration else appointment.ends_at - appointment.starts_at
    )
    if moved or (duration is not None and length != appointment.ends_at - old_start):
        start = starts_at or old_start
        _check_time(
            session,
            appointment.client,
            status or before,
            (start, start + length),
            now,
            changing=appointment.id,
            moved=moved,
            confirm_overlap=confirm_overlap,
        )
    if moved:
        alerts.close_reschedule_requests(session, appointment.client_id, "session moved", now)
    entry = _apply_change(session, actor, appointment, status, starts_at, duration, length, via)
    planner.replan_client(session, settings, appointment.client_id, now)
    if not notify:
        return []
    return notices.queue_for_change(session, settings, appointment, before, old_start, entry, now)


def _apply_change(
    session: Session,
    actor: User | None,
    appointment: Appointment,
    status: str | None,
    starts_at: datetime | None,
    duration: int | None,
    length: timedelta,
    via: str,
) -> AuditEntry:
    """Write a checked change to the appointment, and its audit entry."""
    before = appointment.status
    changed = (("starts_at", starts_at), ("duration_minutes", duration))
    fields = [name for name, value in changed if value is not None]
    detail: dict[str, Any] = {}
    if starts_at is not None:  # the notices read where it moved from (notices.told_start)
        detail = {"moved_from": str(appointment.starts_at), "moved_to": str(starts_at)}
        appointment.starts_at = starts_at
    appointment.ends_at = appointment.starts_at + length
    if status is not None:
        appointment.status = status
        fields.append("status")
        detail |= {"before": before, "after": status}
    appointment.detached = True
    return audit.record(
        session,
        actor,
        "move" if starts_at is not None or duration is not None else "status",
        "appointment",
        appointment.id,
        client_id=appointment.client_id,
        fields=fields,
        via=via,
        **detail,
    )


def attach_to_feed(
    session: Session,
    actor: User | None,
    appointment: Appointment,
    feed_id: int,
    uid: str,
    instance: str,
    *,
    via: str,
) -> None:
    """Make a (locked) appointment the session of a feed's instance (``feed_id``, its
    event's ``uid`` and ``instance``): a session booked for it, a kept one adopted, or one
    re-keyed when its event carries on under a new UID. From then on the feed owns its
    time and status (``domain.feed_owned``). One audit entry (``attach_feed``), unless
    nothing changed; the event's key stays out of it (the feed's is private)."""
    before = (appointment.feed_id, appointment.feed_uid, appointment.feed_instance)
    after = (feed_id, uid, instance)
    changed = [n for n, b, a in zip(FEED_KEY, before, after, strict=True) if b != a]
    if not changed:
        return
    appointment.feed_id, appointment.feed_uid, appointment.feed_instance = after
    audit.record(
        session,
        actor,
        "attach_feed",
        "appointment",
        appointment.id,
        client_id=appointment.client_id,
        fields=changed,
        feed_id=feed_id,
        via=via,
    )


def detach_from_feed(
    session: Session, actor: User | None, appointment: Appointment, *, via: str
) -> None:
    """Make a (locked) appointment an ordinary session again: no feed owns it (a person may
    move or cancel it) and no later reading of a feed adopts it. One audit entry
    (``detach_feed``, naming the feed it left), unless it had no feed's key."""
    if appointment.feed_id is None and appointment.feed_uid is None:
        return
    left = appointment.feed_id
    appointment.feed_id = appointment.feed_uid = appointment.feed_instance = None
    audit.record(
        session,
        actor,
        "detach_feed",
        "appointment",
        appointment.id,
        client_id=appointment.client_id,
        fields=list(FEED_KEY),
        feed_id=left,
        via=via,
    )
