"""Whose session a calendar feed's instance is, and which kept session it already is.

A title is placed in this order: a title the therapist linked (``feed_titles``, state
"linked", compared normalized) is that client's while the client is still the feed's
therapist's, however many calendar names it holds ("Maria G." linked to Maria Garcia is
hers although Maria Gomez is also "Maria G."); a title the therapist ignored is no one's;
any other names the one client whose calendar name it holds (``domain.calendar_names``).

A feed removed with its sessions kept leaves them as ordinary sessions that still carry
their event's UID and instance. When the same calendar is followed again, an instance
with no session of this feed first adopts such a kept session of the therapist's, which
then follows the feed as before, instead of being booked a second time. Only a session
still to come and still on (``UPCOMING``) is adopted: one cancelled (by removing the feed
with its sessions, or by the therapist since) was called off and its client told so; the
feed never brings it back. Its instance is then booked as a new session, as any instance
of a newly followed calendar is: the calendar the therapist follows again is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings
from service.domain import calendar_names
from service.domain.vocabulary import FEED_VIA, UPCOMING, FeedTitleState
from service.feed_models import CalendarFeed, FeedTitle
from service.models import Appointment, Client

Key = tuple[str, str]


@dataclass(frozen=True)
class Titles:
    """What places a therapist's titles: calendar names by client id, and the
    (normalized) titles ignored and linked (to a client id)."""

    names: dict[int, str]
    ignored: set[str]
    linked: dict[str, int]

    def place(self, title: str) -> calendar_names.Match | None:
        """The client this title names (``Match``), or None when it is ignored."""
        normal = calendar_names.normalized(title)[:200]
        if normal in self.linked:
            client_id = self.linked[normal]
            return calendar_names.Match(client_id, (client_id,))
        if normal in self.ignored:
            return None
        return calendar_names.match(title, self.names)


def titles_of(session: Session, therapist_id: int) -> Titles:
    """The therapist's calendar names and decisions about titles."""
    clients = session.scalars(select(Client).where(Client.therapist_id == therapist_id))
    names = {c.id: calendar_names.name_in_use(c.calendar_name, c.name) for c in clients}
    decided = session.execute(
        select(FeedTitle.title, FeedTitle.state, FeedTitle.client_id).where(
            FeedTitle.therapist_id == therapist_id
        )
    ).all()
    ignored = {t for t, state, _ in decided if state == FeedTitleState.IGNORED}
    linked = {
        t: c
        for t, state, c in decided
        if state == FeedTitleState.LINKED and c is not None and c in names
    }
    return Titles(names, ignored, linked)


def kept_of(session: Session, therapist_id: int, now: datetime) -> dict[Key, int]:
    """The therapist's sessions to come, not cancelled, kept from removed feeds, by their
    event's key (the first booked when several carry one)."""
    rows = session.execute(
        select(Appointment.feed_uid, Appointment.feed_instance, Appointment.id)
        .join(Client, Client.id == Appointment.client_id)
        .where(
            Client.therapist_id == therapist_id,
            Appointment.feed_id.is_(None),
            Appointment.feed_uid.is_not(None),
            Appointment.starts_at > now,
            Appointment.status.in_(UPCOMING),
        )
        .order_by(Appointment.id.desc())
    )
    return {(uid or "", instance or ""): ident for uid, instance, ident in rows}


def adopt(session: Session, feed: CalendarFeed, appointment_id: int) -> int | None:
    """Make a kept session (``kept_of``) this feed's again (audited); its id, or None when
    gone, taken or no longer on."""
    appointment = bookings.lock_appointment(session, appointment_id)
    if appointment is None or appointment.feed_id is not None:
        return None
    if appointment.status not in UPCOMING:
        return None
    uid, instance = appointment.feed_uid or "", appointment.feed_instance or ""
    bookings.attach_to_feed(session, None, appointment, feed.id, uid, instance, via=FEED_VIA)
    return appointment.id
