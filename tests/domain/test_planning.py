"""Planning reminders and check-ins: offsets, quiet hours, late bookings and the next session."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.planning import (
    AppointmentFacts,
    PlannedMessage,
    PlanSettings,
    Recipient,
    parse_checkin_days,
    plan_appointment,
)
from service.domain.quiet import after_quiet_hours, before_quiet_hours, in_quiet_hours

NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)
NIGHT = (time(21, 0), time(8, 0))  # wraps midnight
LUNCH = (time(13, 0), time(14, 0))  # does not
SETTINGS = PlanSettings(
    reminder_offsets=(24 * H,),
    checkin_offsets=(24 * H, 72 * H),
    quiet_start=time(21, 0),
    quiet_end=time(8, 0),
    practice_name="Eastside Clinic",
)
ALICE = Recipient(contact_id=7, phone="+15551230007", reminders=True, checkins=True)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant given as New York wall-clock time (which exists)."""
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def appointment(starts: datetime, **changes: object) -> AppointmentFacts:
    facts = AppointmentFacts(
        id=41,
        starts_at=starts,
        ends_at=starts + H,
        status="scheduled",
        timezone="America/New_York",
        language="en",
        client_name="Alice Moreno",
        recipients=(ALICE,),
        next_start=None,
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


def only(messages: list[PlannedMessage], kind: str) -> list[PlannedMessage]:
    return [m for m in messages if m.kind == kind]


def fates(messages: list[PlannedMessage]) -> list[tuple[str, datetime]]:
    return [(m.status, m.send_at) for m in messages]


@pytest.mark.parametrize(
    ("window", "clock", "quiet"),
    [
        (NIGHT, (20, 59), False),
        (NIGHT, (21, 0), True),  # quiet_start is the first quiet minute
        (NIGHT, (21, 1), True),
        (NIGHT, (0, 0), True),
        (NIGHT, (7, 59), True),
        (NIGHT, (8, 0), False),  # quiet_end is the first allowed minute
        (NIGHT, (12, 0), False),
        (LUNCH, (12, 59), False),
        (LUNCH, (13, 0), True),
        (LUNCH, (13, 59), True),
        (LUNCH, (14, 0), False),
        ((time(8), time(8)), (8, 0), False),  # start == end: no quiet hours
        ((time(8), time(8)), (3, 0), False),
    ],
)
def test_quiet_hours_include_their_start_and_exclude_their_end(
    window: tuple[time, time], clock: tuple[int, int], quiet: bool
) -> None:
    assert in_quiet_hours(ny(2027, 5, 4, *clock), NY, *window) is quiet


@pytest.mark.parametrize(
    ("window", "at", "expected"),
    [
        (NIGHT, ny(2027, 5, 4, 20, 59), ny(2027, 5, 4, 20, 59)),
        (NIGHT, ny(2027, 5, 4, 21, 0), ny(2027, 5, 4, 20, 59)),
        (NIGHT, ny(2027, 5, 4, 21, 1), ny(2027, 5, 4, 20, 59)),
        (NIGHT, ny(2027, 5, 5, 3, 0), ny(2027, 5, 4, 20, 59)),  # after midnight: the day before
        (NIGHT, ny(2027, 5, 5, 7, 59), ny(2027, 5, 4, 20, 59)),
        (NIGHT, ny(2027, 5, 5, 8, 0), ny(2027, 5, 5, 8, 0)),
        (LUNCH, ny(2027, 5, 4, 13, 0), ny(2027, 5, 4, 12, 59)),
        (LUNCH, ny(2027, 5, 4, 13, 59), ny(2027, 5, 4, 12, 59)),
        (LUNCH, ny(2027, 5, 4, 14, 0), ny(2027, 5, 4, 14, 0)),
        # across the March switch: 20:59 EST on Saturday
        (NIGHT, ny(2027, 3, 14, 7, 30), ny(2027, 3, 13, 20, 59)),
        # across the November switch: 20:59 EDT on Saturday
        (NIGHT, ny(2027, 11, 7, 7, 30), ny(2027, 11, 6, 20, 59)),
    ],
)
def test_before_quiet_hours_is_the_minute_before_the_window_began(
    window: tuple[time, time], at: datetime, expected: datetime
) -> None:
    assert before_quiet_hours(at, NY, *window) == expected


@pytest.mark.parametrize(
    ("window", "at", "expected"),
    [
        (NIGHT, ny(2027, 5, 4, 20, 59), ny(2027, 5, 4, 20, 59)),
        (NIGHT, ny(2027, 5, 4, 21, 0), ny(2027, 5, 5, 8, 0)),
        (NIGHT, ny(2027, 5, 5, 3, 0), ny(2027, 5, 5, 8, 0)),
        (NIGHT, ny(2027, 5, 5, 7, 59), ny(2027, 5, 5, 8, 0)),
        (NIGHT, ny(2027, 5, 5, 8, 0), ny(2027, 5, 5, 8, 0)),
        (LUNCH, ny(2027, 5, 4, 13, 0), ny(2027, 5, 4, 14, 0)),
        (LUNCH, ny(2027, 5, 4, 12, 59), ny(2027, 5, 4, 12, 59)),
        # the night of the March switch is an hour shorter: 08:00 EDT
        (NIGHT, ny(2027, 3, 13, 22, 0), datetime(2027, 3, 14, 12, tzinfo=UTC)),
        # the night of the November switch is an hour longer: 08:00 EST
        (NIGHT, ny(2027, 11, 6, 22, 0), datetime(2027, 11, 7, 13, tzinfo=UTC)),
    ],
)
def test_after_quiet_hours_is_the_moment_the_window_ends(
    window: tuple[time, time], at: datetime, expected: datetime
) -> None:
    assert after_quiet_hours(at, NY, *window) == expected


def test_quiet_edges_inside_dst_gaps_and_repeats_use_the_real_clock() -> None:
    # Quiet from 02:30, which 2027-03-14 skips: the window began when the clock jumped to
    # 03:00 EDT (07:00Z), so the last allowed minute is 01:59 EST.
    at = datetime(2027, 3, 14, 8, tzinfo=UTC)  # 04:00 EDT
    assert before_quiet_hours(at, NY, time(2, 30), time(8)) == datetime(
        2027, 3, 14, 6, 59, tzinfo=UTC
    )
    # Quiet until 02:30 that same night: the jump to 03:00 EDT already ends it.
    at = datetime(2027, 3, 14, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert after_quiet_hours(at, NY, time(22), time(2, 30)) == datetime(2027, 3, 14, 7, tzinfo=UTC)
    # 01:45 EST on 2027-11-07 is the second 01:45: that quiet stretch began at 01:30 EST.
    at = datetime(2027, 11, 7, 6, 45, tzinfo=UTC)
    assert before_quiet_hours(at, NY, time(1, 30), time(8)) == datetime(
        2027, 11, 7, 6, 29, tzinfo=UTC
    )
    # 01:15 EST is quiet until the clock reads 01:30 for the second time.
    at = datetime(2027, 11, 7, 6, 15, tzinfo=UTC)
    assert after_quiet_hours(at, NY, time(22), time(1, 30)) == datetime(
        2027, 11, 7, 6, 30, tzinfo=UTC
    )


def test_it_plans_a_reminder_before_and_check_ins_after_the_appointment() -> None:
    starts = ny(2027, 5, 12, 10, 0)
    plan = plan_appointment(appointment(starts), SETTINGS, now=ny(2027, 5, 1, 12))
    assert [(m.kind, m.status, m.send_at) for m in plan] == [
        ("reminder", "planned", starts - 24 * H),
        ("checkin", "planned", starts + H + 24 * H),
        ("checkin", "planned", starts + H + 72 * H),
    ]
    stamp = int(starts.timestamp())
    assert [m.key for m in plan] == [
        f"reminder:41:7:86400:{stamp}",
        f"checkin:41:7:86400:{stamp}",
        f"checkin:41:7:259200:{stamp}",
    ]
    assert all(m.to == "+15551230007" and m.appointment_id == 41 for m in plan)
    assert "Alice" in plan[0].body and "Wed May 12, 10:00 AM" in plan[0].body
    assert "Alice" in plan[1].body and "0 (none) to 10 (worst)" in plan[1].body


def test_the_plan_is_deterministic_and_keys_do_not_depend_on_now() -> None:
    facts = appointment(ny(2027, 5, 12, 10, 0))
    first = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    assert first == plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    later = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 9, 12))
    assert [m.key for m in later] == [m.key for m in first]


