"""The expansion of real-world-shaped feeds (tests/calendar_files) into session instances,
checked against times computed by hand across the DST changes of New York and Madrid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from service.domain import calendar_events
from service.domain.calendar_events import UnreadableCalendar, expand

FILES = Path(__file__).parent.parent / "calendar_files"


def z(text: str) -> datetime:
    """A UTC instant written as 2026-03-05T15:00."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rows(name: str, start: str, end: str) -> list[tuple[str, str, str, str, str, bool]]:
    """The instances of a fixture as (uid, instance, title, start, end, cancelled)."""
    text = (FILES / name).read_bytes()
    return [
        (
            i.uid,
            i.recurrence_id,
            i.title,
            i.starts_at.strftime("%m-%d %H:%M"),
            i.ends_at.strftime("%m-%d %H:%M"),
            i.cancelled,
        )
        for i in expand(text, z(start), z(end), UTC)
    ]


GOOGLE = "7kukuqrfedlm2f9t0vr42q@google.com"
MARIA = "Massage \u2013 Maria G. (follow-up)"


def test_google_feed_with_x_wr_timezone_across_new_york_dst() -> None:
    # Thursdays 10:00 New York: EST (UTC-5) until 8 March 2026, EDT (UTC-4) after.
    # 19 March is an EXDATE; 12 March moved to Friday 13 March 14:00; 26 March cancelled.
    # The all-day "Office closed" and the 14-hour "Conference" are no sessions.
    assert rows("google.ics", "2026-02-01T00:00", "2026-05-01T00:00") == [
        (GOOGLE, "2026-02-26T15:00:00+00:00", MARIA, "02-26 15:00", "02-26 16:00", False),
        (GOOGLE, "2026-03-05T15:00:00+00:00", MARIA, "03-05 15:00", "03-05 16:00", False),
        ("1b2c3d4e5f@google.com", "", "Tom B.", "03-10 17:00", "03-10 18:00", False),
        (GOOGLE, "2026-03-12T14:00:00+00:00", MARIA, "03-13 18:00", "03-13 19:00", False),
        (GOOGLE, "2026-03-26T14:00:00+00:00", MARIA, "03-26 14:00", "03-26 15:00", True),
        (GOOGLE, "2026-04-02T14:00:00+00:00", MARIA, "04-02 14:00", "04-02 15:00", False),
    ]


def test_outlook_feed_with_windows_zone_names_across_madrid_dst() -> None:
    # Tuesdays 18:00 "Romance Standard Time" (Madrid): CET (UTC+1) until 29 March 2026,
    # CEST (UTC+2) after. "W. Europe Standard Time" (Berlin) and "Pacific Standard Time"
    # come without a VTIMEZONE block and are read as their IANA zones.
    outlook = "040000008200E00074C5B7101A82E00800000000F0A1B2C3D4E5D901000000000000000"
    outlook += "010000000AABBCCDDEEFF00112233445566778899"
    assert rows("outlook.ics", "2026-03-01T00:00", "2026-05-01T00:00") == [
        (
            "040000008200E00074C5B7101A82E00800000000BBBBBBBBBBBBBBB",
            "",
            "Ana R.",
            "03-05 17:00",
            "03-05 18:00",
            False,
        ),
        (outlook, "2026-03-17T17:00:00+00:00", "Lucía P.", "03-17 17:00", "03-17 18:00", False),
        (outlook, "2026-03-24T17:00:00+00:00", "Lucía P.", "03-24 17:00", "03-24 18:00", False),
        (outlook, "2026-03-31T16:00:00+00:00", "Lucía P.", "03-31 16:00", "03-31 17:00", False),
        (
            "040000008200E00074C5B7101A82E00800000000AAAAAAAAAAAAAAA",
            "",
            "Jon K.",
            "04-02 08:00",
            "04-02 09:00",
            False,
        ),
    ]


