"""Automatic check-ins: which days of a gap are asked, at what time, and what stays stable."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain import sampling
from service.domain.planning import (
    AppointmentFacts,
    PlannedMessage,
    PlanSettings,
    Recipient,
    plan_appointment,
)
from service.domain.quiet import in_quiet_hours
from service.domain.sampling import AFTER, BEFORE, MIDDLE, Ask, ask_days, expected_next

NY = ZoneInfo("America/New_York")
H, D = timedelta(hours=1), timedelta(days=1)
NIGHT = (time(21, 0), time(8, 0))
GRACE = timedelta(hours=12)
SETTINGS = PlanSettings(
    reminder_offsets=(24 * H,),
    checkin_offsets="auto",
    quiet_start=NIGHT[0],
    quiet_end=NIGHT[1],
    practice_name="Eastside Clinic",
)
ALICE = Recipient(contact_id=7, phone="+15551230007", reminders=True, checkins=True)
LONG_AGO = datetime(2027, 1, 1, tzinfo=UTC)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant given as New York wall-clock time (which exists)."""
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


@pytest.mark.parametrize(
    ("gap", "days"),
    [
        (None, (1, 3)),  # a one-off: days 1 and 3
        (0, (1,)),  # a next session the same day: the next-session rule decides
        (1, (1,)),
        (2, (1,)),
        (3, (1, 2)),  # twice-weekly: Monday to Thursday
        (4, (1, 3)),  # and Thursday to Monday: no middle ask beside either
        (5, (1, 4)),
        (6, (1, 3, 5)),
        (7, (1, 3, 6)),  # weekly
        (10, (1, 5, 9)),
        (14, (1, 7, 13)),  # fortnightly
        (28, (1, 14, 27)),  # four-weekly
        (31, (1, 15, 30)),  # monthly
        (56, (1, 28, 55)),
        (57, (1, 3)),  # longer than LONGEST_GAP_DAYS: like a one-off
    ],
)
def test_a_gap_is_asked_on_day_one_the_middle_and_the_day_before(
    gap: int | None, days: tuple[int, ...]
) -> None:
    asks = ask_days(gap)
    assert tuple(a.day for a in asks) == days
    assert len(asks) <= 3
    assert asks[0] == Ask(AFTER, 1)
    assert len({a.role for a in asks}) == len(asks)


def test_the_last_ask_of_a_gap_of_three_days_or_more_is_the_baseline() -> None:
    for gap in range(3, sampling.LONGEST_GAP_DAYS + 1):
        assert ask_days(gap)[-1] == Ask(BEFORE, gap - 1)
    assert ask_days(7)[1] == Ask(MIDDLE, 3)