def test_a_reminder_in_quiet_hours_moves_earlier_and_a_check_in_later() -> None:
    starts = ny(2027, 5, 12, 7, 30)  # 24 h before is 07:30, still quiet
    facts = appointment(starts, ends_at=ny(2027, 5, 12, 22, 0))
    plan = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    assert fates(only(plan, "reminder")) == [("planned", ny(2027, 5, 10, 20, 59))]
    assert fates(only(plan, "checkin")) == [
        ("planned", ny(2027, 5, 14, 8, 0)),  # 22:00 on the 13th is quiet
        ("planned", ny(2027, 5, 16, 8, 0)),
    ]


def test_reminders_keep_elapsed_offsets_across_the_dst_switch() -> None:
    starts = ny(2027, 3, 14, 10, 0)  # Sunday 10:00 EDT, the day of the switch
    plan = plan_appointment(appointment(starts), SETTINGS, now=ny(2027, 3, 1, 12))
    reminder = only(plan, "reminder")[0]
    assert reminder.send_at == starts - 24 * H
    assert reminder.send_at.astimezone(NY).hour == 9  # Saturday 09:00 EST, a wall hour earlier


LATE = replace(SETTINGS, reminder_offsets=(48 * H, 24 * H, 2 * H))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (  # all three overdue: only the latest goes, at once
            ny(2027, 5, 12, 9, 0),
            {
                48: ("skipped", ny(2027, 5, 10, 10)),
                24: ("skipped", ny(2027, 5, 11, 10)),
                2: ("planned", ny(2027, 5, 12, 9, 0)),
            },
        ),
        (  # two overdue: the 24 h one goes now, the 2 h one stays planned
            ny(2027, 5, 11, 15, 0),
            {
                48: ("skipped", ny(2027, 5, 10, 10)),
                24: ("planned", ny(2027, 5, 11, 15)),
                2: ("planned", ny(2027, 5, 12, 8)),
            },
        ),
        (  # booked during quiet hours: the overdue one waits for 08:00
            ny(2027, 5, 11, 23, 0),
            # ... and so would arrive with the 2 h one: that one is enough
            {
                48: ("skipped", ny(2027, 5, 10, 10)),
                24: ("skipped", ny(2027, 5, 11, 10)),
                2: ("planned", ny(2027, 5, 12, 8)),
            },
        ),
        (  # the appointment has started: every overdue reminder is skipped
            ny(2027, 5, 12, 10, 0),
            {
                48: ("skipped", ny(2027, 5, 10, 10)),
                24: ("skipped", ny(2027, 5, 11, 10)),
                2: ("skipped", ny(2027, 5, 12, 8)),
            },
        ),
    ],
)
def test_a_late_booking_gets_only_the_latest_overdue_reminder_at_once(
    now: datetime, expected: dict[int, tuple[str, datetime]]
) -> None:
    plan = only(plan_appointment(appointment(ny(2027, 5, 12, 10, 0)), LATE, now), "reminder")
    hours = {int(m.key.split(":")[3]) // 3600: (m.status, m.send_at) for m in plan}
    assert hours == expected


def test_a_late_reminder_that_would_wait_past_the_start_is_skipped() -> None:
    # Booked at 23:00 for 07:30: quiet hours last until after the appointment starts.
    plan = plan_appointment(appointment(ny(2027, 5, 12, 7, 30)), SETTINGS, ny(2027, 5, 11, 23))
    assert [m.status for m in only(plan, "reminder")] == ["skipped"]


@pytest.mark.parametrize(
    ("late_by", "status", "sent"),
    [
        (timedelta(0), "planned", "now"),
        (11 * H + 59 * timedelta(minutes=1), "planned", "now"),
        (12 * H, "expired", "due"),
        (30 * H, "expired", "due"),
    ],
)
def test_late_check_ins_go_out_within_the_grace_and_expire_after_it(
    late_by: timedelta, status: str, sent: str
) -> None:
    settings_ = replace(SETTINGS, checkin_offsets=(24 * H,))
    starts = ny(2027, 5, 12, 7, 0)
    due = starts + H + 24 * H  # 08:00 on the 13th, so "now" stays out of quiet hours
    plan = plan_appointment(appointment(starts), settings_, now=due + late_by)
    checkins = only(plan, "checkin")
    assert fates(checkins) == [(status, due + late_by if sent == "now" else due)]


def test_a_late_check_in_waits_for_quiet_hours_to_end() -> None:
    settings_ = replace(SETTINGS, checkin_offsets=(24 * H,))
    starts = ny(2027, 5, 12, 10, 0)  # check-in due 11:00 on the 13th
    plan = plan_appointment(appointment(starts), settings_, now=ny(2027, 5, 13, 22, 30))
    assert fates(only(plan, "checkin")) == [("planned", ny(2027, 5, 14, 8, 0))]


@pytest.mark.parametrize(
    ("next_start", "statuses"),
    [
        (None, ["planned", "planned"]),
        (ny(2027, 5, 14, 10, 0), ["planned", "skipped"]),  # before the 72 h check-in
        (ny(2027, 5, 13, 11, 0), ["skipped", "skipped"]),  # exactly at the 24 h one
        (ny(2027, 5, 20, 10, 0), ["planned", "planned"]),
    ],
)
def test_a_check_in_is_skipped_once_the_next_session_has_begun(
    next_start: datetime | None, statuses: list[str]
) -> None:
    facts = appointment(ny(2027, 5, 12, 10, 0), next_start=next_start)
    plan = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    assert [m.status for m in only(plan, "checkin")] == statuses


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_cancelled_and_no_show_appointments_plan_nothing(status: str) -> None:
    facts = appointment(ny(2027, 5, 12, 10, 0), status=status)
    assert plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12)) == []


