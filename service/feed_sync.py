"""Applying a calendar feed's instances to the therapist's appointments.

Each instance whose title names one of the therapist's clients (``feed_matching``: a
linked title first, then the calendar names; an ignored title names no one) is one
appointment, keyed by (feed, UID, instance): a later fetch finds it again and never books
it twice. Every change goes through ``service.bookings``, the schedule's one write path,
as ``via`` "calendar_feed", telling the client of a move or cancellation as a move in
the dashboard does. Sessions that have begun are history: the feed never changes them.

The feed is read over a window (``window``) much wider than the one sessions are booked
in: new instances are booked only within the planning horizon, but an appointment whose
instance is anywhere in the window follows it, moved even beyond the horizon (its texts
are planned when it comes near), so moving a session a few months on is a move, not a
cancellation and a new booking. A session to come whose instance is nowhere in the window
is cancelled, unless a new instance of the same client on the same local day took its
place (``domain.feed_pairing``: Google's "this and following events" gives the rest of a
series a new UID): then the session takes the new key, and moves if the time differs.
An instance already booked is followed whatever its title now says (a renamed "Maria G.
??" is still Maria's), unless the title names exactly one other client: then the first
client's session is cancelled (told) and the other's booked. An instance moved into the
past leaves its session to come as it is (counted refused): a session is never moved to
a time already gone. A kept session of a removed feed, still to come and not cancelled, is
adopted, not booked twice (``feed_matching.adopt``). Every change of which feed and event
a session is (booked, adopted, re-keyed, handed over) is ``bookings.attach_to_feed`` or
``detach_from_feed``: audited. Titles that name no client, or several, of every instance
starting between now and the planning horizon (to book, already booked or cancelled: a
title is decided once for all its events) are returned for the page where the therapist
links or ignores them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings
from service.config import Settings
from service.db import lock
from service.domain import feed_pairing
from service.domain.calendar_events import EventInstance
from service.domain.vocabulary import FEED_VIA, UPCOMING, AppointmentStatus
from service.feed_matching import Key, adopt, kept_of, titles_of
from service.feed_models import CalendarFeed
from service.models import Appointment, Client

log = logging.getLogger(__name__)
LOOKBACK = timedelta(days=31)  # an instance moved into the recent past is still seen
MARGIN = timedelta(days=183)  # and one moved up to half a year beyond the horizon


@dataclass
class SyncCounts:
    """What one application of a feed did, and the titles it could not place."""

    booked: int = 0
    moved: int = 0
    cancelled: int = 0
    restored: int = 0
    refused: int = 0
    rekeyed: int = 0
    unmatched: set[str] = field(default_factory=set)
    ambiguous: set[str] = field(default_factory=set)


@dataclass
class _Run:
    """One application: its feed, time, limits and what it found along the way."""

    session: Session
    settings: Settings
    feed: CalendarFeed
    now: datetime
    counts: SyncCounts = field(default_factory=SyncCounts)
    seen: set[Key] = field(default_factory=set)
    fresh: list[tuple[EventInstance, int]] = field(default_factory=list)

    @property
    def book_until(self) -> datetime:
        """New instances are booked up to the planning horizon."""
        return self.now + timedelta(days=self.settings.planning_horizon_days)

    def attempt(self, step: Callable[[], None]) -> None:
        """Do one change; one the write path refuses is counted and logged, not raised."""
        try:
            step()
        except (bookings.Refused, bookings.Overlap) as refused:
            self.counts.refused += 1
            log.info("feed %s: an instance was not applied (%s)", self.feed.id, refused)


def window(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """The span a feed is read over (``calendar_events.expand``): from ``LOOKBACK`` before
    now to ``MARGIN`` beyond the planning horizon."""
    return now - LOOKBACK, now + timedelta(days=settings.planning_horizon_days) + MARGIN


def apply(
    session: Session,
    settings: Settings,
    feed: CalendarFeed,
    instances: Iterable[EventInstance],
    now: datetime,
) -> SyncCounts:
    """Make the feed's future appointments what ``instances`` (every instance the feed
    holds in ``window``) say. Nothing is committed."""
    run = _Run(session, settings, feed, now)
    titles = titles_of(session, feed.therapist_id)
    booked, kept = _booked(session, feed.id), kept_of(session, feed.therapist_id, now)
    for instance in instances:
        key = (instance.uid, instance.recurrence_id)
        run.seen.add(key)
        found = titles.place(instance.title)
        client_id = found.client_id if found is not None else None
        if found is not None and client_id is None and now < instance.starts_at < run.book_until:
            (run.counts.ambiguous if found.ambiguous else run.counts.unmatched).add(instance.title)
        appointment_id = booked.get(key) or (
            adopt(session, feed, kept[key]) if key in kept else None
        )
        if appointment_id is not None:
            run.attempt(partial(_follow, run, appointment_id, instance, client_id))
        elif client_id is not None and not instance.cancelled and instance.starts_at > now:
            run.fresh.append((instance, client_id))
    _settle(run)
    return run.counts


def _booked(session: Session, feed_id: int) -> dict[Key, int]:
    """The feed's appointments (their ids), by their instance's key."""
    rows = session.execute(
        select(Appointment.feed_uid, Appointment.feed_instance, Appointment.id).where(
            Appointment.feed_id == feed_id
        )
    )
    return {(uid or "", instance or ""): ident for uid, instance, ident in rows}


def _follow(run: _Run, appointment_id: int, instance: EventInstance, client: int | None) -> None:
    """Move, cancel or restore the appointment of a booked instance (or hand it to the
    other client the title now names)."""
    appointment = bookings.lock_appointment(run.session, appointment_id)
    if appointment is None or appointment.starts_at <= run.now:
        return  # gone, or begun: the feed never rewrites what happened
    if client is not None and client != appointment.client_id:
        _hand_over(run, appointment, instance, client)
        return
    change, counts = _change(run, appointment), run.counts
    if instance.cancelled:
        if appointment.status in UPCOMING:
            change(status=AppointmentStatus.CANCELLED)
            counts.cancelled += 1
        return
    if instance.starts_at <= run.now:
        counts.refused += 1  # moved into the past: the session is left as it was
        return
    if appointment.status == AppointmentStatus.CANCELLED:
        change(status=AppointmentStatus.SCHEDULED)
        counts.restored += 1
    if (appointment.starts_at, appointment.ends_at) != (instance.starts_at, instance.ends_at):
        change(starts_at=instance.starts_at, duration=_minutes(instance))
        counts.moved += 1


def _hand_over(
    run: _Run, appointment: Appointment, instance: EventInstance, client_id: int
) -> None:
    """The title now names another client: the first one's session is cancelled (told)
    and leaves the feed; the instance is booked for the other, as a new one."""
    if appointment.status in UPCOMING:
        _change(run, appointment)(status=AppointmentStatus.CANCELLED)
        run.counts.cancelled += 1
    bookings.detach_from_feed(run.session, None, appointment, via=FEED_VIA)
    if not instance.cancelled:
        run.fresh.append((instance, client_id))


def _settle(run: _Run) -> None:
    """Pair the sessions that left the feed with new instances (re-keyed, moved if need
    be), cancel the rest of them, and book the new instances left within the horizon."""
    gone = _gone(run)
    slots = [
        feed_pairing.Slot(n, client_id, instance.starts_at, UTC)  # the gone one's zone counts
        for n, (instance, client_id) in enumerate(run.fresh)
    ]
    pairs = feed_pairing.pair(gone, slots)
    for slot in gone:
        if slot.ref in pairs:
            instance = run.fresh[pairs[slot.ref]][0]
            run.attempt(partial(_rekey, run, slot.ref, instance))
        else:
            run.attempt(partial(_cancel_gone, run, slot.ref))
    taken = set(pairs.values())
    for n, (instance, client_id) in enumerate(run.fresh):
        if n not in taken and instance.starts_at < run.book_until:
            run.attempt(partial(_book, run, instance, client_id))


def _gone(run: _Run) -> list[feed_pairing.Slot]:
    """The feed's sessions to come, within the window read, whose instance is not in it."""
    end = window(run.settings, run.now)[1]
    found = []
    for appointment in run.session.scalars(
        select(Appointment)
        .where(Appointment.id.in_(upcoming_ids(run.session, run.feed.id, run.now)))
        .order_by(Appointment.starts_at, Appointment.id)
    ):
        key = (appointment.feed_uid or "", appointment.feed_instance or "")
        if key not in run.seen and appointment.starts_at < end:
            zone = _zone(appointment.client.timezone, run.settings.practice_timezone)
            found.append(
                feed_pairing.Slot(
                    appointment.id, appointment.client_id, appointment.starts_at, zone
                )
            )
    return found


