"""Recurring series: DST behaviour, rule parts, validation and the re-anchoring guard."""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as du
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.recurrence import InvalidRule, next_starts, occurrences, parse_rule, to_utc

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # 30-minute DST shift
ZONES = [NY, LONDON, LORD_HOWE, ZoneInfo("America/Santiago"), ZoneInfo("Asia/Tokyo")]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_times(starts: list[datetime], tz: ZoneInfo) -> list[str]:
    return [s.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") for s in starts]


@pytest.mark.parametrize(
    ("local", "tz", "expected"),
    [
        (datetime(2027, 3, 14, 2, 30), NY, utc(2027, 3, 14, 7, 30)),  # -> 03:30 EDT
        (datetime(2027, 3, 14, 2, 0), NY, utc(2027, 3, 14, 7, 0)),  # -> 03:00 EDT
        (datetime(2027, 3, 28, 1, 30), LONDON, utc(2027, 3, 28, 1, 30)),  # -> 02:30 BST
        (datetime(2027, 10, 3, 2, 15), LORD_HOWE, utc(2027, 10, 2, 15, 45)),  # -> 02:45 +11
    ],
)
def test_to_utc_moves_a_nonexistent_time_forward_by_the_gap(
    local: datetime, tz: ZoneInfo, expected: datetime
) -> None:
    assert to_utc(local, tz) == expected
    assert to_utc(local, tz).astimezone(tz).replace(tzinfo=None) - local in (
        timedelta(hours=1),
        timedelta(minutes=30),
    )


@pytest.mark.parametrize(
    ("local", "tz", "expected"),
    [
        (datetime(2027, 11, 7, 1, 30), NY, utc(2027, 11, 7, 5, 30)),  # 01:30 EDT, not EST
        (datetime(2027, 11, 7, 1, 0), NY, utc(2027, 11, 7, 5, 0)),
        (datetime(2027, 10, 31, 1, 30), LONDON, utc(2027, 10, 31, 0, 30)),  # BST, not GMT
    ],
)
def test_to_utc_takes_the_first_instant_of_a_repeated_time(
    local: datetime, tz: ZoneInfo, expected: datetime
) -> None:
    assert to_utc(local, tz) == expected


def test_to_utc_refuses_an_aware_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_utc(datetime(2027, 1, 1, 9, tzinfo=UTC), NY)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (  # March switch (Sun 14th): EST before, EDT after
            utc(2027, 3, 1),
            utc(2027, 3, 23),
            [utc(2027, 3, 1, 14), utc(2027, 3, 8, 14), utc(2027, 3, 15, 13), utc(2027, 3, 22, 13)],
        ),
        (  # November switch (Sun 7th): EDT before, EST after
            utc(2027, 10, 25),
            utc(2027, 11, 16),
            [
                utc(2027, 10, 25, 13),
                utc(2027, 11, 1, 13),
                utc(2027, 11, 8, 14),
                utc(2027, 11, 15, 14),
            ],
        ),
    ],
)
def test_it_keeps_wall_clock_time_across_dst(
    start: datetime, end: datetime, expected: list[datetime]
) -> None:
    starts = occurrences("FREQ=WEEKLY;BYDAY=MO", datetime(2027, 1, 4, 9), NY, start, end)
    assert starts == expected
    assert {s.astimezone(NY).time() for s in starts} == {time(9)}


def test_a_daily_series_at_a_nonexistent_time_moves_forward_only_on_the_switch_day() -> None:
    starts = occurrences(
        "FREQ=DAILY", datetime(2027, 3, 1, 2, 30), NY, utc(2027, 3, 13), utc(2027, 3, 16)
    )
    assert local_times(starts, NY) == [
        "2027-03-13 02:30 EST",
        "2027-03-14 03:30 EDT",
        "2027-03-15 02:30 EDT",
    ]


def test_a_daily_series_at_a_repeated_time_takes_the_first_one_on_the_switch_day() -> None:
    starts = occurrences(
        "FREQ=DAILY", datetime(2027, 11, 1, 1, 30), NY, utc(2027, 11, 6), utc(2027, 11, 9)
    )
    assert local_times(starts, NY) == [
        "2027-11-06 01:30 EDT",
        "2027-11-07 01:30 EDT",
        "2027-11-08 01:30 EST",
    ]


def test_count_ends_the_series_after_that_many_starts() -> None:
    rule = "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=24"
    starts = occurrences(rule, datetime(2027, 1, 4, 9), NY, utc(2026, 1, 1), utc(2030, 1, 1))
    assert len(starts) == 24
    assert starts[0] == utc(2027, 1, 4, 14)
    assert starts[-1] == utc(2027, 3, 25, 13)  # Thursday of the 12th week, in EDT
    middle = occurrences(rule, datetime(2027, 1, 4, 9), NY, utc(2027, 2, 1), utc(2027, 2, 8))
    assert middle == [utc(2027, 2, 1, 14), utc(2027, 2, 4, 14)]