def test_a_completed_appointment_still_gets_its_check_ins() -> None:
    facts = appointment(ny(2027, 5, 12, 10, 0), status="completed")
    plan = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 12, 11, 30))
    assert [(m.kind, m.status) for m in plan] == [
        ("reminder", "skipped"),
        ("checkin", "planned"),
        ("checkin", "planned"),
    ]


def test_each_recipient_gets_only_the_kinds_it_wants_and_duplicates_once() -> None:
    guardian = Recipient(contact_id=8, phone="+15551230008", reminders=True, checkins=False)
    quiet = Recipient(contact_id=9, phone="+15551230009", reminders=False, checkins=False)
    facts = appointment(ny(2027, 5, 12, 10, 0), recipients=(ALICE, guardian, quiet, ALICE))
    plan = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    assert sorted((m.contact_id, m.kind) for m in plan) == [
        (7, "checkin"),
        (7, "checkin"),
        (7, "reminder"),
        (8, "reminder"),
    ]
    assert plan == sorted(plan, key=lambda m: (m.send_at, m.key))


def test_texts_are_in_the_clients_language_and_local_time() -> None:
    facts = appointment(
        ny(2027, 5, 12, 17, 30),
        language="es",
        client_name="Moreno, Lucía",
        timezone="America/New_York",
    )
    reminder, *checkins = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    assert reminder.body.startswith("Hola Lucía,")
    assert "mié 12 may, 17:30" in reminder.body
    assert "Eastside Clinic" in reminder.body
    assert all("dolor" in m.body for m in checkins)


