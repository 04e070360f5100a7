"""Recurring appointment series: RRULE validation and expansion into UTC start times.

A series is an RFC 5545 RRULE iterated in naive local wall-clock time from the first
appointment's local start, so every occurrence keeps its wall-clock time across DST switches
(a Monday 09:00 series in America/New_York is 09:00 local in winter and in summer). Each local
time is then turned into an instant by `to_utc`, which applies this DST rule:

* a local time that does not exist (spring-forward gap, e.g. 02:30 on 2027-03-14 in New York)
  moves forward by the length of the gap (-> 03:30 EDT), as most calendar apps do;
* a local time that happens twice (fall-back, e.g. 01:30 on 2027-11-07 in New York) takes the
  first, earlier instant (01:30 EDT, fold=0).

Accepted: FREQ=DAILY|WEEKLY|MONTHLY|YEARLY with INTERVAL, COUNT or UNTIL, BYDAY, BYMONTH,
BYMONTHDAY, BYSETPOS and WKST (default MO); the time of day always comes from the first start.
UNTIL is inclusive and may be UTC ("20270301T000000Z"), floating local time ("20270301T090000")
or a date ("20270301": the whole local day); UNTIL after the year 9000 means "no end".
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule as du

MAX_INTERVAL = 1_000
MAX_COUNT = 10_000

_FREQS: dict[str, Literal[0, 1, 2, 3]] = {"YEARLY": 0, "MONTHLY": 1, "WEEKLY": 2, "DAILY": 3}
_SUBDAILY = ("HOURLY", "MINUTELY", "SECONDLY")
_DAYS = {"MO": du.MO, "TU": du.TU, "WE": du.WE, "TH": du.TH, "FR": du.FR, "SA": du.SA, "SU": du.SU}
_DAY_NAMES = tuple(_DAYS)  # index == date.weekday()
# name -> (smallest, largest magnitude, negatives allowed)
_INT_LISTS = {"BYMONTH": (1, 12, False), "BYMONTHDAY": (1, 31, True), "BYSETPOS": (1, 366, True)}
# Valid RFC 5545 but not appointment schedules: the time of day comes from the first start, and
# nobody books by week or year-day number.
_UNSUPPORTED = ("BYHOUR", "BYMINUTE", "BYSECOND", "BYWEEKNO", "BYYEARDAY", "BYEASTER")
_KNOWN = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST", *_INT_LISTS)
_UNTIL_RE = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")
_BYDAY_RE = re.compile(r"([+-]?\d{1,2})?([A-Z]{2})")
_INT_RE = re.compile(r"[+-]?\d{1,4}")
_DIGITS_RE = re.compile(r"\d{1,6}")
_NO_END = datetime(9000, 1, 1)
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
# A zone at UTC+14 gives any local time its earliest possible UTC instant, so a UTC UNTIL
# checked against it without the client's zone can only err on the side of accepting.
_EARLIEST_ZONE = ZoneInfo("Etc/GMT-14")
# The no-dates probe looks at least this far ahead of the first start.
_PROBE_YEARS = 50


class InvalidRule(ValueError):
    """A recurrence rule that cannot be used; the message is meant for practice staff."""


@dataclass(frozen=True)
class _Spec:
    rule: du.rrule  # without COUNT and UNTIL, every day selection explicit
    freq: str
    interval: int
    wkst: int
    count: int | None
    until_local: datetime | None  # floating UNTIL, inclusive, local wall-clock
    until_utc: datetime | None  # UTC UNTIL, inclusive


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Return the aware-UTC instant of a naive local time, applying the module's DST rule."""
    if local.tzinfo is not None:
        raise ValueError("to_utc expects a naive local wall-clock time")
    # fold=0 reads a gap time with the offset in force before the switch, which lands one gap
    # later on the wall clock (02:30 EST == 03:30 EDT), and picks the first of two repeated
    # times (01:30 EDT rather than 01:30 EST).
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def parse_rule(rrule: str, first_start_local: datetime, *, tz: ZoneInfo | None = None) -> None:
    """Raise InvalidRule unless the rule is usable and yields at least one start."""
    spec = _parse(rrule, first_start_local)
    unbounded = _build(spec, first_start_local, None, bounded=False)
    # Walk the real rule only once it is known to select dates, or it may walk to year 9999.
    first = next(iter(unbounded), None) if _has_dates(spec, first_start_local) else None
    if first is None or (spec.until_local is not None and first > spec.until_local):
        raise InvalidRule("the rule produces no dates")
    if spec.until_utc is not None and to_utc(first, tz or _EARLIEST_ZONE) > spec.until_utc:
        raise InvalidRule("the rule produces no dates")