def test_interval_skips_weeks_in_phase_with_the_first_start() -> None:
    rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
    starts = occurrences(rule, datetime(2020, 1, 7, 18), NY, utc(2027, 3, 1), utc(2027, 4, 1))
    assert local_times(starts, NY) == ["2027-03-09 18:00 EST", "2027-03-23 18:00 EDT"]
    assert (datetime(2027, 3, 9) - datetime(2020, 1, 7)).days % 14 == 0


def test_monthly_first_wednesday_until_a_utc_date() -> None:
    rule = "RRULE:FREQ=MONTHLY;BYDAY=1WE;UNTIL=20270505T130000Z"
    starts = occurrences(rule, datetime(2027, 1, 6, 9), NY, utc(2027, 1, 1), utc(2028, 1, 1))
    assert local_times(starts, NY) == [
        "2027-01-06 09:00 EST",
        "2027-02-03 09:00 EST",
        "2027-03-03 09:00 EST",
        "2027-04-07 09:00 EDT",
        "2027-05-05 09:00 EDT",  # 13:00Z: UNTIL is inclusive
    ]


@pytest.mark.parametrize(
    ("until", "last_day"),
    [
        ("20270305T140000Z", 5),  # exactly the 09:00 EST start: included
        ("20270305T135959Z", 4),
        ("20270305T090000", 5),  # floating local time
        ("20270305T085959", 4),
        ("20270305", 5),  # a date: the whole local day
        ("20270304", 4),
    ],
)
def test_until_may_be_utc_or_local_and_is_inclusive(until: str, last_day: int) -> None:
    rule = f"FREQ=DAILY;UNTIL={until}"
    starts = occurrences(rule, datetime(2027, 3, 1, 9), NY, utc(2027, 3, 1), utc(2027, 4, 1))
    assert starts[-1] == utc(2027, 3, last_day, 14)
    assert next_starts(rule, datetime(2027, 3, 1, 9), NY, utc(2027, 3, 3), 10)[-1] == starts[-1]


def test_start_is_inclusive_and_end_and_until_are_exclusive() -> None:
    first = datetime(2027, 3, 1, 9)
    window = (utc(2027, 3, 1, 14), utc(2027, 3, 3, 14))
    assert occurrences("FREQ=DAILY", first, NY, *window) == [
        utc(2027, 3, 1, 14),
        utc(2027, 3, 2, 14),
    ]
    cut = occurrences("FREQ=DAILY", first, NY, *window, until=utc(2027, 3, 2, 14))
    assert cut == [utc(2027, 3, 1, 14)]
    assert occurrences("FREQ=DAILY", first, NY, utc(2027, 3, 5), utc(2027, 3, 5)) == []


def test_next_starts_are_strictly_after_and_stop_at_until_or_count() -> None:
    first = datetime(2027, 1, 4, 9)
    rule = "FREQ=WEEKLY;BYDAY=MO"
    assert next_starts(rule, first, NY, utc(2027, 1, 4, 14), 2) == [
        utc(2027, 1, 11, 14),
        utc(2027, 1, 18, 14),
    ]
    assert next_starts(rule, first, NY, utc(2027, 1, 5), until=utc(2027, 1, 18, 14)) == [
        utc(2027, 1, 11, 14)
    ]
    assert len(next_starts(f"{rule};COUNT=3", first, NY, utc(2026, 1, 1), 10)) == 3
    assert next_starts(rule, first, NY, utc(2027, 1, 1), 0) == []
    assert next_starts(rule, first, NY, utc(2026, 6, 1), 1) == [utc(2027, 1, 4, 14)]


@pytest.fixture
def counted_iterations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    seen = [0]
    original = du.rrule._iter  # type: ignore[attr-defined]

    def counting(self: du.rrule) -> Iterator[datetime]:
        for value in original(self):
            seen[0] += 1
            yield value

    monkeypatch.setattr(du.rrule, "_iter", counting)
    yield seen