@pytest.mark.parametrize(
    ("language", "reminder", "checkin"),
    [
        ("en", "Hi Rosa, a reminder of Alice's appointment", "How is Alice's pain today"),
        ("es", "Hola Rosa, recordamos la cita de Alice", "nivel de dolor tiene Alice hoy"),
    ],
)
def test_a_caregiver_is_greeted_by_name_and_told_whose_texts_they_are(
    language: str, reminder: str, checkin: str
) -> None:
    rosa = Recipient(8, "+15551230008", True, True, caregiver=True, name="Rosa Moreno")
    facts = appointment(ny(2027, 5, 12, 10, 0), recipients=(ALICE, rosa), language=language)
    plan = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    hers = {m.kind: m.body for m in plan if m.contact_id == rosa.contact_id}
    own = {m.kind: m.body for m in plan if m.contact_id == ALICE.contact_id}
    assert hers["reminder"].startswith(reminder) and checkin in hers["checkin"]
    assert own["reminder"].startswith(("Hi Alice, reminder of your", "Hola Alice, le recordamos"))


@pytest.mark.parametrize(
    "changes",
    [
        {"reminder_offsets": (timedelta(0),)},
        {"checkin_offsets": (H, H)},
        {"quiet_start": time(21, 0, 30)},
        {"late_checkin_grace": -H},
    ],
)
def test_settings_refuse_impossible_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        replace(SETTINGS, **changes)  # type: ignore[arg-type]


