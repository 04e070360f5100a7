"""Instants shown to people: always in a named zone, worded the same on every machine.

Formats are spelled out here rather than taken from the process locale, so a server set to
another language still shows "Thu Mar 4, 9:00 AM".
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local(at: datetime, tz: str) -> datetime:
    """The instant as wall-clock time in ``tz``."""
    return at.astimezone(ZoneInfo(tz))


def clock(at: datetime | None, tz: str) -> str:
    """The time of day, like ``9:05 AM``."""
    if at is None:
        return ""
    here = local(at, tz)
    hour = here.hour % 12 or 12
    return f"{hour}:{here.minute:02d} {'AM' if here.hour < 12 else 'PM'}"


def short_date(day: date) -> str:
    """A date like ``Thu Mar 4``."""
    return f"{DAYS[day.weekday()]} {MONTHS[day.month - 1]} {day.day}"


def long_date(day: date) -> str:
    """A date like ``Thursday, Mar 4``."""
    return f"{LONG_DAYS[day.weekday()]}, {MONTHS[day.month - 1]} {day.day}"


def when(at: datetime | None, tz: str, *, year: bool = False) -> str:
    """Date and time, like ``Thu Mar 4, 9:05 AM`` (with the year when asked)."""
    if at is None:
        return ""
    here = local(at, tz)
    stamp = short_date(here.date()) + (f" {here.year}" if year else "")
    return f"{stamp}, {clock(at, tz)}"


def day_of(at: datetime | None, tz: str) -> str:
    """The local date alone, like ``Mar 4``."""
    if at is None:
        return ""
    here = local(at, tz)
    return f"{MONTHS[here.month - 1]} {here.day}"


def iso(at: datetime | None, tz: str) -> str:
    """ISO 8601 with the zone's offset, for ``<time datetime>`` and exports."""
    return local(at, tz).isoformat(timespec="minutes") if at is not None else ""


def input_value(at: datetime | None, tz: str) -> str:
    """The value a ``datetime-local`` field shows for this instant."""
    return local(at, tz).strftime("%Y-%m-%dT%H:%M") if at is not None else ""


def zone_label(at: datetime, tz: str) -> str:
    """The zone's abbreviation at that instant, like ``EST``."""
    return local(at, tz).tzname() or tz
