"""A series' rule in the practice's words: the form's pickers, and the summary everyone reads.

The series form asks for days of the week, every how many weeks and how many sessions;
``build_rule`` turns those into the RRULE the schedule runs on, and ``read_rule`` turns a
stored rule back into pickers when they can say it (``None``: only "Advanced" can). A rule
without ``BYDAY`` falls on the first session's weekday, so a plain ``FREQ=WEEKLY`` reads as
that one day and one day picked on the first session's weekday writes no ``BYDAY``: a
series saved unchanged keeps its rule. ``read_words`` reads a rule typed in plain words
("every monday and thursday", "cada dos semanas, martes"). ``summary`` writes "Every Mon and
Thu at 10:00 AM, 60 min" in English or Spanish; the end date is passed in (a series' end
lives beside its rule, not in it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index == date.weekday()
MAX_EVERY = 52
MAX_COUNT = 500
_SHORT = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}
# Words a person may type for a weekday, accents removed; index == date.weekday().
_DAY_WORDS = (
    ("mon", "monday", "mondays", "lun", "lunes"),
    ("tue", "tues", "tuesday", "tuesdays", "mar", "martes"),
    ("wed", "wednesday", "wednesdays", "mie", "miercoles"),
    ("thu", "thur", "thurs", "thursday", "thursdays", "jue", "jueves"),
    ("fri", "friday", "fridays", "vie", "viernes"),
    ("sat", "saturday", "saturdays", "sab", "sabado", "sabados"),
    ("sun", "sunday", "sundays", "dom", "domingo", "domingos"),
)
_DAY_OF_WORD = {word: i for i, words in enumerate(_DAY_WORDS) for word in words}
_FILLER = {"every", "each", "and", "on", "week", "weeks", "weekly", "at", "the", "a"}
_FILLER |= {"cada", "y", "los", "las", "el", "la", "semana", "semanas", "todos", "todas"}
_OTHER = ("every other", "every second", "biweekly", "fortnightly", "cada dos semanas")
_EVERY_N = re.compile(r"\b(?:every|cada) (\d{1,2}) (?:weeks|semanas)\b")


@dataclass(frozen=True)
class Pickers:
    """What the series form asks: weekdays (``DAYS`` codes, week order; empty means the
    first session's weekday), every how many weeks, and how many sessions (None: no count)."""

    days: tuple[str, ...] = ()
    every: int = 1
    count: int | None = None


def _ordered(days: tuple[str, ...] | list[str] | set[str]) -> tuple[str, ...]:
    return tuple(d for d in DAYS if d in set(days))


def build_rule(pickers: Pickers, first_weekday: int) -> str:
    """The RRULE the pickers stand for, for a series whose first session falls on
    ``first_weekday`` (0 = Monday)."""
    days = _ordered(pickers.days) or (DAYS[first_weekday],)
    parts = ["FREQ=WEEKLY"]
    if pickers.every != 1:
        parts.append(f"INTERVAL={pickers.every}")
    if days != (DAYS[first_weekday],):
        parts.append("BYDAY=" + ",".join(days))
    if pickers.count is not None:
        parts.append(f"COUNT={pickers.count}")
    return ";".join(parts)


def _fields(rrule: str) -> dict[str, str] | None:
    """The rule's NAME=VALUE parts (upper case, without ``RRULE:``), or None when it has
    another shape or a name twice."""
    text = rrule.strip().upper().removeprefix("RRULE:")
    fields: dict[str, str] = {}
    for part in filter(None, text.split(";")):
        name, sep, value = part.partition("=")
        if not sep or not value or name in fields:
            return None
        fields[name.strip()] = value.strip()
    return fields


def _number(value: str | None, default: int, high: int) -> int | None:
    if value is None:
        return default
    return int(value) if value.isdigit() and 1 <= int(value) <= high else None


def read_rule(rrule: str, first_weekday: int) -> Pickers | None:
    """The pickers that build ``rrule`` (or an equivalent of it), or None when only a
    custom rule can say it."""
    fields = _fields(rrule)
    if fields is None or fields.pop("FREQ", None) != "WEEKLY":
        return None
    if fields.pop("WKST", "MO") != "MO":
        return None
    every = _number(fields.pop("INTERVAL", None), 1, MAX_EVERY)
    count_text = fields.pop("COUNT", None)
    count = _number(count_text, 1, MAX_COUNT) if count_text is not None else None
    codes = fields.pop("BYDAY", DAYS[first_weekday]).split(",")
    if fields or every is None or (count_text is not None and count is None):
        return None
    if any(code not in DAYS for code in codes) or len(set(codes)) != len(codes):
        return None
    return Pickers(_ordered(codes), every, count)


def read_words(text: str) -> Pickers | None:
    """Pickers from a rule typed in plain words ("every monday and thursday", "every other
    tue", "cada 3 semanas, lunes y jueves"), or None when a word is not understood."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = " ".join(re.sub(r"[,.;/&+]", " ", plain).split())
    every = 1
    for phrase in _OTHER:
        if phrase in plain:
            every, plain = 2, plain.replace(phrase, " ")
    found = _EVERY_N.search(plain)
    if found:
        every, plain = int(found.group(1)), plain.replace(found.group(0), " ")
    days: set[str] = set()
    for word in plain.split():
        if word in _DAY_OF_WORD:
            days.add(DAYS[_DAY_OF_WORD[word]])
        elif word not in _FILLER:
            return None
    if not days or not 1 <= every <= MAX_EVERY:
        return None
    return Pickers(_ordered(days), every)


def last_day(ends_at: datetime | None, timezone: str) -> date | None:
    """The last local day of a series that ends at ``ends_at`` (the midnight after that day,
    or the instant it was ended: either way the day before the end's last second)."""
    if ends_at is None:
        return None
    return (ends_at.astimezone(ZoneInfo(timezone)) - timedelta(seconds=1)).date()


def _clock(at: datetime, language: str) -> str:
    if language == "es":
        return f"{'a la' if at.hour == 1 else 'a las'} {at:%H:%M}"
    hour = at.hour % 12 or 12
    return f"at {hour}:{at:%M} {'AM' if at.hour < 12 else 'PM'}"


def _listed(words: list[str], language: str) -> str:
    last = " y " if language == "es" else " and "
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + last + words[-1]


def _weekly(pickers: Pickers, first_weekday: int, language: str) -> str:
    days = _ordered(pickers.days) or (DAYS[first_weekday],)
    named = _listed([_SHORT[language][DAYS.index(d)] for d in days], language)
    if language == "es":
        if pickers.every == 1:
            return f"Cada {named}"
        every = "dos" if pickers.every == 2 else str(pickers.every)
        return f"Cada {every} semanas, {named}"
    if pickers.every == 1:
        return f"Every {named}"
    if pickers.every == 2:
        return f"Every other {named}"
    return f"Every {pickers.every} weeks on {named}"


def _day(day: date, first: datetime, language: str) -> str:
    month = _MONTHS[language][day.month - 1]
    year = f" {day.year}" if day.year != first.year else ""
    if language == "es":
        return f"{day.day} {month}{year}"
    return f"{month} {day.day}{',' + year if year else ''}"


def rule_words(rrule: str, first_weekday: int, language: str = "en") -> str:
    """Which days a rule falls on, in words ("Every other Tue"), without time or end."""
    language = "es" if language == "es" else "en"
    pickers = read_rule(rrule, first_weekday)
    if pickers is not None:
        return _weekly(pickers, first_weekday, language)
    custom = rrule.strip().upper().removeprefix("RRULE:")
    return f"{'Regla propia' if language == 'es' else 'Custom rule'} {custom}"


def summary(
    rrule: str,
    first_local: datetime,
    duration: int,
    *,
    last_day: date | None = None,
    language: str = "en",
) -> str:
    """The series in words: "Every other Tue at 4:30 PM, 45 min, until Mar 1" (English) or
    "Cada dos semanas, mar a las 16:30, 45 min, hasta el 1 mar" (``language="es"``).

    A rule the pickers cannot say is named as it is ("Custom rule FREQ=MONTHLY…")."""
    language = "es" if language == "es" else "en"
    pickers = read_rule(rrule, first_local.weekday())
    head = rule_words(rrule, first_local.weekday(), language)
    parts = [f"{head} {_clock(first_local, language)}", f"{duration} min"]
    if pickers is not None and pickers.count is not None:
        plural = pickers.count != 1
        noun = ("sesiones" if plural else "sesión") if language == "es" else "session"
        parts.append(f"{pickers.count} {noun}{'s' if plural and language == 'en' else ''}")
    if last_day is not None:
        until = "hasta el" if language == "es" else "until"
        parts.append(f"{until} {_day(last_day, first_local, language)}")
    return ", ".join(parts)