def test_unknown_status_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        plan_appointment(appointment(ny(2027, 5, 12, 10), status="maybe"), SETTINGS, ny(2027, 5, 1))
    with pytest.raises(ValueError, match="aware"):
        plan_appointment(appointment(ny(2027, 5, 12, 10)), SETTINGS, datetime(2027, 5, 1))


ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "UTC"]
minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
offsets = st.lists(st.integers(1, 96 * 60), min_size=0, max_size=4, unique=True).map(
    lambda xs: tuple(timedelta(minutes=x) for x in xs)
)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    quiet_start=minutes,
    quiet_end=minutes,
    reminders=offsets,
    checkins=offsets,
    starts=st.datetimes(datetime(2026, 1, 1), datetime(2029, 1, 1), timezones=st.just(UTC)),
    length=st.integers(15, 180),
    now_shift=st.integers(-10 * 24 * 60, 5 * 24 * 60),
    next_in=st.none() | st.integers(1, 10 * 24 * 60),
)
def test_nothing_planned_is_ever_inside_quiet_hours(
    zone: str,
    quiet_start: time,
    quiet_end: time,
    reminders: tuple[timedelta, ...],
    checkins: tuple[timedelta, ...],
    starts: datetime,
    length: int,
    now_shift: int,
    next_in: int | None,
) -> None:
    rules = PlanSettings(reminders, checkins, quiet_start, quiet_end, "Eastside Clinic")
    tz = ZoneInfo(zone)
    facts = appointment(
        starts,
        ends_at=starts + timedelta(minutes=length),
        timezone=zone,
        next_start=None if next_in is None else starts + timedelta(minutes=next_in),
    )
    now = starts + timedelta(minutes=now_shift)
    plan = plan_appointment(facts, rules, now)
    assert plan == sorted(plan, key=lambda m: (m.send_at, m.key))
    assert len({m.key for m in plan}) == len(plan) == len(reminders) + len(checkins)
    for message in plan:
        if message.status != "planned":
            continue
        assert not in_quiet_hours(message.send_at, tz, quiet_start, quiet_end)
        assert message.send_at >= now
        if message.kind == "reminder":
            assert message.send_at < starts
        elif facts.next_start is not None:
            assert message.send_at < facts.next_start


D = timedelta(days=1)


