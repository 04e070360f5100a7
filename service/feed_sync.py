"""Applying a calendar feed's instances to the therapist's appointments.

Each instance whose title names exactly one of the therapist's clients (by calendar name:
``domain.calendar_names``), and whose title was not ignored, is one appointment, keyed by
(feed, UID, instance): a later fetch finds it again and never books it twice. Every
change goes through ``service.bookings``, the schedule's one write path, as ``via``
"calendar_feed": a new instance is booked, a moved one moved and a cancelled one
cancelled (telling the client, as a move in the dashboard does), and one to come that is
no longer in the feed is cancelled. Sessions that have started are history: the feed
never changes them. Titles that name no client, or several, are returned for the page
where the therapist links or ignores them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings
from service.config import Settings
from service.db import lock
from service.domain import calendar_names
from service.domain.calendar_events import EventInstance
from service.domain.feed_owned import FEED_VIA
from service.domain.vocabulary import UPCOMING, AppointmentStatus, FeedTitleState
from service.feed_models import CalendarFeed, FeedTitle
from service.models import Appointment, Client

log = logging.getLogger(__name__)
Key = tuple[str, str]


@dataclass
class SyncCounts:
    """What one application of a feed did, and the titles it could not place."""

    booked: int = 0
    moved: int = 0
    cancelled: int = 0
    restored: int = 0
    refused: int = 0
    unmatched: set[str] = field(default_factory=set)
    ambiguous: set[str] = field(default_factory=set)


def calendar_names_of(session: Session, therapist_id: int) -> dict[int, str]:
    """The therapist's clients by id, with the name their calendar events carry."""
    clients = session.scalars(select(Client).where(Client.therapist_id == therapist_id))
    return {c.id: c.calendar_name or calendar_names.default_name(c.name) for c in clients}


def ignored_titles(session: Session, therapist_id: int) -> set[str]:
    """The (normalized) titles the therapist chose to ignore."""
    return set(
        session.scalars(
            select(FeedTitle.title).where(
                FeedTitle.therapist_id == therapist_id,
                FeedTitle.state == FeedTitleState.IGNORED,
            )
        )
    )


def apply(
    session: Session,
    settings: Settings,
    feed: CalendarFeed,
    instances: Iterable[EventInstance],
    now: datetime,
) -> SyncCounts:
    """Make the feed's future appointments what ``instances`` (every instance the feed
    holds in the window it was expanded for) say. Nothing is committed."""
    counts = SyncCounts()
    names = calendar_names_of(session, feed.therapist_id)
    ignored = ignored_titles(session, feed.therapist_id)
    seen: set[Key] = set()
    for instance in instances:
        seen.add((instance.uid, instance.recurrence_id))
        if calendar_names.normalized(instance.title) in ignored:
            continue
        found = calendar_names.match(instance.title, names)
        if found.client_id is None:
            (counts.ambiguous if found.ambiguous else counts.unmatched).add(instance.title)
            continue
        try:
            _follow(session, settings, feed, instance, found.client_id, now, counts)
        except (bookings.Refused, bookings.Overlap) as refused:
            counts.refused += 1
            log.info("feed %s: an instance was not applied (%s)", feed.id, refused)
    _cancel_missing(session, settings, feed, seen, now, counts)
    return counts


def _existing(session: Session, feed_id: int, key: Key) -> Appointment | None:
    """The appointment booked for this instance of the feed, if any."""
    return session.scalar(
        select(Appointment).where(
            Appointment.feed_id == feed_id,
            Appointment.feed_uid == key[0],
            Appointment.feed_instance == key[1],
        )
    )


def _follow(
    session: Session,
    settings: Settings,
    feed: CalendarFeed,
    instance: EventInstance,
    client_id: int,
    now: datetime,
    counts: SyncCounts,
) -> None:
    """Book, move, cancel or restore the appointment of one matched instance."""
    found = _existing(session, feed.id, (instance.uid, instance.recurrence_id))
    if found is None:
        if not instance.cancelled and instance.starts_at > now:
            _book(session, settings, feed, instance, client_id, now)
            counts.booked += 1
        return
    appointment = bookings.lock_appointment(session, found.id)
    if appointment is None or appointment.starts_at <= now:
        return  # gone, or begun: the feed never rewrites what happened
    change = _change(session, settings, appointment, now)
    if instance.cancelled:
        if appointment.status in UPCOMING:
            change(status=AppointmentStatus.CANCELLED)
            counts.cancelled += 1
        return
    if appointment.status == AppointmentStatus.CANCELLED:
        change(status=AppointmentStatus.SCHEDULED)
        counts.restored += 1
    if (appointment.starts_at, appointment.ends_at) != (instance.starts_at, instance.ends_at):
        change(starts_at=instance.starts_at, duration=_minutes(instance))
        counts.moved += 1


def _book(
    session: Session,
    settings: Settings,
    feed: CalendarFeed,
    instance: EventInstance,
    client_id: int,
    now: datetime,
) -> None:
    """Book the appointment of a new instance, marked with its feed and key."""
    client = lock(session, Client, client_id)
    if client is None:
        return
    appointment = bookings.book_appointment(
        session,
        settings,
        None,
        client,
        starts_at=instance.starts_at,
        duration=_minutes(instance),
        status=AppointmentStatus.SCHEDULED,
        now=now,
        via=FEED_VIA,
        confirm_overlap=True,  # the practice's own calendar says so
    )
    appointment.feed_id, appointment.feed_uid = feed.id, instance.uid
    appointment.feed_instance = instance.recurrence_id


def _change(
    session: Session, settings: Settings, appointment: Appointment, now: datetime
) -> Callable[..., None]:
    """A change of this appointment as the feed makes it: through the write path, the
    client told as after a move or cancellation in the dashboard."""

    def change(**what: Any) -> None:
        bookings.change_appointment(
            session,
            settings,
            None,
            appointment,
            now,
            via=FEED_VIA,
            confirm_overlap=True,
            notify=True,
            **what,
        )

    return change


def _cancel_missing(
    session: Session,
    settings: Settings,
    feed: CalendarFeed,
    seen: set[Key],
    now: datetime,
    counts: SyncCounts,
) -> None:
    """Cancel the feed's appointments to come whose instance is no longer in the feed."""
    for appointment_id in upcoming_ids(session, feed.id, now):
        appointment = bookings.lock_appointment(session, appointment_id)
        if appointment is None or appointment.starts_at <= now:
            continue
        if (appointment.feed_uid or "", appointment.feed_instance or "") in seen:
            continue
        _change(session, settings, appointment, now)(status=AppointmentStatus.CANCELLED)
        counts.cancelled += 1


def _minutes(instance: EventInstance) -> int:
    """The instance's length in whole minutes (at least one)."""
    return max(1, int((instance.ends_at - instance.starts_at).total_seconds() // 60))


def upcoming_ids(session: Session, feed_id: int, now: datetime) -> Sequence[int]:
    """The ids of the feed's appointments still to come (not yet begun, not ended)."""
    return session.scalars(
        select(Appointment.id).where(
            Appointment.feed_id == feed_id,
            Appointment.starts_at > now,
            Appointment.status.in_(UPCOMING),
        )
    ).all()
