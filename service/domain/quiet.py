"""Quiet hours: local wall-clock windows in which no planned text goes out.

Quiet hours are local wall-clock times in the recipient's zone, [quiet_start, quiet_end):
quiet_start is the first quiet minute and quiet_end the first allowed one; the window may wrap
midnight, and quiet_start == quiet_end means no quiet hours. Pure; DST gaps and repeats are
stepped through explicitly (``_instants``).
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain.recurrence import to_utc

_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)
# Stepping a window edge across a DST gap or repeat never needs more rounds than this.
_MAX_ROUNDS = 8


def in_quiet_hours(at: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> bool:
    """Tell whether the local wall-clock time of `at` is within [quiet_start, quiet_end)."""
    clock = at.astimezone(tz).time()
    if quiet_start <= quiet_end:
        return quiet_start <= clock < quiet_end
    return clock >= quiet_start or clock < quiet_end


def before_quiet_hours(at: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> datetime:
    """Return `at` if allowed, else the minute before the quiet window holding it began."""
    for _ in range(_MAX_ROUNDS):
        if not in_quiet_hours(at, tz, quiet_start, quiet_end):
            return at
        local = at.astimezone(tz).replace(tzinfo=None)
        began = local.date() - (_DAY if local.time() < quiet_start else timedelta(0))
        starts = [i for i in _instants(datetime.combine(began, quiet_start), tz) if i <= at]
        # Only if the window's first minute fell in a DST gap that swallowed the allowed
        # minutes before it can this still be quiet; the next round looks one window earlier.
        at = max(starts) - _MINUTE
    raise ValueError("quiet hours leave no time to send")


def after_quiet_hours(at: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> datetime:
    """Return `at` if allowed, else the instant the quiet window holding it ends."""
    for _ in range(_MAX_ROUNDS):
        if not in_quiet_hours(at, tz, quiet_start, quiet_end):
            return at
        local = at.astimezone(tz).replace(tzinfo=None)
        ends = local.date() + (_DAY if local.time() >= quiet_end else timedelta(0))
        at = min(i for i in _instants(datetime.combine(ends, quiet_end), tz) if i >= at)
    raise ValueError("quiet hours leave no time to send")


def _instants(local: datetime, tz: ZoneInfo) -> list[datetime]:
    """Return the instants at which the wall clock reaches `local` (two in a fall-back repeat)."""
    first = to_utc(local, tz)
    # to_utc moves a time in a spring-forward gap one gap later, but the clock passed it at the
    # switch itself: step back to the first minute whose wall-clock time is `local` or later.
    for _ in range(24 * 60):
        earlier = first - _MINUTE
        if earlier.astimezone(tz).replace(tzinfo=None) < local:
            break
        first = earlier
    second = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    repeated = second > first and second.astimezone(tz).replace(tzinfo=None) == local
    return [first, second] if repeated else [first]