def occurrences(
    rrule: str,
    first_start_local: datetime,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    until: datetime | None = None,
) -> list[datetime]:
    """Return the sorted aware-UTC starts with start <= s < end (and s < until, if given)."""
    spec = _parse(rrule, first_start_local)
    _require_aware(start, end, until)
    stop = end if until is None else min(end, until)
    if spec.until_utc is not None:
        stop = min(stop, spec.until_utc + _SECOND)  # UNTIL is inclusive; starts are whole seconds
    if start >= stop or not _has_dates(spec, first_start_local):
        return []
    # Search in local wall-clock time with a day of margin each side (UTC offsets are under a
    # day), then filter exactly in UTC.
    low = _local(start, tz) - _DAY
    high = _local(stop, tz) + _DAY
    rule = _build(spec, _anchor(spec, first_start_local, low), tz)
    found = (to_utc(local, tz) for local in rule.between(low, high, inc=True))
    return sorted(s for s in found if start <= s < stop)


def next_starts(
    rrule: str,
    first_start_local: datetime,
    tz: ZoneInfo,
    after: datetime,
    count: int = 5,
    *,
    until: datetime | None = None,
) -> list[datetime]:
    """Return the next `count` aware-UTC starts strictly after `after` (and before `until`)."""
    spec = _parse(rrule, first_start_local)
    _require_aware(after, until)
    if count <= 0 or not _has_dates(spec, first_start_local):
        return []
    low = _local(after, tz) - _DAY
    starts: list[datetime] = []
    for local in _build(spec, _anchor(spec, first_start_local, low), tz):
        if local < low:
            continue
        start = to_utc(local, tz)
        # Same wall-clock time on different days, so starts are increasing in UTC too.
        if (until is not None and start >= until) or (
            spec.until_utc is not None and start > spec.until_utc
        ):
            break
        if start > after:
            starts.append(start)
            if len(starts) == count:
                break
    return starts


def _parse(rrule: str, first: datetime) -> _Spec:
    """Return the checked rule parts, with dateutil's DTSTART-derived defaults made explicit."""
    if first.tzinfo is not None:
        raise ValueError("first_start_local must be a naive local wall-clock time")
    parts = _parts(rrule)
    freq = _checked_freq(parts)
    until_local, until_utc = _until(parts["UNTIL"]) if "UNTIL" in parts else (None, None)
    wkst = parts.get("WKST", "MO")
    if wkst not in _DAYS:
        raise InvalidRule(f"unknown WKST value '{wkst}'")
    lists = {
        name: _int_list(name, parts[name], *limits)
        for name, limits in _INT_LISTS.items()
        if name in parts
    }
    byweekday = _byday(parts["BYDAY"], freq) if "BYDAY" in parts else None
    bymonth, bymonthday = lists.get("BYMONTH"), lists.get("BYMONTHDAY")
    # dateutil fills a missing day selection from DTSTART; doing it here keeps the selected days
    # fixed when occurrences() re-anchors the series near the requested window.
    if byweekday is None and bymonthday is None:
        if freq == "YEARLY":
            bymonth, bymonthday = bymonth or (first.month,), (first.day,)
        elif freq == "MONTHLY":
            bymonthday = (first.day,)
        elif freq == "WEEKLY":
            byweekday = (_DAYS[_DAY_NAMES[first.weekday()]],)
    interval = _int_value("INTERVAL", parts.get("INTERVAL", "1"), MAX_INTERVAL)
    rule = du.rrule(
        _FREQS[freq],
        dtstart=first,
        interval=interval,
        wkst=_DAY_NAMES.index(wkst),
        bysetpos=lists.get("BYSETPOS"),
        bymonth=bymonth,
        bymonthday=bymonthday,
        byweekday=byweekday,
    )
    count = _int_value("COUNT", parts["COUNT"], MAX_COUNT) if "COUNT" in parts else None
    return _Spec(rule, freq, interval, _DAY_NAMES.index(wkst), count, until_local, until_utc)