def _zone(name: str, practice: str) -> ZoneInfo:
    """The client's zone, or the practice's if the client's is unknown here."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return ZoneInfo(practice)


def _rekey(run: _Run, appointment_id: int, instance: EventInstance) -> None:
    """The session takes the key of the instance now in its place, and its time."""
    appointment = bookings.lock_appointment(run.session, appointment_id)
    if appointment is None or appointment.starts_at <= run.now:
        return
    _attach(run, appointment, instance)
    run.counts.rekeyed += 1
    if (appointment.starts_at, appointment.ends_at) != (instance.starts_at, instance.ends_at):
        _change(run, appointment)(starts_at=instance.starts_at, duration=_minutes(instance))
        run.counts.moved += 1


def _cancel_gone(run: _Run, appointment_id: int) -> None:
    """Cancel a session to come whose instance left the feed (the client told)."""
    appointment = bookings.lock_appointment(run.session, appointment_id)
    if appointment is None or appointment.starts_at <= run.now:
        return
    if appointment.status in UPCOMING:
        _change(run, appointment)(status=AppointmentStatus.CANCELLED)
        run.counts.cancelled += 1


def _book(run: _Run, instance: EventInstance, client_id: int) -> None:
    """Book the appointment of a new instance, marked with its feed and key."""
    client = lock(run.session, Client, client_id)
    if client is None:
        return
    appointment = bookings.book_appointment(
        run.session,
        run.settings,
        None,
        client,
        starts_at=instance.starts_at,
        duration=_minutes(instance),
        status=AppointmentStatus.SCHEDULED,
        now=run.now,
        via=FEED_VIA,
        confirm_overlap=True,  # the practice's own calendar says so
    )
    _attach(run, appointment, instance)
    run.counts.booked += 1


def _attach(run: _Run, appointment: Appointment, instance: EventInstance) -> None:
    """The appointment becomes the feed's session of this instance (audited)."""
    feed_id, uid, key = run.feed.id, instance.uid, instance.recurrence_id
    bookings.attach_to_feed(run.session, None, appointment, feed_id, uid, key, via=FEED_VIA)


def _change(run: _Run, appointment: Appointment) -> Callable[..., None]:
    """A change of this appointment as the feed makes it: through the write path, the
    client told as after a move or cancellation in the dashboard."""

    def change(**what: Any) -> None:
        bookings.change_appointment(
            run.session,
            run.settings,
            None,
            appointment,
            run.now,
            via=FEED_VIA,
            confirm_overlap=True,
            notify=True,
            **what,
        )

    return change


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
