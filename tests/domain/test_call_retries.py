"""When a call is made again, and at what hours calls ring, as tables in New York's time,
across both changes of the clock."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from service.domain.call_retries import Outcome, first_allowed, may_call, next_call, outcome_of

NY = ZoneInfo("America/New_York")
TEXT_QUIET = (time(21, 0), time(8, 0))  # the practice's quiet hours: wider than call hours


def ny(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A New York wall-clock time, as the instant it is."""
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


@pytest.mark.parametrize(
    ("kind", "outcome", "ended", "earlier", "expected"),
    [
        # Busy and no answer: twice more, 30 minutes apart.
        ("reminder", "busy", ny(2027, 3, 3, 11, 0), (), ny(2027, 3, 3, 11, 30)),
        ("checkin", "no_answer", ny(2027, 3, 3, 11, 0), (), ny(2027, 3, 3, 11, 30)),
        ("reminder", "no_answer", ny(2027, 3, 3, 11, 30), ("busy",), ny(2027, 3, 3, 12, 0)),
        ("reminder", "busy", ny(2027, 3, 3, 12, 0), ("busy", "no_answer"), None),
        ("checkin", "no_answer", ny(2027, 3, 3, 12, 0), ("no_answer", "no_answer"), None),
        # Answered, or failed: done.
        ("reminder", "answered", ny(2027, 3, 3, 11, 0), (), None),
        ("checkin", "answered", ny(2027, 3, 3, 11, 0), ("busy",), None),
        ("reminder", "failed", ny(2027, 3, 3, 11, 0), (), None),
        ("checkin", "failed", ny(2027, 3, 3, 11, 0), (), None),
        # A machine: a reminder left its message; a check-in is tried once more, 2 hours on.
        ("reminder", "machine", ny(2027, 3, 3, 11, 0), (), None),
        ("checkin", "machine", ny(2027, 3, 3, 11, 0), (), ny(2027, 3, 3, 13, 0)),
        ("checkin", "machine", ny(2027, 3, 3, 13, 0), ("machine",), None),
        ("checkin", "machine", ny(2027, 3, 3, 11, 30), ("busy",), ny(2027, 3, 3, 13, 30)),
        ("checkin", "busy", ny(2027, 3, 3, 13, 0), ("machine",), ny(2027, 3, 3, 13, 30)),
        # Never more than four calls for one message.
        ("checkin", "busy", ny(2027, 3, 3, 14, 0), ("busy", "machine", "busy"), None),
        # Outside 9:00 to 20:00 a new call waits for 9:00 the next day.
        ("reminder", "busy", ny(2027, 3, 3, 19, 29), (), ny(2027, 3, 3, 19, 59)),
        ("reminder", "busy", ny(2027, 3, 3, 19, 30), (), ny(2027, 3, 4, 9, 0)),
        ("checkin", "machine", ny(2027, 3, 3, 18, 0), (), ny(2027, 3, 4, 9, 0)),
        # The evening before the clocks go forward (EST, UTC-5) to 9:00 EDT (UTC-4).
        ("reminder", "busy", ny(2027, 3, 13, 19, 45), (), datetime(2027, 3, 14, 13, 0, tzinfo=UTC)),
        (
            "checkin",
            "machine",
            ny(2027, 3, 13, 19, 0),
            (),
            datetime(2027, 3, 14, 13, 0, tzinfo=UTC),
        ),
        # The evening before the clocks go back (EDT, UTC-4) to 9:00 EST (UTC-5).
        ("reminder", "busy", ny(2027, 11, 6, 19, 45), (), datetime(2027, 11, 7, 14, 0, tzinfo=UTC)),
        (
            "checkin",
            "machine",
            ny(2027, 11, 6, 19, 0),
            (),
            datetime(2027, 11, 7, 14, 0, tzinfo=UTC),
        ),
        # On the days the clocks change, a retry inside the day keeps wall-clock gaps honest.
        ("checkin", "machine", ny(2027, 3, 14, 9, 0), (), datetime(2027, 3, 14, 15, 0, tzinfo=UTC)),
        ("checkin", "machine", ny(2027, 11, 7, 9, 0), (), datetime(2027, 11, 7, 16, 0, tzinfo=UTC)),
    ],
)
def test_when_a_call_is_made_again(
    kind: str,
    outcome: Outcome,
    ended: datetime,
    earlier: tuple[Outcome, ...],
    expected: datetime | None,
) -> None:
    assert next_call(kind, outcome, ended, NY, TEXT_QUIET, earlier=earlier) == expected