def _parts(rrule: str) -> dict[str, str]:
    """Split one RRULE into its NAME=VALUE parts, refusing what is not one."""
    text = rrule.strip().upper()
    if "DTSTART" in text:
        raise InvalidRule("DTSTART is not allowed in the rule; the first appointment sets it")
    text = text.removeprefix("RRULE:")
    if ":" in text or "\n" in text:
        raise InvalidRule("only a single RRULE is supported")
    parts: dict[str, str] = {}
    for raw in text.split(";"):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = (piece.strip() for piece in item.partition("="))
        if not sep or not name or not value:
            raise InvalidRule(f"'{item}' is not of the form NAME=VALUE")
        if name in parts:
            raise InvalidRule(f"{name} appears more than once")
        parts[name] = value
    if not parts:
        raise InvalidRule("the rule is empty")
    return parts


def _checked_freq(parts: dict[str, str]) -> str:
    """The rule's FREQ, once every part is known, supported and consistent."""
    freq = parts.get("FREQ")
    if freq is None:
        raise InvalidRule("FREQ is required")
    if freq in _SUBDAILY:
        raise InvalidRule(f"FREQ={freq} is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY")
    if freq not in _FREQS:
        raise InvalidRule(f"unknown FREQ value '{freq}'")
    for name in parts:
        if name in _UNSUPPORTED:
            raise InvalidRule(f"{name} is not supported in appointment schedules")
        if name not in _KNOWN:
            raise InvalidRule(f"unknown rule part '{name}'")
    if freq == "WEEKLY" and "BYMONTHDAY" in parts:  # RFC 5545 forbids it
        raise InvalidRule("BYMONTHDAY cannot be used with FREQ=WEEKLY")
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidRule("use COUNT or UNTIL, not both")
    return freq


def _until(value: str) -> tuple[datetime | None, datetime | None]:
    """Return UNTIL as (floating local, UTC), exactly one of them set."""
    match = _UNTIL_RE.fullmatch(value)
    if match is None:
        raise InvalidRule("UNTIL must look like 20270301T000000Z, 20270301T090000 or 20270301")
    # A date alone includes that whole local day.
    clock = "235959" if match[2] is None else match[2]
    try:
        moment = min(datetime.strptime(match[1] + clock, "%Y%m%d%H%M%S"), _NO_END)
    except ValueError:
        raise InvalidRule(f"UNTIL value '{value}' is not a valid date") from None
    return (None, moment.replace(tzinfo=UTC)) if match[3] else (moment, None)


def _int_value(name: str, value: str, high: int) -> int:
    """Return a positive whole number no larger than `high`."""
    if not _DIGITS_RE.fullmatch(value) or not 1 <= int(value) <= high:
        raise InvalidRule(f"{name} must be a whole number from 1 to {high}")
    return int(value)


def _int_list(name: str, value: str, low: int, high: int, signed: bool) -> tuple[int, ...]:
    """Return the comma-separated numbers of a BYxxx part, each within its RFC 5545 range."""
    numbers = []
    for token in value.split(","):
        token = token.strip()
        number = int(token) if _INT_RE.fullmatch(token) else 0
        if not low <= abs(number) <= high or (number < 0 and not signed):
            allowed = f"{low} to {high}" + (f" or -{high} to -{low}" if signed else "")
            raise InvalidRule(f"{name} value '{token}' is not allowed (use {allowed})")
        numbers.append(number)
    return tuple(numbers)