# (label, session start, its length, when the gap ends, the next booked session, now, quiet)
# -> (local date, local time, status) of each ask.
Row = tuple[str, datetime, timedelta, datetime | None, datetime | None, datetime, tuple[time, time]]
PLANS: list[tuple[Row, list[tuple[date, str, str]]]] = [
    (
        # Tuesday 10:00-11:00, weekly: Wednesday, Friday and Monday at 11:00, except that
        # Monday's 10:00 reminder pushes the baseline ask four hours later.
        (
            "weekly",
            ny(2027, 5, 11, 10),
            H,
            ny(2027, 5, 18, 10),
            ny(2027, 5, 18, 10),
            LONG_AGO,
            NIGHT,
        ),
        [
            (date(2027, 5, 12), "11:00", "planned"),
            (date(2027, 5, 14), "11:00", "planned"),
            (date(2027, 5, 17), "14:00", "planned"),
        ],
    ),
    (
        # Monday 17:00-18:00 to Thursday 17:00: Tuesday 18:00; Wednesday's 18:00 is an hour
        # after the 17:00 reminder and 21:00 is quiet, so four hours before it.
        (
            "twice weekly",
            ny(2027, 5, 10, 17),
            H,
            ny(2027, 5, 13, 17),
            ny(2027, 5, 13, 17),
            LONG_AGO,
            NIGHT,
        ),
        [
            (date(2027, 5, 11), "18:00", "planned"),
            (date(2027, 5, 12), "13:00", "planned"),
        ],
    ),
    (
        (
            "twice weekly, Thursday to Monday",
            ny(2027, 5, 13, 9),
            H,
            ny(2027, 5, 17, 9),
            None,
            LONG_AGO,
            NIGHT,
        ),
        [
            (date(2027, 5, 14), "10:00", "planned"),
            (date(2027, 5, 16), "13:00", "planned"),
        ],
    ),
    (
        (
            "fortnightly",
            ny(2027, 5, 11, 14),
            90 * timedelta(minutes=1),
            ny(2027, 5, 25, 14),
            None,
            LONG_AGO,
            NIGHT,
        ),
        [
            (date(2027, 5, 12), "15:30", "planned"),
            (date(2027, 5, 18), "15:30", "planned"),
            (date(2027, 5, 24), "18:00", "planned"),
        ],
    ),
    (
        ("monthly", ny(2027, 5, 3, 12), H, ny(2027, 6, 3, 12), None, LONG_AGO, NIGHT),
        [
            (date(2027, 5, 4), "13:00", "planned"),
            (date(2027, 5, 18), "13:00", "planned"),
            (date(2027, 6, 2), "16:00", "planned"),
        ],
    ),
    (
        ("one-off", ny(2027, 5, 11, 10), H, None, None, LONG_AGO, NIGHT),
        [
            (date(2027, 5, 12), "11:00", "planned"),
            (date(2027, 5, 14), "11:00", "planned"),
        ],
    ),
    (
        # Ending at 21:30, inside quiet hours: each ask just before they begin, the same day.
        (
            "late evening",
            ny(2027, 5, 11, 20, 30),
            H,
            ny(2027, 5, 18, 20, 30),
            None,
            LONG_AGO,
            NIGHT,
        ),
        [
            (date(2027, 5, 12), "20:59", "planned"),
            (date(2027, 5, 14), "20:59", "planned"),
            (date(2027, 5, 17), "16:30", "planned"),
        ],
    ),
    (
        # Ending at 7:00: when quiet hours end, the same morning.
        ("early morning", ny(2027, 5, 11, 6), H, ny(2027, 5, 18, 6), None, LONG_AGO, NIGHT),
        [
            (date(2027, 5, 12), "08:00", "planned"),
            (date(2027, 5, 14), "08:00", "planned"),
            (date(2027, 5, 17), "10:00", "planned"),
        ],
    ),
    (
        # Saturday before spring forward: Sunday's ask keeps the 19:00 wall clock (23 h later).
        ("DST day", ny(2027, 3, 13, 18), H, ny(2027, 3, 20, 18), None, LONG_AGO, NIGHT),
        [
            (date(2027, 3, 14), "19:00", "planned"),
            (date(2027, 3, 16), "19:00", "planned"),
            (date(2027, 3, 19), "14:00", "planned"),
        ],
    ),
    (
        # Weekly by rhythm, but the next session is booked three days later: Wednesday, and
        # Thursday (its baseline), spaced from Friday's 10:00 reminder anyway.
        (
            "next session earlier",
            ny(2027, 5, 11, 10),
            H,
            ny(2027, 5, 14, 10),
            ny(2027, 5, 14, 10),
            LONG_AGO,
            NIGHT,
        ),
        [
            (date(2027, 5, 12), "11:00", "planned"),
            (date(2027, 5, 13), "14:00", "planned"),
        ],
    ),
    (
        # The gap was expected to last a week, but the next session began on day 2: the asks
        # after it describe that session, not this one.
        (
            "next session began",
            ny(2027, 5, 11, 10),
            H,
            ny(2027, 5, 18, 10),
            ny(2027, 5, 13, 9),
            LONG_AGO,
            NIGHT,
        ),
        [
            (date(2027, 5, 12), "11:00", "planned"),
            (date(2027, 5, 14), "11:00", "skipped"),
            (date(2027, 5, 17), "14:00", "skipped"),
        ],
    ),
    (
        # Planned late the same day: at once; day 1 planned the next morning: too late.
        ("late, same day", ny(2027, 5, 11, 10), H, None, None, ny(2027, 5, 12, 15), NIGHT),
        [
            (date(2027, 5, 12), "15:00", "planned"),
            (date(2027, 5, 14), "11:00", "planned"),
        ],
    ),
    (
        ("late, next day", ny(2027, 5, 11, 10), H, None, None, ny(2027, 5, 13, 8), NIGHT),
        [
            (date(2027, 5, 12), "11:00", "expired"),
            (date(2027, 5, 14), "11:00", "planned"),
        ],
    ),
    (
        # Allowed only 08:00-12:00: no minute of the baseline day is 4 h from the 10:00
        # reminder, so that ask is skipped and the reminder alone goes.
        (
            "no room beside the reminder",
            ny(2027, 5, 11, 10),
            H,
            ny(2027, 5, 18, 10),
            None,
            LONG_AGO,
            (time(12), time(8)),
        ),
        [
            (date(2027, 5, 12), "11:00", "planned"),
            (date(2027, 5, 14), "11:00", "planned"),
            (date(2027, 5, 17), "11:00", "skipped"),
        ],
    ),
]