def test_a_years_old_daily_series_is_not_walked_from_its_first_start(
    counted_iterations: list[int],
) -> None:
    first = datetime(1990, 1, 1, 9)
    starts = occurrences("FREQ=DAILY", first, NY, utc(2027, 6, 1), utc(2027, 6, 8))
    assert len(starts) == 7
    after = next_starts("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR", first, NY, utc(2027, 6, 1), 4)
    assert len(after) == 4
    assert counted_iterations[0] < 60  # not the ~13,000 days since 1990


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=24",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        "rrule:freq=monthly;byday=1we;until=20280101T000000Z",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=10",
        "FREQ=DAILY;WKST=SU;",
        " FREQ=WEEKLY ; BYDAY=MO ",
    ],
)
def test_usable_rules_are_accepted(rule: str) -> None:
    parse_rule(rule, datetime(2027, 1, 6, 9))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("RRULE:", "empty"),
        ("BYDAY=MO", "FREQ is required"),
        ("FREQ=FORTNIGHTLY", "unknown FREQ value 'FORTNIGHTLY'"),
        ("FREQ=HOURLY", "FREQ=HOURLY is not supported"),
        ("FREQ=MINUTELY", "FREQ=MINUTELY is not supported"),
        ("FREQ=SECONDLY", "FREQ=SECONDLY is not supported"),
        ("FREQ=WEEKLY;BYDAY=XX", "unknown BYDAY value 'XX'"),
        ("FREQ=WEEKLY;BYDAY=MO,", "unknown BYDAY value ''"),
        ("FREQ=WEEKLY;BYDAY=1MO", "needs FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "out of range"),
        ("DTSTART:20270106T090000\nRRULE:FREQ=DAILY", "DTSTART"),
        ("FREQ=DAILY;DTSTART=20270106T090000", "DTSTART"),
        ("RRULE:FREQ=DAILY\nEXDATE:20270107T090000", "single RRULE"),
        ("FREQ=DAILY;FREQ=WEEKLY", "more than once"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number"),
        ("FREQ=DAILY;INTERVAL=x", "INTERVAL must be a whole number"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20280101", "COUNT or UNTIL"),
        ("FREQ=DAILY;UNTIL=2028-01-01", "UNTIL must look like"),
        ("FREQ=DAILY;UNTIL=20280231", "not a valid date"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not supported"),
        ("FREQ=DAILY;COLOR=RED", "unknown rule part 'COLOR'"),
        ("FREQ=DAILY;BYMONTH=13", "BYMONTH value '13'"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY value '0'"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "cannot be used with FREQ=WEEKLY"),
        ("FREQ=DAILY;WKST=XX", "unknown WKST"),
        ("FREQ=DAILY;INTERVAL", "NAME=VALUE"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "produces no dates"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "produces no dates"),  # first start is a Wednesday
        ("FREQ=DAILY;UNTIL=20270105T235959", "produces no dates"),
        ("FREQ=DAILY;UNTIL=20270101T000000Z", "produces no dates"),
    ],
)
def test_invalid_rules_are_refused_with_a_useful_message(rule: str, message: str) -> None:
    with pytest.raises(InvalidRule, match=message.replace("(", r"\(")):
        parse_rule(rule, datetime(2027, 1, 6, 9))


def test_a_utc_until_is_judged_in_the_clients_zone_when_given() -> None:
    # 09:00 in Tokyo is 00:00Z, but 14:00Z in New York.
    rule = "FREQ=DAILY;UNTIL=20270106T120000Z"
    parse_rule(rule, datetime(2027, 1, 6, 9))  # some zone could still fit: accepted
    parse_rule(rule, datetime(2027, 1, 6, 9), tz=ZoneInfo("Asia/Tokyo"))
    with pytest.raises(InvalidRule, match="no dates"):
        parse_rule(rule, datetime(2027, 1, 6, 9), tz=NY)


def test_occurrences_of_a_rule_without_dates_are_empty_not_slow() -> None:
    assert (
        occurrences(
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
            datetime(2027, 1, 6, 9),
            NY,
            utc(2027, 1, 1),
            utc(2030, 1, 1),
        )
        == []
    )


@st.composite
def rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 4))}"]
    days = draw(st.lists(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), unique=True))
    if freq == "MONTHLY" and days and draw(st.booleans()):
        parts.append(f"BYDAY={draw(st.sampled_from(['1', '2', '-1']))}{days[0]}")
    elif days and freq != "YEARLY":
        parts.append("BYDAY=" + ",".join(days))
        if freq == "MONTHLY" and draw(st.booleans()):
            parts.append("BYSETPOS=" + draw(st.sampled_from(["1", "-1", "2"])))
    elif freq == "MONTHLY" and draw(st.booleans()):
        parts.append(f"BYMONTHDAY={draw(st.sampled_from([1, 15, 28, 31, -1]))}")
    if draw(st.booleans()):
        parts.append(f"COUNT={draw(st.integers(1, 40))}")
    return ";".join(parts)


first_starts = st.datetimes(datetime(2000, 1, 1), datetime(2040, 1, 1)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@settings(max_examples=150, deadline=None)
@given(
    rule=rules(),
    first=first_starts,
    tz=st.sampled_from(ZONES),
    skip=st.integers(-30, 9000),
    days=st.integers(1, 120),
)
def test_occurrences_match_plain_dateutil_and_keep_the_wall_clock_time(
    rule: str, first: datetime, tz: ZoneInfo, skip: int, days: int
) -> None:
    start = to_utc(first, tz) + timedelta(days=skip)
    end = start + timedelta(days=days)
    got = occurrences(rule, first, tz, start, end)
    low = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=2)
    high = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=2)
    plain = du.rrulestr(rule, dtstart=first).between(low, high, inc=True)
    assert got == sorted(s for s in (to_utc(p, tz) for p in plain) if start <= s < end)
    for start_utc in got:
        wall = start_utc.astimezone(tz).replace(tzinfo=None)
        intended = datetime.combine(wall.date(), first.time())
        exists = to_utc(intended, tz).astimezone(tz).replace(tzinfo=None) == intended
        assert wall.time() == first.time() or not exists