def _byday(value: str, freq: str) -> tuple[du.weekday, ...]:
    """Return BYDAY as dateutil weekdays; ordinals (1WE, -1FR) only where they mean something."""
    days = []
    for token in value.split(","):
        token = token.strip()
        match = _BYDAY_RE.fullmatch(token)
        if match is None or match[2] not in _DAYS:
            raise InvalidRule(f"unknown BYDAY value '{token}'")
        day = _DAYS[match[2]]
        if match[1] is not None:
            # dateutil drops the ordinal for WEEKLY/DAILY, silently turning 1WE into every WE.
            if freq not in ("MONTHLY", "YEARLY"):
                raise InvalidRule(f"BYDAY={token} needs FREQ=MONTHLY or FREQ=YEARLY")
            nth = int(match[1])
            if not 1 <= abs(nth) <= (5 if freq == "MONTHLY" else 53):
                raise InvalidRule(f"BYDAY value '{token}' is out of range")
            day = day(nth)
        days.append(day)
    return tuple(days)


def _build(
    spec: _Spec, dtstart: datetime, tz: ZoneInfo | None, *, bounded: bool = True
) -> du.rrule:
    """Return the rule restarted at `dtstart`, with COUNT and UNTIL only if bounded."""
    until = spec.until_local if bounded else None
    if bounded and spec.until_utc is not None and tz is not None:
        # A UTC UNTIL cannot go to dateutil with a naive DTSTART: stop a day late in local
        # time and let the callers cut exactly in UTC.
        until = _local(spec.until_utc, tz) + _DAY
    count = spec.count if bounded else None
    return spec.rule.replace(dtstart=dtstart, count=count, until=until)


def _has_dates(spec: _Spec, first: datetime) -> bool:
    """Tell whether the rule, ignoring COUNT and UNTIL, selects any date at all."""
    # dateutil walks period by period up to year 9999 when no date ever matches (seconds for
    # a DAILY rule), so probe a copy moved by whole 400-year Gregorian cycles times INTERVAL,
    # which selects the same dates shifted, to start just _PROBE_YEARS+ before that limit.
    cycle = 400 * spec.interval
    cycles = max(0, (date.max.year - _PROBE_YEARS - first.year) // cycle)
    probe = _build(spec, first.replace(year=first.year + cycles * cycle), None, bounded=False)
    return next(iter(probe), None) is not None


def _anchor(spec: _Spec, first: datetime, target: datetime) -> datetime:
    """Return a start equivalent to `first` but as late as possible at or before `target`."""
    # dateutil always iterates from DTSTART; restarting the rule at the latest period boundary
    # in phase with INTERVAL keeps a years-old daily series cheap. COUNT needs the real start.
    if spec.count is not None or target <= first:
        return first
    n, day = spec.interval, first.date()
    if spec.freq == "DAILY":
        periods = (target.date() - day).days // n
        moved = day + timedelta(days=periods * n)
    elif spec.freq == "WEEKLY":
        week = day - timedelta(days=(day.weekday() - spec.wkst) % 7)
        periods = (target.date() - week).days // (7 * n)
        moved = week + timedelta(weeks=periods * n)
    elif spec.freq == "MONTHLY":
        month0 = day.year * 12 + day.month - 1
        periods = (target.year * 12 + target.month - 1 - month0) // n
        year, month = divmod(month0 + periods * n, 12)
        moved = date(year, month + 1, 1)
    else:
        periods = (target.year - day.year) // n
        moved = date(day.year + periods * n, 1, 1)
    return first if periods < 1 else datetime.combine(moved, first.time())


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    """Return the naive local wall-clock time of an aware instant."""
    return instant.astimezone(tz).replace(tzinfo=None)


def _require_aware(*instants: datetime | None) -> None:
    """Raise ValueError if any given instant is naive."""
    if any(i is not None and i.tzinfo is None for i in instants):
        raise ValueError("start, end, after and until must be aware datetimes")
