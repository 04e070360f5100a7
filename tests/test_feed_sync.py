"""Calendar feeds in, end to end: a feed served from 127.0.0.1 is fetched by the clock's
job and followed by the appointments and the outbox (booked, 304, moved, cancelled,
removed, past left alone, failing and recovering)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.clock import fetch_feeds
from service import accounts, bookings, feed_runs
from service.config import settings_of
from service.db import get_db
from service.domain.vocabulary import AlertKind, AppointmentStatus, MessageKind
from service.feed_models import CalendarFeed, FeedTitle
from service.models import Alert, Appointment, OutboundMessage
from tests import factories
from tests.feed_server import FeedServer

NOW = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)  # Monday 9:00 in New York
UID = "series-1@google.com"
HEAD = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
    "X-WR-TIMEZONE:America/New_York\r\n"
)
SERIES = (  # Tuesdays and Thursdays 10:00 New York (15:00 UTC until 14 March)
    f"BEGIN:VEVENT\r\nUID:{UID}\r\nDTSTART:20270302T100000\r\nDTEND:20270302T110000\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=TU,TH\r\n{exdate}SUMMARY:Massage - Maria G.\r\nEND:VEVENT\r\n"
)
OTHERS = (
    "BEGIN:VEVENT\r\nUID:single-1@google.com\r\nDTSTART:20270303T180000Z\r\n"
    "DTEND:20270303T190000Z\r\nSUMMARY:Tom B.\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:meeting-1@google.com\r\nDTSTART:20270303T200000Z\r\n"
    "DTEND:20270303T210000Z\r\nSUMMARY:Team meeting\r\nEND:VEVENT\r\n"
)
CHANGES = (  # 4 March moved to Friday 5 March 12:00; 9 March cancelled
    f"BEGIN:VEVENT\r\nUID:{UID}\r\nRECURRENCE-ID:20270304T100000\r\n"
    "DTSTART:20270305T120000\r\nDTEND:20270305T130000\r\nSUMMARY:Massage - Maria G.\r\n"
    f"END:VEVENT\r\nBEGIN:VEVENT\r\nUID:{UID}\r\nRECURRENCE-ID:20270309T100000\r\n"
    "DTSTART:20270309T100000\r\nDTEND:20270309T110000\r\nSTATUS:CANCELLED\r\n"
    "SUMMARY:Massage - Maria G.\r\nEND:VEVENT\r\n"
)


def feed(*, exdates: str = "", changes: str = "") -> str:
    """The practice's calendar, with instances removed (``exdates``) and overrides."""
    exdate = f"EXDATE:{exdates}\r\n" if exdates else ""
    return HEAD + SERIES.replace("{exdate}", exdate) + changes + OTHERS + "END:VCALENDAR\r\n"


def z(month: int, day: int, hour: int) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=UTC)


def arrange(app: Flask, url: str) -> int:
    """Ana, her clients Maria Garcia and Tom Brown, and her feed at ``url``."""
    with get_db(app).session() as session:
        ana = accounts.create_user(
            session, settings_of(app), "ana@practice.test", "Ana Ruiz", "long-enough-pw"
        )
        factories.client_with_phone(session, "Maria Garcia", "+16175550123", therapist_id=ana.id)
        factories.client_with_phone(session, "Tom Brown", "+16175550124", therapist_id=ana.id)
        row = CalendarFeed(therapist_id=ana.id, url=url, created_at=NOW - timedelta(days=1))
        session.add(row)
        session.commit()
        return row.id


def run(app: Flask, at: datetime) -> list[feed_runs.FeedResult]:
    with time_machine.travel(at, tick=False):
        return fetch_feeds(app)


def sessions(app: Flask) -> dict[tuple[str | None, str | None], tuple[datetime, str]]:
    """The feed's appointments: (uid, instance) -> (start, status)."""
    with get_db(app).session() as session:
        rows = session.scalars(select(Appointment).where(Appointment.feed_id.is_not(None)))
        return {(a.feed_uid, a.feed_instance): (a.starts_at, a.status) for a in rows}


def notices(session: Session) -> list[tuple[str, datetime | None]]:
    rows = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.kind.in_((MessageKind.MOVE_NOTICE, MessageKind.CANCEL_NOTICE))
        )
    )
    return sorted((m.kind, session.get(Appointment, m.appointment_id).starts_at) for m in rows)


def open_alerts(app: Flask) -> list[str]:
    with get_db(app).session() as session:
        return list(
            session.scalars(
                select(Alert.detail).where(
                    Alert.kind == AlertKind.CALENDAR_FEED, Alert.handled_at.is_(None)
                )
            )
        )


def key(day: int) -> tuple[str, str]:
    return (UID, z(3, day, 15).isoformat())


S, C = AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED


def test_a_feed_is_followed_through_moves_cancellations_removals_and_304s(
    feeds_app: Flask, server: FeedServer
) -> None:
    app = feeds_app
    arrange(app, server.serve("/practice.ics", feed()))
    [first] = run(app, NOW)
    assert first.error is None and first.counts is not None
    assert first.counts.booked == 5 and first.counts.unmatched == {"Team meeting"}
    booked = {
        key(2): (z(3, 2, 15), S),
        key(4): (z(3, 4, 15), S),
        key(9): (z(3, 9, 15), S),
        key(11): (z(3, 11, 15), S),
        ("single-1@google.com", ""): (z(3, 3, 18), S),
    }
    assert sessions(app) == booked
    with get_db(app).session() as session:
        reminders = session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == MessageKind.REMINDER)
        ).all()
        assert len(reminders) == 5  # planned like any session's
    assert run(app, NOW + timedelta(minutes=5)) == []  # not due yet
    [unchanged] = run(app, NOW + timedelta(minutes=10))
    assert unchanged.unchanged and server.seen[-1][1].get("If-None-Match")
    assert sessions(app) == booked
    server.serve("/practice.ics", feed(exdates="20270311T100000", changes=CHANGES))
    [changed] = run(app, NOW + timedelta(minutes=20))
    assert changed.counts is not None
    assert (changed.counts.moved, changed.counts.cancelled) == (1, 2)
    assert sessions(app) == {
        **booked,
        key(4): (z(3, 5, 17), S),  # moved to Friday 12:00
        key(9): (z(3, 9, 15), C),  # cancelled in the feed
        key(11): (z(3, 11, 15), C),  # gone from the feed
    }
    with get_db(app).session() as session:
        assert notices(session) == [
            (MessageKind.CANCEL_NOTICE, z(3, 9, 15)),
            (MessageKind.CANCEL_NOTICE, z(3, 11, 15)),
            (MessageKind.MOVE_NOTICE, z(3, 5, 17)),
        ]
    [again] = run(app, NOW + timedelta(minutes=30))  # the same feed: nothing more
    assert again.unchanged
    with get_db(app).session() as session:
        assert len(notices(session)) == 3


def test_the_past_is_never_changed_by_the_feed(feeds_app: Flask, server: FeedServer) -> None:
    app = feeds_app
    arrange(app, server.serve("/practice.ics", feed()))
    run(app, NOW)
    server.serve("/practice.ics", feed(exdates="20270302T100000"))
    [later] = run(app, z(3, 2, 16))  # Tuesday's session began an hour ago
    assert later.error is None
    assert sessions(app)[key(2)] == (z(3, 2, 15), S)


def test_a_failing_feed_raises_one_item_keeps_its_sessions_and_closes_it_when_read(
    feeds_app: Flask, server: FeedServer
) -> None:
    app = feeds_app
    url = server.serve("/practice.ics", feed())
    arrange(app, url)
    run(app, NOW)
    booked = sessions(app)
    server.serve("/practice.ics", "gone", 404)
    [failed] = run(app, NOW + timedelta(minutes=10))
    assert failed.error == "the calendar's server answered 404"
    server.serve("/practice.ics", "<html>Sign in</html>")
    [failed] = run(app, NOW + timedelta(minutes=20))
    assert failed.error is not None and "not an iCalendar file" in failed.error
    [item] = open_alerts(app)
    assert "Ana Ruiz" in item and url not in item
    assert sessions(app) == booked
    with get_db(app).session() as session:
        assert session.scalar(select(CalendarFeed.last_error)) == failed.error
    server.serve("/practice.ics", feed())
    [ok] = run(app, NOW + timedelta(minutes=30))
    assert ok.error is None and open_alerts(app) == []
    server.serve("/practice.ics", "", 500)
    run(app, NOW + timedelta(minutes=40))
    assert len(open_alerts(app)) == 1  # a new run of failures: a new item
    with get_db(app).session() as session:
        assert len(session.scalars(select(Alert)).all()) == 2


def test_feed_sessions_refuse_moves_and_cancellations_made_in_touchbase(
    feeds_app: Flask, server: FeedServer
) -> None:
    app = feeds_app
    arrange(app, server.serve("/practice.ics", feed()))
    run(app, NOW)
    with time_machine.travel(NOW, tick=False), get_db(app).session() as session:
        appointment = session.scalars(select(Appointment).order_by(Appointment.id)).first()
        assert appointment is not None
        change = bookings.change_appointment
        settings = settings_of(app)
        with pytest.raises(bookings.Refused, match="comes from a calendar feed"):
            change(session, settings, None, appointment, NOW, starts_at=z(3, 8, 15), via="api")
        with pytest.raises(bookings.Refused, match="comes from a calendar feed"):
            change(session, settings, None, appointment, NOW, status=C, via="dashboard")
        confirmed = AppointmentStatus.CONFIRMED  # the client's "C" still confirms
        change(session, settings, None, appointment, NOW, status=confirmed, via="reply")
        assert appointment.status == confirmed


def test_ignored_titles_and_saved_calendar_names(feeds_app: Flask, server: FeedServer) -> None:
    app = feeds_app
    feed_id = arrange(app, server.serve("/practice.ics", feed()))
    with get_db(app).session() as session:
        row = session.get(CalendarFeed, feed_id)
        assert row is not None
        session.add(FeedTitle(therapist_id=row.therapist_id, title="tom b", state="ignored"))
        session.commit()
    [result] = run(app, NOW)
    assert result.counts is not None and result.counts.booked == 4
    assert ("single-1@google.com", "") not in sessions(app)


def test_two_processes_claim_a_feed_once(feeds_app: Flask, server: FeedServer) -> None:
    app = feeds_app
    feed_id = arrange(app, server.serve("/practice.ics", feed()))
    with get_db(app).session() as one, get_db(app).session() as two:
        assert feed_runs.claim(one, feed_id, NOW)
        assert not feed_runs.claim(two, feed_id, NOW)
        assert not feed_runs.claim(two, feed_id, NOW, force=True)  # held: even "Fetch now"
        later = NOW + feed_runs.CLAIM_FOR + timedelta(seconds=1)
        assert feed_runs.claim(two, feed_id, later)  # a crashed holder lets go in time