@pytest.mark.parametrize(
    ("days", "next_start", "expected"),
    [
        # The practice's offsets when the client has none of their own.
        (None, None, [("planned", ny(2027, 5, 13, 11)), ("planned", ny(2027, 5, 15, 11))]),
        # Days 1, 3 and 5 sample the relief curve, at the session's end time each day.
        (
            (1, 3, 5),
            None,
            [
                ("planned", ny(2027, 5, 13, 11)),
                ("planned", ny(2027, 5, 15, 11)),
                ("planned", ny(2027, 5, 17, 11)),
            ],
        ),
        # ...and still give way to the next session: day 5 falls after Monday's start.
        (
            (1, 3, 5),
            ny(2027, 5, 17, 10),
            [
                ("planned", ny(2027, 5, 13, 11)),
                ("planned", ny(2027, 5, 15, 11)),
                ("skipped", ny(2027, 5, 17, 11)),
            ],
        ),
    ],
)
def test_a_client_may_have_check_in_days_of_their_own(
    days: tuple[int, ...] | None,
    next_start: datetime | None,
    expected: list[tuple[str, datetime]],
) -> None:
    facts = appointment(
        ny(2027, 5, 12, 10, 0),
        next_start=next_start,
        checkin_offsets=None if days is None else tuple(d * D for d in days),
    )
    plan = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    assert fates(only(plan, "checkin")) == expected


def test_own_check_in_days_stay_one_a_day_across_quiet_hours() -> None:
    # A session ending inside quiet hours: every check-in moves to a morning, each its own.
    facts = appointment(
        ny(2027, 5, 12, 20, 30), checkin_offsets=(1 * D, 2 * D, 3 * D)
    )  # ends 21:30, quiet from 21:00
    plan = plan_appointment(facts, SETTINGS, now=ny(2027, 5, 1, 12))
    local_days = [m.send_at.astimezone(NY).date() for m in only(plan, "checkin")]
    assert len(set(local_days)) == len(local_days) == 3


@pytest.mark.parametrize(
    ("raw", "days"),
    [
        ("1,3,5", (1, 3, 5)),
        (" 5, 1 ,3 ", (1, 3, 5)),
        ("2", (2,)),
        ("1,2,3,4,5,30", (1, 2, 3, 4, 5, 30)),
        ("auto", "auto"),  # days that follow the client's rhythm (sampling)
        (" Auto ", "auto"),
    ],
)
def test_check_in_days_are_read_sorted(raw: str, days: tuple[int, ...] | str) -> None:
    assert parse_checkin_days(raw) == days


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "at least one day"),
        ("0", "from 1 to 30"),
        ("31", "from 1 to 30"),
        ("1,1", "once"),
        ("1.5", "whole numbers"),
        ("-1", "whole numbers"),
        ("٣", "whole numbers"),
        ("1;3", "whole numbers"),
        ("1,2,3,4,5,6,7", "at most 6"),
        ("999999999999", "whole numbers"),
        ("auto,1", "or auto"),
        ("automatic", "or auto"),
    ],
)
def test_bad_check_in_days_say_what_is_wrong(raw: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_checkin_days(raw)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(2026, 12, 7, 23, 59), ny(2026, 12, 8, 8)),  # before midnight: tomorrow 8:00
        (ny(2026, 12, 8, 0, 0), ny(2026, 12, 8, 8)),  # at midnight: today 8:00
        (ny(2026, 12, 8, 7, 59), ny(2026, 12, 8, 8)),
        (ny(2027, 3, 13, 22), ny(2027, 3, 14, 8)),  # across spring forward (EDT at 8:00)
        (ny(2026, 10, 31, 22), ny(2026, 11, 1, 8)),  # across fall back (EST at 8:00)
    ],
)
def test_send_at_the_end_of_quiet_hours_is_8_am_where_the_client_lives(
    at: datetime, expected: datetime
) -> None:
    """The "Send at 8:00 AM" choice: the first minute after the night's quiet hours."""
    later = after_quiet_hours(at, NY, *NIGHT)
    assert later == expected
    assert later.astimezone(NY).strftime("%H:%M") == "08:00"
