"""The sessions an iCalendar feed holds: its events expanded into plain instances.

A feed is what Google Calendar, Outlook, Apple Calendar or a practice system publishes:
recurring events (RRULE, RDATE, EXDATE), instances moved or cancelled on their own
(RECURRENCE-ID overrides), time zones given as VTIMEZONE blocks, as Windows names
("W. Europe Standard Time") or as Google's X-WR-TIMEZONE with floating times. The
libraries ``icalendar``, ``recurring-ical-events`` and ``x-wr-timezone`` do the reading;
this module keeps what a massage session can be: timed events of at most 12 hours
(all-day events and longer ones are not sessions), each instance keyed by its event's UID
and its original start, so that a feed read again names the same instance the same way.

A TZID that is neither an IANA name, nor a Windows name, nor defined by a VTIMEZONE
block is not read as UTC: ``icalendar`` leaves such a time floating, and a floating time
is read in the calendar's X-WR-TIMEZONE, else in the practice's zone (``floating``), as
the person who typed it meant wall-clock time where the practice is. A feed is read over
a long window (``feed_sync.window``), so an unbounded rule could mean millions of
instances: a feed with more than ``MOST_INSTANCES`` in the window is refused as
unreadable ("too many events") before they are all computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
import x_wr_timezone

LONGEST = timedelta(hours=12)
# In one window (about 7 months: ``feed_sync.window``), all events together: a calendar
# shared by several therapists, full-time, holds under 10,000.
MOST_INSTANCES = 20_000
TOO_OFTEN = {"SECONDLY", "MINUTELY", "HOURLY"}  # unbounded, always beyond MOST_INSTANCES
UNTIMED_LENGTH = timedelta(hours=1)  # an event with no end or length: RFC 5545 says zero


READ_FROM = {  # the properties a session is read from, in the practice's words
    "DTSTART": "start time",
    "DTEND": "end time",
    "DURATION": "length",
    "RRULE": "repeat rule",
    "EXRULE": "exception rule",
    "RDATE": "added dates",
    "EXDATE": "removed dates",
    "RECURRENCE-ID": "original date",
}
NOT_EXPANDED = "an event could not be expanded (a date, length or repeat rule is malformed)"


class UnreadableCalendar(ValueError):
    """The text is not an iCalendar feed TouchBase can read; the message says why, in our
    words, quoting nothing of the feed."""


@dataclass(frozen=True)
class EventInstance:
    """One session as the feed shows it: ``recurrence_id`` is the instance's original
    start (ISO, UTC) for an instance of a recurring event and "" for a single event;
    ``starts_at`` and ``ends_at`` are aware UTC times."""

    uid: str
    recurrence_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool


def read(text: str | bytes) -> icalendar.Calendar:
    """The calendar in ``text``, with Google's X-WR-TIMEZONE applied to its floating times.
    ``UnreadableCalendar`` when it is not one (not iCalendar, cut short, malformed)."""
    raw = text.encode() if isinstance(text, str) else text
    if b"BEGIN:VCALENDAR" not in raw[:1024].upper():
        raise UnreadableCalendar("this is not an iCalendar file (no BEGIN:VCALENDAR)")
    if b"END:VCALENDAR" not in raw[-1024:].upper():
        raise UnreadableCalendar("the calendar is cut short (no END:VCALENDAR)")
    try:
        calendar = icalendar.Calendar.from_ical(raw)
        standard: icalendar.Calendar = x_wr_timezone.to_standard(calendar)
    except Exception as exc:  # the libraries raise many types on malformed input
        raise UnreadableCalendar("the calendar could not be read (a line is malformed)") from exc
    return standard


def expand(
    text: str | bytes, start: datetime, end: datetime, floating: tzinfo
) -> list[EventInstance]:
    """The session instances of the feed that start in [start, end), by start time.

    ``floating`` is the zone of times the feed gives without one (or with an unknown
    TZID, and without X-WR-TIMEZONE): the practice's. ``UnreadableCalendar`` for a bad
    feed or event, or one with more than ``MOST_INSTANCES`` instances in the window.
    """
    calendar = read(text)
    _refuse_broken(calendar)
    occurrences = _occurrences(calendar, start, end)
    repeating = {
        str(e.get("UID", "")).strip()
        for e in calendar.walk("VEVENT")
        if e.get("RRULE") or e.get("RDATE") or e.get("RECURRENCE-ID")
    }
    found: dict[tuple[str, str], EventInstance] = {}
    for event in occurrences:
        try:
            instance = _instance(event, floating, repeating)
        except Exception as exc:  # a value the libraries read only when asked for it
            raise UnreadableCalendar(NOT_EXPANDED) from exc
        if instance is not None and start <= instance.starts_at < end:
            found[(instance.uid, instance.recurrence_id)] = instance
    return sorted(found.values(), key=lambda i: (i.starts_at, i.uid, i.recurrence_id))


def _occurrences(calendar: icalendar.Calendar, start: datetime, end: datetime) -> list[Any]:
    """Every expanded VEVENT in the window, counted as they are computed (one series'
    instances are generated lazily), so a runaway rule stops at ``MOST_INSTANCES``."""
    found: list[Any] = []
    try:
        endless = any(_endless_and_frequent(e) for e in calendar.walk("VEVENT"))
    except Exception as exc:  # a repeat rule that cannot be read
        raise UnreadableCalendar(NOT_EXPANDED) from exc
    if endless:
        raise UnreadableCalendar(_too_many(start, end))  # before computing millions of them
    try:
        for series in recurring_ical_events.of(calendar).series:
            for occurrence in series.between(start, end):
                found.append(occurrence.as_component(False))
                if len(found) > MOST_INSTANCES:
                    raise UnreadableCalendar(_too_many(start, end))
    except UnreadableCalendar:
        raise
    except Exception as exc:  # a bad RRULE or date deep in one event
        raise UnreadableCalendar(NOT_EXPANDED) from exc
    return found


def _refuse_broken(calendar: icalendar.Calendar) -> None:
    """``UnreadableCalendar`` naming the first property a session is read from that the
    library could not parse (kept as ``vBroken``), by its name, never its value."""
    for event in calendar.walk("VEVENT"):
        for name, what in READ_FROM.items():
            values = event.get(name)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, icalendar.vBroken):
                    raise UnreadableCalendar(f"an event's {what} ({name}) cannot be read")


def _endless_and_frequent(event: Any) -> bool:
    """Whether the event repeats at least hourly with no COUNT or UNTIL to end it."""
    rules = event.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules else []:
        frequency = str((rule.get("FREQ") or [""])[0]).upper()
        if frequency in TOO_OFTEN and not rule.get("COUNT") and not rule.get("UNTIL"):
            return True
    return False


def _too_many(start: datetime, end: datetime) -> str:
    """Why a feed with too many instances is refused."""
    return (
        f"too many events: more than {MOST_INSTANCES} in the {(end - start).days} days "
        "read (a rule repeating too often?)"
    )


def _instance(event: Any, floating: tzinfo, repeating: set[str]) -> EventInstance | None:
    """One expanded VEVENT as an instance, or None when it is no session (all-day, longer
    than 12 hours, no UID)."""
    begins = event.get("DTSTART")
    if begins is None or not isinstance(begins.dt, datetime):
        return None  # an all-day event (a date) is a holiday or a note, not a session
    starts_at = _utc(begins.dt, floating)
    ends = event.get("DTEND")
    if ends is not None and isinstance(ends.dt, datetime):
        ends_at = _utc(ends.dt, floating)
    elif event.get("DURATION") is not None:
        ends_at = starts_at + event["DURATION"].dt
    else:
        ends_at = starts_at
    if ends_at <= starts_at:
        ends_at = starts_at + UNTIMED_LENGTH
    uid = str(event.get("UID", "")).strip()
    if not uid or ends_at - starts_at > LONGEST:
        return None
    return EventInstance(
        uid=uid[:255],
        recurrence_id=_recurrence_id(event, floating) if uid in repeating else "",
        title=str(event.get("SUMMARY", "")).strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        cancelled=str(event.get("STATUS", "")).upper() == "CANCELLED",
    )


def _recurrence_id(event: Any, floating: tzinfo) -> str:
    """The instance's key within its recurring event: its original start in UTC."""
    original = event.get("RECURRENCE-ID")
    when = original.dt if original is not None else event["DTSTART"].dt
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=floating)
    return _utc(when, floating).isoformat()


def _utc(when: datetime, floating: tzinfo) -> datetime:
    """An aware UTC time; a floating one is read in ``floating``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=floating)
    return when.astimezone(UTC)
