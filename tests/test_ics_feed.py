"""The feed's text from plain data: titles, times in zones with DST, statuses, UIDs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from service.domain.calendar_names import default_name
from service.domain.ics_feed import FeedSession, build_feed, calendar_title

MADE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "title", "initials"),
    [
        ("Maria Garcia", "Maria G.", "M. G."),
        ("María José García López", "María L.", "M. L."),
        ("élodie ñúñez", "élodie Ñ.", "É. Ñ."),
        ("Cher", "Cher", "C."),
        ("Anne-Marie Dubois-Leroy", "Anne-Marie D.", "A. D."),
        ("  Sam   O'Brien  ", "Sam O.", "S. O."),
        ("Liam (Bill) 'Nguyen'", "Liam N.", "L. N."),
        ("Zoë 2", "Zoë", "Z."),
        ("Maria (Gigi) O'Brien", "Maria O.", "M. O."),
        ("Ana 2nd", "Ana N.", "A. N."),
        ("🌸 Zoë Martin 🌸", "Zoë M.", "Z. M."),
        ("e\u0301lodie n\u0303u\u0301n\u0303ez", "élodie Ñ.", "É. Ñ."),
        ("", "Session", "Session"),
        ("-- 42", "Session", "Session"),
    ],
)
def test_titles_name_the_client_briefly(name: str, title: str, initials: str) -> None:
    assert calendar_title(name) == title
    assert calendar_title(name, initials_only=True) == initials
    # The title is the client's default calendar name: what a feed in is matched by.
    assert default_name(name) in (title, "")


def _session(
    ident: int,
    starts_at: datetime,
    zone: str,
    *,
    status: str = "scheduled",
    updated: datetime = MADE,
    minutes: int = 60,
) -> FeedSession:
    return FeedSession(
        id=ident,
        client_name="Maria Garcia",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        timezone=zone,
        status=status,
        created_at=MADE,
        updated_at=updated,
        link=f"https://tb.example/clients/{ident}",
    )


def _events(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


@pytest.mark.parametrize(
    ("instant", "zone", "local", "offset_hours"),
    [
        # The morning of the US spring change (2 AM → 3 AM): 15:00Z is 11:00 EDT.
        (datetime(2026, 3, 8, 15, 0, tzinfo=UTC), "America/New_York", "11:00", -4),
        # The day before it: 15:00Z is 10:00 EST.
        (datetime(2026, 3, 7, 15, 0, tzinfo=UTC), "America/New_York", "10:00", -5),
        # Europe's autumn change (Oct 25, 2026): before and after.
        (datetime(2026, 10, 24, 8, 0, tzinfo=UTC), "Europe/Madrid", "10:00", 2),
        (datetime(2026, 10, 26, 8, 0, tzinfo=UTC), "Europe/Madrid", "09:00", 1),
        # No DST at all.
        (datetime(2026, 7, 1, 17, 0, tzinfo=UTC), "America/Phoenix", "10:00", -7),
        # The southern hemisphere: April 5, 2026 ends Sydney's summer time.
        (datetime(2026, 4, 3, 23, 0, tzinfo=UTC), "Australia/Sydney", "10:00", 11),
        (datetime(2026, 4, 6, 0, 0, tzinfo=UTC), "Australia/Sydney", "10:00", 10),
    ],
)
def test_times_are_given_in_the_series_zone(
    instant: datetime, zone: str, local: str, offset_hours: int
) -> None:
    body = build_feed(
        [_session(7, instant, zone)], name="N", host="tb.example", initials_only=False
    )
    text = body.decode()
    event = _events(body)["appointment-7@tb.example"]
    start = event["DTSTART"].dt  # type: ignore[index]
    assert start == instant
    assert start.strftime("%H:%M") == local
    assert start.utcoffset() == timedelta(hours=offset_hours)
    assert event["DTEND"].dt - start == timedelta(hours=1)  # type: ignore[index]
    assert f"TZID:{zone}" in text  # its VTIMEZONE block
    assert f"DTSTART;TZID={zone}:" in text


def test_statuses_uids_and_revisions() -> None:
    moved = MADE + timedelta(days=2)
    body = build_feed(
        [
            _session(1, datetime(2026, 2, 2, 15, tzinfo=UTC), "America/New_York"),
            _session(
                2, datetime(2026, 2, 3, 15, tzinfo=UTC), "America/New_York", status="cancelled"
            ),
            _session(
                3,
                datetime(2026, 2, 4, 15, tzinfo=UTC),
                "America/New_York",
                status="confirmed",
                updated=moved,
            ),
        ],
        name="Bright Path sessions",
        host="tb.example",
        initials_only=True,
    )
    events = _events(body)
    assert list(events) == [f"appointment-{i}@tb.example" for i in (1, 2, 3)]
    one, two, three = events.values()
    assert [str(e["STATUS"]) for e in (one, two, three)] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]  # type: ignore[index]
    assert str(one["SUMMARY"]) == "M. G."  # type: ignore[index]
    assert one["SEQUENCE"] == 0  # type: ignore[index]
    assert three["SEQUENCE"] > 0  # type: ignore[index]
    assert three["LAST-MODIFIED"].dt == moved  # type: ignore[index]
    assert "https://tb.example/clients/1" in str(one["DESCRIPTION"])  # type: ignore[index]
    assert b"X-WR-CALNAME:Bright Path sessions" in body


def test_the_same_data_gives_the_same_bytes_and_commas_are_escaped() -> None:
    sessions = [_session(1, datetime(2026, 2, 2, 15, tzinfo=UTC), "America/New_York")]
    first = build_feed(sessions, name="Smith, Jones; Co", host="h", initials_only=False)
    assert first == build_feed(sessions, name="Smith, Jones; Co", host="h", initials_only=False)
    assert b"X-WR-CALNAME:Smith\\, Jones\\; Co" in first
    assert all(len(line) <= 75 for line in first.split(b"\r\n"))
    empty = Calendar.from_ical(build_feed([], name="N", host="h", initials_only=False))
    assert empty.walk("VEVENT") == []