@pytest.mark.parametrize(("row", "expected"), PLANS, ids=[row[0] for row, _ in PLANS])
def test_asks_land_on_their_days_at_the_session_end_time(
    row: Row, expected: list[tuple[date, str, str]]
) -> None:
    _, start, length, gap_end, next_start, now, quiet = row
    reminders = [] if gap_end is None else [gap_end - 24 * H]
    asks = sampling.plan(
        start=start,
        end=start + length,
        gap_end=gap_end,
        next_start=next_start,
        tz=NY,
        quiet=quiet,
        reminders=reminders,
        now=now,
        grace=GRACE,
    )
    local = [(a.send_at.astimezone(NY), a.status) for a in asks]
    assert [(at.date(), at.strftime("%H:%M"), status) for at, status in local] == expected


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [
        ((7, 7, 7, 7), 7.0),
        ((3, 4, 3, 4), 3.5),  # twice weekly
        ((30, 7, 9, 6, 7), 7.0),  # irregular: the median of the last four gaps
        ((7, 21, 7, 8), 7.5),  # one long gap moves the median only half a day
        ((14, 14, 7, 7, 7, 7), 7.0),  # a new rhythm: only the last four gaps count
        ((10,), None),  # one gap is not a rhythm
        ((), None),
    ],
)
def test_the_usual_gap_is_the_median_of_the_last_four(
    gaps: tuple[int, ...], expected: float | None
) -> None:
    starts = [ny(2027, 1, 4, 10)]
    for gap in gaps:
        starts.append(starts[-1] + gap * D)
    later = starts[-1] + 100 * D  # a session after this one does not count
    found = expected_next([*starts, later], starts[-1])
    assert found == (None if expected is None else starts[-1] + timedelta(days=expected))