@pytest.mark.parametrize(
    ("quiet", "ended", "expected"),
    [
        # Quiet hours stricter than call hours narrow them, at both ends.
        ((time(19, 0), time(10, 0)), ny(2027, 3, 3, 18, 45), ny(2027, 3, 4, 10, 0)),
        ((time(19, 0), time(10, 0)), ny(2027, 3, 3, 18, 0), ny(2027, 3, 3, 18, 30)),
        (
            (time(21, 0), time(10, 0)),
            ny(2027, 3, 13, 19, 45),
            datetime(2027, 3, 14, 14, 0, tzinfo=UTC),
        ),
        # Wider quiet hours, or none, leave call hours as they are.
        (TEXT_QUIET, ny(2027, 3, 3, 19, 45), ny(2027, 3, 4, 9, 0)),
        ((time(0, 0), time(0, 0)), ny(2027, 3, 3, 19, 45), ny(2027, 3, 4, 9, 0)),
        # A midday break in the practice's quiet hours is kept too.
        ((time(12, 0), time(14, 0)), ny(2027, 3, 3, 11, 45), ny(2027, 3, 3, 14, 0)),
        # Quiet hours that cover all of call hours leave no time to call.
        ((time(8, 0), time(21, 0)), ny(2027, 3, 3, 11, 0), None),
    ],
)
def test_the_practice_quiet_hours_narrow_call_hours(
    quiet: tuple[time, time], ended: datetime, expected: datetime | None
) -> None:
    assert next_call("reminder", "busy", ended, NY, quiet) == expected


@pytest.mark.parametrize(
    ("ended", "not_after", "expected"),
    [
        # No call again once the appointment it reminds of has begun.
        (ny(2027, 3, 3, 9, 0), ny(2027, 3, 3, 9, 20), None),
        (ny(2027, 3, 3, 9, 0), ny(2027, 3, 3, 9, 30), None),
        (ny(2027, 3, 3, 9, 0), ny(2027, 3, 3, 10, 0), ny(2027, 3, 3, 9, 30)),
        (ny(2027, 3, 3, 19, 45), ny(2027, 3, 4, 9, 0), None),
        (ny(2027, 3, 3, 19, 45), ny(2027, 3, 4, 10, 0), ny(2027, 3, 4, 9, 0)),
    ],
)
def test_no_call_at_or_after_its_last_useful_moment(
    ended: datetime, not_after: datetime, expected: datetime | None
) -> None:
    assert next_call("reminder", "busy", ended, NY, TEXT_QUIET, not_after=not_after) == expected


@pytest.mark.parametrize(
    ("at", "allowed", "first"),
    [
        (ny(2027, 3, 3, 8, 59), False, ny(2027, 3, 3, 9, 0)),
        (ny(2027, 3, 3, 9, 0), True, ny(2027, 3, 3, 9, 0)),
        (ny(2027, 3, 3, 19, 59), True, ny(2027, 3, 3, 19, 59)),
        (ny(2027, 3, 3, 20, 0), False, ny(2027, 3, 4, 9, 0)),
        (ny(2027, 3, 3, 23, 30), False, ny(2027, 3, 4, 9, 0)),
        # 01:30 on the night the clocks go forward, and the hour that repeats when they go back.
        (datetime(2027, 3, 14, 6, 30, tzinfo=UTC), False, datetime(2027, 3, 14, 13, 0, tzinfo=UTC)),
        (datetime(2027, 11, 7, 5, 30, tzinfo=UTC), False, datetime(2027, 11, 7, 14, 0, tzinfo=UTC)),
        (datetime(2027, 11, 7, 6, 30, tzinfo=UTC), False, datetime(2027, 11, 7, 14, 0, tzinfo=UTC)),
    ],
)
def test_calls_ring_from_9_until_8_in_the_evening_on_the_recipients_clock(
    at: datetime, allowed: bool, first: datetime
) -> None:
    assert may_call(at, NY, TEXT_QUIET) is allowed
    assert first_allowed(at, NY, TEXT_QUIET) == first


@pytest.mark.parametrize(
    ("call_status", "answered_by", "outcome"),
    [
        ("completed", "human", "answered"),
        ("completed", "unknown", "answered"),
        ("completed", "", "answered"),  # no machine detection asked for
        ("completed", "machine_start", "machine"),
        ("completed", "machine_end_beep", "machine"),
        ("completed", "machine_end_silence", "machine"),
        ("completed", "fax", "failed"),
        ("busy", "", "busy"),
        ("no-answer", "", "no_answer"),
        ("failed", "", "failed"),
        ("canceled", "", "failed"),
    ],
)
def test_twilio_call_results_are_read_as_one_outcome(
    call_status: str, answered_by: str, outcome: str
) -> None:
    assert outcome_of(call_status, answered_by) == outcome
