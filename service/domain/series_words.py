"""A series' rule in the practice's words: the form's pickers, and the summary everyone reads.

The series form asks for days of the week, every how many weeks and how many sessions;
``build_rule`` turns those into the RRULE the schedule runs on, and ``read_rule`` turns a
stored rule back into pickers when they can say it (``None``: only "Advanced" can). A rule
without ``BYDAY`` falls on the first session's weekday, so a plain ``FREQ=WEEKLY`` reads as
that one day and one day picked on the first session's weekday writes no ``BYDAY``: a
series saved unchanged keeps its rule. ``read_words`` reads a rule typed in plain words
("every monday and thursday", "cada dos semanas, martes"). ``summary`` writes "Every Mon and
Thu at 10:00 AM, 60 min" in English or Spanish, for weekly, daily ("Every 2 days") and
monthly rules ("Monthly on the 15th", "Monthly on the last Fri") whatever the order of their
parts; any other rule reads "Custom schedule" (the raw rule is shown only under "Advanced",
never to someone reading the schedule). A series' end lives beside its rule and is passed
in; an UNTIL inside the rule (from the API or an "Advanced" rule) is read too, and the
earlier of the two is the one shown, as the last local day a session can fall on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.domain import folding
from service.domain.recurrence import to_utc
from service.domain.texts import MONTHS

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index == date.weekday()
MAX_EVERY = 52
MAX_COUNT = 500
_SHORT = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
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
_ORDINALS = {
    "en": {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"},
    "es": {1: "primer", 2: "segundo", 3: "tercer", 4: "cuarto", 5: "quinto", -1: "último"},
}
_UNTIL = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")


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


def _weekly_pickers(fields: dict[str, str], first_weekday: int) -> Pickers | None:
    """The pickers for a rule's parts other than COUNT and UNTIL, or None."""
    fields = dict(fields)
    if fields.pop("FREQ", None) != "WEEKLY" or fields.pop("WKST", "MO") != "MO":
        return None
    every = _number(fields.pop("INTERVAL", None), 1, MAX_EVERY)
    codes = fields.pop("BYDAY", DAYS[first_weekday]).split(",")
    if fields or every is None:
        return None
    if any(code not in DAYS for code in codes) or len(set(codes)) != len(codes):
        return None
    return Pickers(_ordered(codes), every)


def read_rule(rrule: str, first_weekday: int) -> Pickers | None:
    """The pickers that build ``rrule`` (or an equivalent of it), or None when only a
    custom rule can say it."""
    fields = _fields(rrule)
    if fields is None:
        return None
    count_text = fields.pop("COUNT", None)
    count = _number(count_text, 1, MAX_COUNT) if count_text is not None else None
    pickers = _weekly_pickers(fields, first_weekday)
    if pickers is None or (count_text is not None and count is None):
        return None
    return replace(pickers, count=count)


def read_words(text: str) -> Pickers | None:
    """Pickers from a rule typed in plain words ("every monday and thursday", "every other
    tue", "cada 3 semanas, lunes y jueves"), or None when a word is not understood."""
    plain = " ".join(re.sub(r"[,.;/&+]", " ", folding.fold(text)[0]).split())
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
    month = MONTHS[language][day.month - 1]
    year = f" {day.year}" if day.year != first.year else ""
    if language == "es":
        return f"{day.day} {month}{year}"
    return f"{month} {day.day}{',' + year if year else ''}"


def _every(n: int, unit: str, language: str) -> str:
    """Every ``n`` units: "Every 3 months", "Cada dos meses" (Spanish says "dos" for 2)."""
    if language == "es":
        plural = {"day": "días", "month": "meses"}[unit]
        return f"Cada {'dos' if n == 2 else n} {plural}"
    return f"Every {n} {unit}s"


def _nth_day(day: int, language: str) -> str:
    """A day of the month: "15th", "last day" (``-1``); Spanish "15", "último día"."""
    if day == -1:
        return "último día" if language == "es" else "last day"
    if language == "es":
        return str(day)
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _daily(fields: dict[str, str], first: date, language: str) -> str | None:
    """A daily rule: "Every day", "Every 2 days"; daily on some weekdays reads as weekly."""
    every = _number(fields.pop("INTERVAL", None), 1, MAX_COUNT)
    if "BYDAY" in fields and every == 1:
        pickers = _weekly_pickers({**fields, "FREQ": "WEEKLY"}, first.weekday())
        return None if pickers is None else _weekly(pickers, first.weekday(), language)
    if fields.keys() != {"FREQ"} or every is None:
        return None
    if every == 1:
        return "Cada día" if language == "es" else "Every day"
    return _every(every, "day", language)


def _position(fields: dict[str, str]) -> tuple[int, str] | None:
    """Which weekday of the month a rule names ("1MO", or "MO" with "BYSETPOS=1"), as
    (position, day code), or None."""
    match = re.fullmatch(r"([+-]?\d)?([A-Z]{2})", fields.pop("BYDAY", ""))
    setpos = fields.pop("BYSETPOS", None)
    if match is None or match[2] not in DAYS or fields.keys() - {"FREQ"}:
        return None
    if (match[1] is None) == (setpos is None):  # exactly one of them says which
        return None
    text = match[1] or setpos or ""
    nth = int(text) if re.fullmatch(r"[+-]?\d", text) else 0
    return (nth, match[2]) if nth in _ORDINALS["en"] else None


