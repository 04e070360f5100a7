"""The practice's sessions as an iCalendar feed (RFC 5545) that Google Calendar, Apple
Calendar and Outlook can subscribe to: plain data in, the feed's text out.

Minimum necessary: an event says who (first name and last initial, or initials only: the
client's default calendar name, ``calendar_names``, never the one a therapist saved, which
is free text), when, in which zone, and links to the client's page, which asks for a
sign-in. It never carries a phone number, a note, a pain score or anything clinical.

The text depends only on the data given (no clock read), so an unchanged schedule gives
the same bytes and the same ETag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText

from service.domain.calendar_names import default_name, initials
from service.domain.vocabulary import AppointmentStatus

PRODID = "-//TouchBase//Calendar feed//EN"
# How often a calendar app is asked to fetch again (Apple and Outlook read these).
REFRESH = timedelta(minutes=15)
FALLBACK_TITLE = "Session"


@dataclass(frozen=True)
class FeedSession:
    """One appointment as the feed shows it: only what the calendar needs."""

    id: int
    client_name: str
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    timezone: str  # IANA name: the series' zone, else the client's
    status: str
    created_at: datetime
    updated_at: datetime
    link: str  # the client's page, absolute


def calendar_title(name: str, *, initials_only: bool = False) -> str:
    """An event's title for a client: "Maria G." (first name, last initial: the client's
    default calendar name, ``calendar_names.default_name``), or "M. G." with
    ``initials_only``; a one-word name stays as it is ("Cher", or "C."), and a name
    without a letter gives "Session"."""
    title = initials(name) if initials_only else default_name(name)
    return title or FALLBACK_TITLE


def _status(status: str) -> str:
    """The event's STATUS: a cancelled session is CANCELLED (calendar apps strike it out or
    drop it); any other booked session holds its time, CONFIRMED."""
    return "CANCELLED" if status == AppointmentStatus.CANCELLED else "CONFIRMED"


def _event(item: FeedSession, host: str, initials_only: bool) -> Event:
    """One VEVENT: a UID that never changes for the appointment, and a SEQUENCE and
    LAST-MODIFIED that grow with each change so calendar apps take a move."""
    zone = ZoneInfo(item.timezone)
    event = Event()
    event.add("uid", f"appointment-{item.id}@{host}")
    event.add("dtstamp", item.updated_at)
    event.add("last-modified", item.updated_at)
    event.add("created", item.created_at)
    event.add("sequence", max(0, int((item.updated_at - item.created_at).total_seconds())))
    event.add("dtstart", item.starts_at.astimezone(zone))
    event.add("dtend", item.ends_at.astimezone(zone))
    event.add("summary", calendar_title(item.client_name, initials_only=initials_only))
    event.add("description", f"Client page (sign-in needed): {item.link}")
    event.add("url", item.link)
    event.add("status", _status(item.status))
    event.add("class", "PRIVATE")
    event.add("transp", "OPAQUE")
    return event


def build_feed(
    sessions: Iterable[FeedSession], *, name: str, host: str, initials_only: bool
) -> bytes:
    """The feed's text (UTF-8, CRLF, folded): a VCALENDAR named ``name`` with one VEVENT
    per session, in order, and a VTIMEZONE for each zone the events use."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", vText(name))  # an X- property: escaped as text
    calendar.add("x-published-ttl", "PT15M")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    for item in sorted(sessions, key=lambda s: (s.starts_at, s.id)):
        calendar.add_component(_event(item, host, initials_only))
    calendar.add_missing_timezones()
    text: bytes = calendar.to_ical()
    return text