def test_apple_feed_with_vtimezone_across_the_end_of_new_york_dst() -> None:
    # Thursdays 9:00 New York until 12 November: EDT until 1 November 2026, EST after.
    # A DURATION instead of DTEND; a single event cancelled as a whole.
    apple = "5F1C3A2B-8D4E-4F6A-9B7C-1D2E3F4A5B6C"
    assert rows("apple.ics", "2026-10-01T00:00", "2026-12-01T00:00") == [
        (apple, "2026-10-22T13:00:00+00:00", "maria g", "10-22 13:00", "10-22 14:00", False),
        (apple, "2026-10-29T13:00:00+00:00", "maria g", "10-29 13:00", "10-29 14:00", False),
        ("9A8B7C6D-5E4F-4A3B-2C1D-0E9F8A7B6C5D", "", "Tom B.", "10-30 19:00", "10-30 20:30", False),
        ("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "", "Ana R.", "11-03 16:00", "11-03 17:00", True),
        (apple, "2026-11-05T14:00:00+00:00", "maria g", "11-05 14:00", "11-05 15:00", False),
        (apple, "2026-11-12T14:00:00+00:00", "maria g", "11-12 14:00", "11-12 15:00", False),
    ]


def test_the_window_keeps_instances_starting_in_it() -> None:
    found = rows("google.ics", "2026-03-05T15:00", "2026-03-13T18:00")
    assert [r[3] for r in found] == ["03-05 15:00", "03-10 17:00"]


def test_floating_times_without_x_wr_timezone_are_read_in_the_given_zone() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:f1\r\n"
        "DTSTART:20260701T100000\r\nDTEND:20260701T110000\r\nSUMMARY:Maria G.\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    [one] = expand(text, z("2026-06-01T00:00"), z("2026-08-01T00:00"), ZoneInfo("Europe/Madrid"))
    assert one.starts_at == z("2026-07-01T08:00")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello, this is a web page", "not an iCalendar file"),
        ("<html><body>Sign in</body></html>", "not an iCalendar file"),
        ("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nDTSTART:2026", "cut short"),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:notadate\nEND:VEVENT\nEND:VCALENDAR\n",
            "start time \\(DTSTART\\) cannot be read",
        ),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n",
            "could not be expanded",
        ),
        (b"BEGIN:VCALENDAR\n\xff\xfe\x00garbage\nEND:VCALENDAR\n", "could not be read"),
        ("", "not an iCalendar file"),
    ],
)
def test_bad_input_is_a_clear_error(text: str | bytes, reason: str) -> None:
    with pytest.raises(UnreadableCalendar, match=reason):
        expand(text, z("2026-01-01T00:00"), z("2027-01-01T00:00"), UTC)


PRIVATE = "Maria Garcia 617-555-0101"  # what a broken line may hold


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (f"DTSTART:20260302T100000Z\r\nRRULE:FREQ=WEEKLY;BYDAY={PRIVATE}\r\n", "repeat rule"),
        (f"DTSTART:20260302T100000Z\r\nRRULE:FREQ={PRIVATE}\r\n", "repeat rule"),
        (f"DTSTART:20260302T100000Z\r\nRRULE:FREQ=DAILY;UNTIL={PRIVATE}\r\n", "repeat rule"),
        (f"DTSTART:2026XXXX {PRIVATE}\r\nDTEND:20260302T110000Z\r\n", "start time"),
        (f"DTSTART;TZID=Europe/Berlin:{PRIVATE}\r\n", "start time"),
        (f"DTSTART:20260302T100000Z\r\nDTEND:2026XXXX {PRIVATE}\r\n", "end time"),
        (f"DTSTART:20260302T100000Z\r\nDURATION:P{PRIVATE}\r\n", "length"),
        (
            f"DTSTART:20260302T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nRECURRENCE-ID:{PRIVATE}\r\n",
            "original date",
        ),
        (
            f"DTSTART:20260302T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEXDATE:{PRIVATE}\r\n",
            "removed dates",
        ),
        (f"DTSTART:20260302T100000Z\r\nRDATE:{PRIVATE}\r\n", "added dates"),
    ],
)
def test_a_malformed_event_is_unreadable_for_a_reason_that_quotes_nothing_of_it(
    lines: str, reason: str
) -> None:
    with pytest.raises(UnreadableCalendar, match=reason) as refused:
        expand(one_event(lines), z("2026-01-01T00:00"), z("2027-01-01T00:00"), UTC)
    for quoted in ("Maria", "Garcia", "617", "555-0101", "XXXX"):
        assert quoted not in str(refused.value)


