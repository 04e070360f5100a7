"""A clock pass and "Fetch now" stay sound when fetching takes time, a feed is removed
while it is fetched, a server sends odd validators, or a feed's text is private: the time
is read per feed, a removed feed is left alone, a validator too long is not stored, and
no reason, log line or inbox item quotes the feed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from jobs.clock import fetch_feeds
from service import calendar_feeds, feed_fetch, feed_runs
from service.config import settings_of
from service.db import get_db
from service.domain.vocabulary import AlertKind
from service.feed_models import CalendarFeed
from service.models import Alert, Appointment, User
from tests.dashboard.conftest import Staff, signed_in, text_of
from tests.feed_server import FeedServer
from tests.test_feed_sync import HEAD, NOW, arrange, feed

NAME, PHONE = "Maria Garcia", "617-555-0101"


def second_feed(app: Flask, url: str) -> int:
    """Another feed of the same therapist, at ``url``."""
    with get_db(app).session() as session:
        ana = session.scalars(select(User)).one()
        row = CalendarFeed(therapist_id=ana.id, url=url, created_at=NOW - timedelta(days=1))
        session.add(row)
        session.commit()
        return row.id


def test_a_clock_pass_reads_the_time_for_each_feed(
    feeds_app: Flask, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = feeds_app
    first = arrange(app, server.serve("/one.ics", feed()))
    second = second_feed(app, server.serve("/two.ics", feed()))
    times = iter(NOW + timedelta(minutes=3 * n) for n in range(10))  # each fetch is slow
    read: list[datetime] = []

    def clock() -> datetime:
        read.append(next(times))
        return read[-1]

    held: dict[str, datetime | None] = {}
    fetch = feed_fetch.fetch

    def watched(url: str, **kwargs: Any) -> feed_fetch.Fetched:
        with get_db(app).session() as other:  # the claim as another process sees it
            held[url] = other.scalar(
                select(CalendarFeed.claimed_until).where(CalendarFeed.url == url)
            )
        return fetch(url, **kwargs)

    monkeypatch.setattr(feed_fetch, "fetch", watched)
    with get_db(app).session() as session:
        results = feed_runs.run_due(session, settings_of(app), clock)
    assert [r.error for r in results] == [None, None]
    with get_db(app).session() as session:
        one, two = session.get_one(CalendarFeed, first), session.get_one(CalendarFeed, second)
        assert (one.last_success_at, two.last_success_at) == (read[1], read[2])
        claims = [held[one.url], held[two.url]]
    assert claims == [read[1] + feed_runs.CLAIM_FOR, read[2] + feed_runs.CLAIM_FOR]


def test_the_clock_job_claims_each_feed_at_the_time_it_comes_to_it(
    feeds_app: Flask, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = feeds_app
    first = arrange(app, server.serve("/one.ics", feed()))
    second = second_feed(app, server.serve("/two.ics", feed()))
    fetch = feed_fetch.fetch
    with time_machine.travel(NOW, tick=False) as traveller:

        def slow(url: str, **kwargs: Any) -> feed_fetch.Fetched:
            traveller.shift(timedelta(minutes=3))  # longer than a claim lasts
            return fetch(url, **kwargs)

        monkeypatch.setattr(feed_fetch, "fetch", slow)
        fetch_feeds(app)
    with get_db(app).session() as session:
        one, two = session.get_one(CalendarFeed, first), session.get_one(CalendarFeed, second)
        assert (one.last_success_at, two.last_success_at) == (NOW, NOW + timedelta(minutes=3))


def test_a_feed_quoting_a_client_in_a_broken_line_reaches_no_log_error_or_item(
    feeds_app: Flask, server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = feeds_app
    broken = (
        HEAD + "BEGIN:VEVENT\r\nUID:x-1@google.com\r\n"
        f"DTSTART:2027XXXX {NAME} {PHONE}\r\nDTEND:20270302T110000Z\r\n"
        f"SUMMARY:{NAME}\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:x-2@google.com\r\nDTSTART:20270302T100000Z\r\n"
        f"RRULE:FREQ=WEEKLY;BYDAY={NAME} {PHONE}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    feed_id = arrange(app, server.serve("/practice.ics", broken))
    caplog.set_level(logging.DEBUG)
    with get_db(app).session() as session:
        result = feed_runs.run_feed(session, settings_of(app), feed_id, NOW)
    assert result is not None and result.error == "an event's start time (DTSTART) cannot be read"
    with get_db(app).session() as session:
        stored = session.get_one(CalendarFeed, feed_id).last_error or ""
        [detail] = session.scalars(
            select(Alert.detail).where(Alert.kind == AlertKind.CALENDAR_FEED)
        )
    for text in (caplog.text, stored, detail):
        assert NAME not in text and PHONE not in text and "XXXX" not in text
    assert "fetch failed (unreadable)" in caplog.text


def removing_while_fetching(app: Flask, monkeypatch: pytest.MonkeyPatch, feed_id: int) -> None:
    """Make the fetch of this feed remove it (as the dashboard or the API would) before it
    answers."""
    fetch = feed_fetch.fetch
    with get_db(app).session() as session:
        address = session.get_one(CalendarFeed, feed_id).url

    def fetch_then_removed(url: str, **kwargs: Any) -> feed_fetch.Fetched:
        try:
            return fetch(url, **kwargs)
        finally:
            with get_db(app).session() as other:
                row = other.get(CalendarFeed, feed_id) if url == address else None
                if row is not None:
                    ana = other.get_one(User, row.therapist_id)
                    calendar_feeds.remove_feed(
                        other, settings_of(app), ana, row, NOW, cancel=False, via="dashboard"
                    )
                    other.commit()

    monkeypatch.setattr(feed_fetch, "fetch", fetch_then_removed)


@pytest.mark.parametrize("answer", [200, 404], ids=["read", "failing"])
def test_a_feed_removed_while_it_is_fetched_is_left_alone(
    feeds_app: Flask, server: FeedServer, monkeypatch: pytest.MonkeyPatch, answer: int
) -> None:
    app = feeds_app
    feed_id = arrange(app, server.serve("/practice.ics", feed(), answer))
    other = second_feed(app, server.serve("/other.ics", feed()))
    removing_while_fetching(app, monkeypatch, feed_id)
    with time_machine.travel(NOW, tick=False):
        results = fetch_feeds(app)  # the clock's pass goes on to the next feed
    assert [r.feed_id for r in results] == [other]
    with get_db(app).session() as session:
        assert session.get(CalendarFeed, feed_id) is None
        assert session.scalars(select(Alert)).all() == []
        booked = session.scalars(select(Appointment.feed_id)).all()
        assert booked and set(booked) == {other}


def test_fetch_now_on_a_feed_removed_meanwhile_is_no_error(
    feeds_app: Flask, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = feeds_app
    feed_id = arrange(app, server.serve("/practice.ics", feed()))
    with get_db(app).session() as session:
        ana = session.scalars(select(User)).one()
        staff = Staff(ana.id, ana.email, ana.name)
    removing_while_fetching(app, monkeypatch, feed_id)
    with time_machine.travel(NOW, tick=False):
        web = signed_in(app, staff)
        answer = web.post(f"/calendar-feeds/{feed_id}/fetch", {})
        assert answer.status_code == 302
        assert "The feed was removed meanwhile" in text_of(web.get("/calendar-feeds"))
    with get_db(app).session() as session:
        assert session.get(CalendarFeed, feed_id) is None


def test_validators_longer_than_their_columns_are_not_stored(
    feeds_app: Flask, server: FeedServer
) -> None:
    app = feeds_app
    etag, modified = '"' + "e" * 398 + '"', "Mon, 01 Mar 2027 14:00:00 GMT; " + "m" * 120
    url = server.serve("/practice.ics", feed(), ETag=etag, **{"Last-Modified": modified})
    feed_id = arrange(app, url)
    for at in (NOW, NOW + feed_runs.FETCH_EVERY):
        with get_db(app).session() as session:
            result = feed_runs.run_feed(session, settings_of(app), feed_id, at)
        assert result is not None and result.error is None and not result.unchanged
    with get_db(app).session() as session:
        row = session.get_one(CalendarFeed, feed_id)
        assert (row.etag, row.last_modified, row.last_error) == (None, None, None)
    assert all("If-None-Match" not in headers for _, headers in server.seen)
