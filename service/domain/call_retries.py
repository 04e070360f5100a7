"""When to call again, and at what hours a call may ring at all.

Pure: every time is given. A call rings only between 9:00 and 20:00 on the recipient's wall
clock (``CALL_HOURS``), and only outside the practice's quiet hours too when those are
stricter (quiet hours that end at 10:00 make calls start at 10:00; quiet hours from 21:00 to
8:00 change nothing). The two windows are stepped through with ``quiet``, which walks DST
gaps and repeats.

After a call ends (``next_call``):

* answered by a person, failed (a bad number, a fax, a call we cancelled): no new call;
* busy or no answer: a new call 30 minutes later, at most ``BUSY_RETRIES`` (2) times;
* an answering machine on a reminder: the short message was left, no new call;
* an answering machine on a check-in: one new call 2 hours later (no message was left).

A call that would fall outside the allowed hours moves to the next allowed minute; one that
would then ring at or after ``not_after`` (the appointment's start for a reminder, say) is
not made. No more than ``MAX_CALLS`` calls are made for one message in all.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from service.domain.quiet import after_quiet_hours, in_quiet_hours

Outcome = Literal["answered", "busy", "no_answer", "machine", "failed"]
# Calls may ring from the first of these times up to, not including, the second.
CALL_HOURS = (time(9, 0), time(20, 0))
BUSY_RETRIES = 2
BUSY_GAP = timedelta(minutes=30)
MACHINE_RETRIES = 1
MACHINE_GAP = timedelta(hours=2)
MAX_CALLS = 1 + BUSY_RETRIES + MACHINE_RETRIES
# Moving between the two windows settles within a few rounds (each moves to a window's end).
_ROUNDS = 8
_DAY = 24 * 60  # minutes


def outcome_of(call_status: str, answered_by: str = "") -> Outcome:
    """Twilio's ``CallStatus`` and ``AnsweredBy`` of an ended call, as one outcome: a fax or
    a cancelled call counts as failed, any "machine_..." as a machine."""
    if call_status == "busy":
        return "busy"
    if call_status == "no-answer":
        return "no_answer"
    if call_status != "completed" or answered_by == "fax":
        return "failed"
    return "machine" if answered_by.startswith("machine") else "answered"


def may_call(at: datetime, tz: ZoneInfo, quiet: tuple[time, time]) -> bool:
    """True when a call may ring at ``at``: inside call hours and outside quiet hours."""
    return not _quiet_for_calls(at, tz) and not in_quiet_hours(at, tz, quiet[0], quiet[1])


def _quiet_for_calls(at: datetime, tz: ZoneInfo) -> bool:
    return in_quiet_hours(at, tz, CALL_HOURS[1], CALL_HOURS[0])


@functools.cache
def quiet_for_calls(quiet: tuple[time, time]) -> tuple[time, time]:
    """One quiet window (start, end) outside which calls may ring: call hours' night joined
    with the practice's quiet hours, so that planning a call as a text is planned (moved out
    of quiet hours) lands it where ``may_call`` allows it. When the two do not make one
    window (quiet hours at midday) or leave no time at all, call hours' night alone: the
    dispatcher then holds the call until the practice's quiet hours end, or skips it."""
    night = (CALL_HOURS[1], CALL_HOURS[0])
    allowed = [not _quiet_minute(m, night) and not _quiet_minute(m, quiet) for m in range(_DAY)]
    # allowed[-1] is the minute before midnight: runs are found around the clock.
    starts = [m for m in range(_DAY) if allowed[m] and not allowed[m - 1]]
    if len(starts) != 1:
        return night
    begin = starts[0]
    end = next(m % _DAY for m in range(begin, begin + _DAY) if not allowed[m % _DAY])
    return time(end // 60, end % 60), time(begin // 60, begin % 60)


def _quiet_minute(minute: int, window: tuple[time, time]) -> bool:
    start, end = (t.hour * 60 + t.minute for t in window)
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


def first_allowed(at: datetime, tz: ZoneInfo, quiet: tuple[time, time]) -> datetime | None:
    """``at`` when a call may ring then, else the next minute one may; None when the
    practice's quiet hours leave no time inside call hours."""
    for _ in range(_ROUNDS):
        if may_call(at, tz, quiet):
            return at
        at = after_quiet_hours(at, tz, CALL_HOURS[1], CALL_HOURS[0])
        try:
            at = after_quiet_hours(at, tz, quiet[0], quiet[1])
        except ValueError:  # quiet all day
            return None
    return None


def next_call(
    kind: str,
    outcome: Outcome,
    ended_at: datetime,
    tz: ZoneInfo,
    quiet: tuple[time, time],
    *,
    earlier: Sequence[Outcome] = (),
    not_after: datetime | None = None,
) -> datetime | None:
    """When to call again after a call of ``kind`` ended at ``ended_at`` with ``outcome``,
    given the outcomes of the calls made for the same message before it (``earlier``);
    None for no new call."""
    outcomes = [*earlier, outcome]
    if len(outcomes) >= MAX_CALLS:
        return None
    if outcome in ("busy", "no_answer"):
        tries = sum(o in ("busy", "no_answer") for o in outcomes) - 1
        gap = BUSY_GAP if tries < BUSY_RETRIES else None
    elif outcome == "machine" and kind == "checkin":
        tries = outcomes.count("machine") - 1
        gap = MACHINE_GAP if tries < MACHINE_RETRIES else None
    else:
        gap = None
    if gap is None:
        return None
    at = first_allowed(ended_at + gap, tz, quiet)
    if at is None or (not_after is not None and at >= not_after):
        return None
    return at