def _monthly(fields: dict[str, str], first: date, language: str) -> str | None:
    """A monthly rule: "Monthly on the 15th", "Every 2 months on the last Fri" (Spanish
    "Cada mes el día 15", "Cada dos meses el último vie"); without a day it falls on the
    first session's day of the month (and, as RFC 5545 says, skips months without it)."""
    every = _number(fields.pop("INTERVAL", None), 1, MAX_COUNT)
    if every is None:
        return None
    head = _every(every, "month", language)
    if every == 1:
        head = "Cada mes" if language == "es" else "Monthly"
    on = "el" if language == "es" else "on the"
    if "BYDAY" in fields:
        found = _position(fields)
        if found is None:
            return None
        return (
            f"{head} {on} {_ORDINALS[language][found[0]]} {_SHORT[language][DAYS.index(found[1])]}"
        )
    texts = fields.pop("BYMONTHDAY", str(first.day)).split(",")
    days = sorted({int(d) if re.fullmatch(r"-?\d{1,2}", d) else 0 for d in texts})
    if fields.keys() - {"FREQ"} or not (all(1 <= d <= 31 for d in days) or days == [-1]):
        return None
    named = _listed([_nth_day(d, language) for d in days], language)
    if language == "es" and days != [-1]:
        on = "el día" if len(days) == 1 else "los días"
    return f"{head} {on} {named}"


def _head(fields: dict[str, str], first: date, language: str) -> str:
    """Which days a rule's parts (without COUNT and UNTIL) fall on, in words; "Custom
    schedule" when no plain words say it."""
    fields = dict(fields)
    freq = fields.get("FREQ")
    interval, byday = fields.get("INTERVAL", "1"), fields.get("BYDAY", "")
    if freq != "WEEKLY" or interval == "1" or "," not in byday:
        fields.pop("WKST", None)  # the week's first day changes nothing here
    words = None
    if freq == "WEEKLY":
        pickers = _weekly_pickers(fields, first.weekday())
        words = None if pickers is None else _weekly(pickers, first.weekday(), language)
    elif freq == "DAILY":
        words = _daily(fields, first, language)
    elif freq == "MONTHLY":
        words = _monthly(fields, first, language)
    return words or ("Horario personalizado" if language == "es" else "Custom schedule")


def rule_words(rrule: str, first: date, language: str = "en") -> str:
    """Which days a rule falls on, in words ("Every other Tue", "Monthly on the 15th"),
    without time, count or end, for a series whose first session is on ``first``."""
    language = "es" if language == "es" else "en"
    fields = _fields(rrule) or {}
    fields.pop("COUNT", None)
    fields.pop("UNTIL", None)
    return _head(fields, first, language)


def until_day(until: str, first_local: datetime, timezone: str) -> date | None:
    """The last local day a session can fall on under the rule part ``UNTIL=until``
    (inclusive; UTC, floating local time or a whole local day, as ``recurrence`` reads it),
    or None when it is no end (year 9000 on) or not readable."""
    match = _UNTIL.fullmatch(until.strip().upper())
    if match is None:
        return None
    try:
        moment = datetime.strptime(match[1] + (match[2] or "235959"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    if moment.year >= 9000:
        return None
    if not match[3]:  # local wall-clock: that day's session is in if it starts by then
        late = first_local.time() > moment.time()
        return moment.date() - timedelta(days=1) if late else moment.date()
    zone, instant = ZoneInfo(timezone), moment.replace(tzinfo=UTC)
    day = instant.astimezone(zone).date()
    late = to_utc(datetime.combine(day, first_local.time()), zone) > instant
    return day - timedelta(days=1) if late else day


def summary(
    rrule: str,
    first_local: datetime,
    duration: int,
    *,
    last_day: date | None = None,
    timezone: str = "UTC",
    language: str = "en",
    show_until: bool = True,
) -> str:
    """The series in words: "Every other Tue at 4:30 PM, 45 min, until Mar 1" (English) or
    "Cada dos semanas, mar a las 16:30, 45 min, hasta el 1 mar" (``language="es"``).

    The end is the earlier of ``last_day`` (the series' own end) and the rule's UNTIL, read
    in ``timezone``; a COUNT reads as "12 sessions", wherever it stands in the rule. A rule
    no plain words say reads "Custom schedule at 10:00 AM, 60 min": the rule itself is only
    shown in the form's "Advanced" field. ``show_until=False`` leaves the end out (an ended
    series, whose page says when it ended)."""
    language = "es" if language == "es" else "en"
    fields = _fields(rrule) or {}
    count, until = fields.pop("COUNT", ""), fields.pop("UNTIL", None)
    head = _head(fields, first_local, language)
    parts = [f"{head} {_clock(first_local, language)}", f"{duration} min"]
    if count.isdigit() and int(count) >= 1:
        plural = int(count) != 1
        noun = ("sesiones" if plural else "sesión") if language == "es" else "session"
        parts.append(f"{int(count)} {noun}{'s' if plural and language == 'en' else ''}")
    ends = [last_day, until_day(until, first_local, timezone) if until else None]
    end = min((day for day in ends if day is not None), default=None)
    if show_until and end is not None:
        until_word = "hasta el" if language == "es" else "until"
        parts.append(f"{until_word} {_day(end, first_local, language)}")
    return ", ".join(parts)
