"""Automatic check-ins (``auto``): the days after a session that sample how long relief lasts.

The relief estimate (``relief``) needs a score in the 3 days before each session (the
baseline) and scores across the days after one. Fixed offsets such as 24 h and 72 h never
reach the day before a weekly session, so they never see a baseline. ``auto`` asks, for each
session, on

- day 1 after it (how the session left the client),
- around the middle of the gap to the next session, and
- the day before the next session (the baseline),

counted in the client's local calendar days from the session's start, as the estimate counts
them. The gap ends at, in order: the next booked session (the baseline must come before the
session that actually follows); else the series' next occurrence, booked or not yet; else the
session plus the client's usual gap (the median of the last ``RHYTHM_GAPS`` gaps, with at
least two); else the session is a one-off, asked on days 1 and 3 (``ONE_OFF``, what 24 h and
72 h asked before). A gap longer than ``LONGEST_GAP_DAYS`` is sampled like a one-off: the
estimate's 16-week window could not hold three such sessions anyway.

At most three asks per gap, each on its own local day; a middle ask only with a whole day
between it and each of the others, so a twice-weekly rhythm gets one or two (3 days apart:
days 1 and 2; 4 days: 1 and 3) and a next session one or two days away one (day 1).

Each ask has a role (``after``, ``middle``, ``before``) that names it in its idempotency key,
not its day: re-planning with an unchanged rhythm gives the same keys and times, a changed
rhythm moves a still-planned ask instead of adding one, and an ask already sent is never
made again for that session, so a gap never holds more than three.

Time of day: the local wall-clock time the session ended, on the ask's day (a client seen
17:00-18:00 is asked at 18:00), the same across a DST switch. Inside quiet hours it moves
to the nearest allowed minute of the same day (when they end in the morning, or just before
they begin in the evening), so an ask never changes day. An ask closer than
``REMINDER_SPACING`` to a reminder of the session that ends the gap moves to that far before
or after it, whichever is nearer and still allowed that day; when no minute of the day is,
the ask is skipped and the reminder alone goes. Planned late (the planner was down, the
session recorded after the fact), an ask still goes within the grace if that is still its
own day and allowed, else it expires. Once the next session has begun, an ask is skipped.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal, TypeAlias
from zoneinfo import ZoneInfo

from service.domain.quiet import after_quiet_hours, before_quiet_hours, in_quiet_hours
from service.domain.recurrence import to_utc
from service.domain.relief import SessionFact, usual_gap_days
from service.domain.vocabulary import MessageStatus

AUTO: Final = "auto"
# A practice's or a client's check-ins: fixed offsets after each session's end, or ``AUTO``.
CheckinOffsets: TypeAlias = tuple[timedelta, ...] | Literal["auto"]

AFTER, MIDDLE, BEFORE = "after", "middle", "before"
LONGEST_GAP_DAYS = 56
RHYTHM_GAPS = 4
REMINDER_SPACING = timedelta(hours=4)


@dataclass(frozen=True)
class Ask:
    """One check-in of a gap: its role (which names it) and its local day after the session."""

    role: str
    day: int


ONE_OFF = (Ask(AFTER, 1), Ask(MIDDLE, 3))


@dataclass(frozen=True)
class Planned:
    """An ask placed in time, with its fate at planning time."""

    role: str
    send_at: datetime  # aware UTC
    status: str


def ask_days(gap_days: int | None) -> tuple[Ask, ...]:
    """The asks for a gap of ``gap_days`` local days (None: no next session to expect)."""
    if gap_days is None or gap_days > LONGEST_GAP_DAYS:
        return ONE_OFF
    before = gap_days - 1
    if before <= 1:
        return (Ask(AFTER, 1),)
    middle = gap_days // 2
    spaced = middle - 1 >= 2 and before - middle >= 2
    return (Ask(AFTER, 1), *([Ask(MIDDLE, middle)] if spaced else []), Ask(BEFORE, before))


def gap_days(start: datetime, gap_end: datetime | None, tz: ZoneInfo) -> int | None:
    """Local calendar days from a session's start to the end of its gap (None stays None)."""
    if gap_end is None:
        return None
    return (gap_end.astimezone(tz).date() - start.astimezone(tz).date()).days


def expected_next(history: Sequence[datetime], start: datetime) -> datetime | None:
    """The session plus the usual gap of the last ``RHYTHM_GAPS`` gaps up to it (None with
    fewer than two gaps): when, by their rhythm, the client comes next."""
    recent = sorted({s for s in history if s <= start})[-(RHYTHM_GAPS + 1) :]
    gap = usual_gap_days([SessionFact(0, s) for s in recent])
    return None if gap is None else start + timedelta(days=gap)


def plan(
    *,
    start: datetime,
    end: datetime,
    gap_end: datetime | None,
    next_start: datetime | None,
    tz: ZoneInfo,
    quiet: tuple[time, time],
    reminders: Sequence[datetime],
    now: datetime,
    grace: timedelta,
) -> list[Planned]:
    """The asks of one session for one recipient; ``reminders`` are the send times of the
    recipient's reminders of the session ending the gap (empty when they get none)."""
    first = start.astimezone(tz).date()
    clock = end.astimezone(tz).time().replace(second=0, microsecond=0)
    result = []
    for ask in ask_days(gap_days(start, gap_end, tz)):
        day = first + timedelta(days=ask.day)
        send_at = place(day, clock, tz, quiet, reminders)
        status = MessageStatus.PLANNED
        if send_at is None:
            send_at, status = to_utc(datetime.combine(day, clock), tz), MessageStatus.SKIPPED
        elif send_at <= now:
            late = after_quiet_hours(now, tz, *quiet)
            if now - send_at < grace and _fits(late, day, tz, quiet, reminders):
                send_at = late
            else:
                status = MessageStatus.EXPIRED
        # Once the next session has begun the answer would describe that one, not this.
        if status == MessageStatus.PLANNED and next_start is not None and next_start <= send_at:
            status = MessageStatus.SKIPPED
        result.append(Planned(ask.role, send_at, status))
    return result


def place(
    day: date, clock: time, tz: ZoneInfo, quiet: tuple[time, time], reminders: Sequence[datetime]
) -> datetime | None:
    """The allowed instant of local ``day`` nearest ``clock`` that keeps ``REMINDER_SPACING``
    from every reminder; None when no minute of the day does."""
    anchor = to_utc(datetime.combine(day, clock), tz)
    candidates = [anchor, after_quiet_hours(anchor, tz, *quiet)]
    candidates.append(before_quiet_hours(anchor, tz, *quiet))
    for reminder in reminders:
        candidates.append(after_quiet_hours(reminder + REMINDER_SPACING, tz, *quiet))
        candidates.append(before_quiet_hours(reminder - REMINDER_SPACING, tz, *quiet))
    fitting = [c for c in candidates if _fits(c, day, tz, quiet, reminders)]
    return min(fitting, key=lambda c: (abs(c - anchor), c)) if fitting else None


def _fits(
    at: datetime, day: date, tz: ZoneInfo, quiet: tuple[time, time], reminders: Sequence[datetime]
) -> bool:
    """True when ``at`` is on local ``day``, outside quiet hours and spaced from reminders."""
    return (
        at.astimezone(tz).date() == day
        and not in_quiet_hours(at, tz, *quiet)
        and all(abs(at - r) >= REMINDER_SPACING for r in reminders)
    )