def facts(**changes: object) -> AppointmentFacts:
    base = AppointmentFacts(
        id=41,
        starts_at=ny(2027, 5, 11, 10),
        ends_at=ny(2027, 5, 11, 11),
        status="scheduled",
        timezone="America/New_York",
        language="en",
        client_name="Alice Moreno",
        recipients=(ALICE,),
        next_start=None,
        expected_next=ny(2027, 5, 18, 10),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def checkins(plan: list[PlannedMessage]) -> list[PlannedMessage]:
    return [m for m in plan if m.kind == "checkin"]


def test_auto_check_ins_are_keyed_by_role_and_worded_as_check_ins() -> None:
    plan = checkins(plan_appointment(facts(), SETTINGS, LONG_AGO))
    start = int(ny(2027, 5, 11, 10).timestamp())
    assert [m.key for m in plan] == [
        f"checkin:41:7:auto-{role}:{start}" for role in (AFTER, MIDDLE, BEFORE)
    ]
    assert {m.body for m in plan} == {
        "Hi Alice, Eastside Clinic checking in. How is your pain today, from 0 (none) to 10 "
        "(worst)? Reply with one number."
    }


def test_re_planning_an_unchanged_rhythm_changes_nothing() -> None:
    first = plan_appointment(facts(), SETTINGS, LONG_AGO)
    again = plan_appointment(facts(), SETTINGS, ny(2027, 5, 9, 12))
    assert again == first


def test_a_changed_rhythm_moves_the_asks_under_the_same_keys() -> None:
    weekly = checkins(plan_appointment(facts(), SETTINGS, LONG_AGO))
    booked = checkins(plan_appointment(facts(next_start=ny(2027, 5, 25, 10)), SETTINGS, LONG_AGO))
    assert [m.key for m in booked] == [m.key for m in weekly]
    assert [m.send_at.astimezone(NY).day for m in booked] == [12, 18, 24]


def test_a_client_may_have_auto_while_the_practice_has_fixed_offsets() -> None:
    fixed = replace(SETTINGS, checkin_offsets=(24 * H, 72 * H))
    assert len(checkins(plan_appointment(facts(), fixed, LONG_AGO))) == 2
    own = checkins(plan_appointment(facts(checkin_offsets="auto"), fixed, LONG_AGO))
    assert [m.key.split(":")[3] for m in own] == ["auto-after", "auto-middle", "auto-before"]
    # and the other way round: a client's own days under the practice's auto
    days = checkins(plan_appointment(facts(checkin_offsets=(2 * D,)), SETTINGS, LONG_AGO))
    assert [m.key.split(":")[3] for m in days] == [str(2 * 86400)]


def test_a_recipient_without_reminders_is_asked_at_the_session_end_time() -> None:
    quiet = replace(ALICE, reminders=False)
    plan = checkins(plan_appointment(facts(recipients=(quiet,)), SETTINGS, LONG_AGO))
    assert plan[-1].send_at == ny(2027, 5, 17, 11)


@settings(max_examples=300, deadline=None)
@given(
    start_minute=st.integers(0, 60 * 24 * 400),
    length=st.integers(30, 180),
    gap_hours=st.one_of(st.none(), st.integers(1, 24 * 70)),
    quiet_start=st.integers(0, 23),
    quiet_end=st.integers(0, 23),
    reminder_hours=st.lists(st.integers(1, 72), max_size=3, unique=True),
)
def test_never_two_asks_a_day_nor_more_than_three_nor_inside_quiet_hours(
    start_minute: int,
    length: int,
    gap_hours: int | None,
    quiet_start: int,
    quiet_end: int,
    reminder_hours: list[int],
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=start_minute)
    gap_end = None if gap_hours is None else start + timedelta(hours=gap_hours)
    quiet = (time(quiet_start), time(quiet_end))
    reminders = [] if gap_end is None else [gap_end - h * H for h in reminder_hours]
    asks = sampling.plan(
        start=start,
        end=start + timedelta(minutes=length),
        gap_end=gap_end,
        next_start=gap_end,
        tz=NY,
        quiet=quiet,
        reminders=reminders,
        now=LONG_AGO,
        grace=GRACE,
    )
    sent = [a for a in asks if a.status == "planned"]
    assert len(asks) <= 3
    days = [a.send_at.astimezone(NY).date() for a in asks]
    assert len(set(days)) == len(days)
    for ask in sent:
        assert not in_quiet_hours(ask.send_at, NY, *quiet)
        assert all(abs(ask.send_at - r) >= sampling.REMINDER_SPACING for r in reminders)
        assert gap_end is None or ask.send_at < gap_end
        assert ask.send_at > start