def test_a_calendar_that_cannot_be_parsed_is_refused_without_quoting_it() -> None:
    text = f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{PRIVATE}\r\nEND:VCALENDAR\r\n"
    with pytest.raises(UnreadableCalendar) as refused:
        expand(text, z("2026-01-01T00:00"), z("2027-01-01T00:00"), UTC)
    assert "Maria" not in str(refused.value) and "617" not in str(refused.value)


def one_event(lines: str, head: str = "") -> str:
    """A calendar holding one event made of ``lines``."""
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{head}BEGIN:VEVENT\r\nUID:e1\r\n"
        f"{lines}SUMMARY:Maria G.\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("", "2026-07-01T08:00"),  # the practice's zone: Madrid, UTC+2 in July
        ("X-WR-TIMEZONE:America/New_York\r\n", "2026-07-01T14:00"),  # the calendar's
    ],
)
def test_an_unknown_tzid_is_read_as_local_time_never_as_utc(head: str, expected: str) -> None:
    text = one_event(
        "DTSTART;TZID=Mars/Olympus:20260701T100000\r\n"
        "DTEND;TZID=Mars/Olympus:20260701T110000\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\n",
        head,
    )
    found = expand(text, z("2026-06-01T00:00"), z("2026-08-01T00:00"), ZoneInfo("Europe/Madrid"))
    assert [i.starts_at for i in found] == [z(expected), z(expected) + timedelta(days=7)]
    assert found[0].recurrence_id == z(expected).isoformat()


@pytest.mark.parametrize(
    ("rule", "readable"),
    [
        ("FREQ=MINUTELY", False),  # half a million a year: refused, not computed
        ("FREQ=HOURLY;INTERVAL=2", False),
        ("FREQ=HOURLY;COUNT=24", True),
        ("FREQ=DAILY;COUNT=100", True),
        ("FREQ=DAILY;COUNT=101", False),
    ],
)
def test_a_feed_with_too_many_instances_is_refused(
    rule: str, readable: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar_events, "MOST_INSTANCES", 100)  # the rule, not its size
    text = one_event(f"DTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nRRULE:{rule}\r\n")
    start, end = z("2026-01-01T00:00"), z("2046-01-01T00:00")
    if readable:
        assert len(expand(text, start, end, UTC)) in (24, 100)
    else:
        with pytest.raises(UnreadableCalendar, match="too many events"):
            expand(text, start, end, UTC)


def test_google_split_of_a_series_ends_the_old_uid_and_carries_on_under_a_new_one() -> None:
    # "This and following events" on 9 March, moved to 11:00: the old series ends with an
    # UNTIL, the rest is a new event whose UID names where it was split.
    new = "series-1_R20270309T150000@google.com"
    found = rows("google_split.ics", "2027-03-01T00:00", "2027-03-18T00:00")
    assert [r[:2] + r[3:4] for r in found if r[2] != "Tom B." and r[2] != "Team meeting"] == [
        ("series-1@google.com", "2027-03-02T15:00:00+00:00", "03-02 15:00"),
        ("series-1@google.com", "2027-03-04T15:00:00+00:00", "03-04 15:00"),
        (new, "2027-03-09T16:00:00+00:00", "03-09 16:00"),
        (new, "2027-03-11T16:00:00+00:00", "03-11 16:00"),
        (new, "2027-03-16T15:00:00+00:00", "03-16 15:00"),  # EDT from 14 March
    ]


def test_the_zone_of_floating_times_is_always_given_never_utc_by_default() -> None:
    text = one_event("DTSTART;TZID=Mars/Olympus:20260701T100000\r\n")
    with pytest.raises(TypeError):
        expand(text, z("2026-06-01T00:00"), z("2026-08-01T00:00"))  # type: ignore[call-arg]
