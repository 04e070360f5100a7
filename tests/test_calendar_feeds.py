"""Adding and removing calendar feeds, and linking or ignoring the titles they carry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from service import accounts, calendar_feeds, feed_runs
from service.config import settings_of
from service.db import get_db, lock
from service.domain.vocabulary import AlertKind, AppointmentStatus, MessageKind
from service.feed_models import CalendarFeed, FeedTitle
from service.models import Alert, Appointment, AuditEntry, Client, OutboundMessage
from tests.feed_server import FeedServer
from tests.test_feed_sync import NOW, arrange, feed, run, z


def test_an_address_is_checked_and_never_audited(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    settings = settings_of(app)
    with get_db(app).session() as session:
        ana = accounts.create_user(session, settings, "ana@practice.test", "Ana", "long-enough-pw")
        ben = accounts.create_user(session, settings, "ben@practice.test", "Ben", "long-enough-pw")
        add = calendar_feeds.add_feed
        for url, reason in (
            ("ftp://calendar.example.com/a.ics", "only http and https"),
            ("http://169.254.169.254/latest", "metadata"),
            ("http://10.0.0.1/a.ics", "private"),
            ("https://[::1]/a.ics", "loopback"),
            ("https://", "no host"),
            ("https://calendar.example.com/" + "a" * 2000, "at most 2000"),
        ):
            with pytest.raises(calendar_feeds.FeedRefused, match=reason):
                add(session, settings, ana, url, None, NOW, via="test")
        with pytest.raises(calendar_feeds.FeedRefused, match="only an admin"):
            add(session, settings, ana, "https://calendar.example.com/a.ics", ben.id, NOW, via="t")
        secret = "webcal://p.example.com/secret-token-123/basic.ics"
        made = add(session, settings, ana, secret, None, NOW, via="test")
        assert (made.url, made.therapist_id) == (
            "https://p.example.com/secret-token-123/basic.ics",
            ana.id,
        )
        session.commit()
        # The same calendar twice would book every session twice: refused, also when
        # written the other way (webcal or https).
        with pytest.raises(calendar_feeds.FeedRefused, match="already followed"):
            add(session, settings, ana, made.url, None, NOW, via="test")
        session.rollback()
        logged = session.scalars(select(AuditEntry)).all()
        assert logged and all("secret-token" not in str(e.detail) for e in logged)


@pytest.mark.parametrize("cancel", [False, True])
def test_removing_a_feed_keeps_or_cancels_its_sessions_to_come(
    feeds_app: Flask, server: FeedServer, cancel: bool
) -> None:
    app = feeds_app
    feed_id = arrange(app, server.serve("/practice.ics", feed()))
    run(app, NOW)
    later = z(3, 2, 16)  # Tuesday's session has begun
    with time_machine.travel(later, tick=False), get_db(app).session() as session:
        row = session.get(CalendarFeed, feed_id)
        assert row is not None
        actor = accounts.find_user(session, "ana@practice.test")
        assert actor is not None
        cancelled = calendar_feeds.remove_feed(
            session, settings_of(app), actor, row, later, cancel=cancel, via="test"
        )
        session.commit()
        rows = session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
        assert all(a.feed_id is None for a in rows) and len(rows) == 5
        statuses = [a.status for a in rows]
        notices = session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == MessageKind.CANCEL_NOTICE)
        ).all()
    S, C = AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED
    assert cancelled == (4 if cancel else 0) and len(notices) == cancelled
    assert statuses == [S, C, C, C, C] if cancel else [S] * 5


def test_a_linked_title_books_its_client_and_an_ignored_one_stays_quiet(
    feeds_app: Flask,
    server: FeedServer,
) -> None:
    app = feeds_app
    settings = settings_of(app)
    feed_id = arrange(app, server.serve("/practice.ics", feed()))
    [first] = run(app, NOW)
    assert first.counts is not None and first.counts.unmatched == {"Team meeting"}
    with get_db(app).session() as session:
        ana = accounts.find_user(session, "ana@practice.test")
        maria = session.scalar(select(Client).where(Client.name == "Maria Garcia"))
        tom = session.scalar(select(Client).where(Client.name == "Tom Brown"))
        assert ana is not None and maria is not None and tom is not None
        with pytest.raises(calendar_feeds.FeedRefused, match="must name something"):
            calendar_feeds.ignore_title(session, ana, ana.id, " - ")
        calendar_feeds.ignore_title(session, ana, ana.id, "Team Meeting")
        calendar_feeds.ignore_title(session, ana, ana.id, "team meeting")  # once
        locked = lock(session, Client, tom.id)
        assert locked is not None
        calendar_feeds.link_title(session, settings, ana, locked, "Tommy", NOW, via="test")
        session.commit()
        assert locked.calendar_name == "Tommy"
        states = session.execute(select(FeedTitle.title, FeedTitle.state)).all()
        assert sorted(states) == [("team meeting", "ignored"), ("tommy", "linked")]
    server.serve("/practice.ics", feed().replace("Tom B.", "Massage Tommy"))
    [second] = run(app, NOW + feed_runs.FETCH_EVERY + timedelta(minutes=1))
    assert second.counts is not None
    assert second.counts.unmatched == set() and second.counts.cancelled == 0
    assert feed_id


def test_removing_a_failing_feed_closes_its_inbox_item(
    feeds_app: Flask, server: FeedServer
) -> None:
    app = feeds_app
    feed_id = arrange(app, server.serve("/practice.ics", "not a calendar at all"))
    run(app, NOW)
    with get_db(app).session() as session:
        open_items = select(Alert).where(
            Alert.kind == AlertKind.CALENDAR_FEED, Alert.handled_at.is_(None)
        )
        assert len(session.scalars(open_items).all()) == 1
        row = session.get_one(CalendarFeed, feed_id)
        actor = accounts.find_user(session, "ana@practice.test")
        assert actor is not None
        calendar_feeds.remove_feed(
            session, settings_of(app), actor, row, NOW, cancel=False, via="t"
        )
        session.commit()
        assert session.scalars(open_items).all() == []


def test_a_title_linked_after_a_304_is_placed_at_the_next_tick_and_fetch_now_reads_in_full(
    feeds_app: Flask,
    server: FeedServer,
) -> None:
    app = feeds_app
    settings = settings_of(app)
    feed_id = arrange(app, server.serve("/practice.ics", feed()))
    [first] = run(app, NOW)
    [unchanged] = run(app, NOW + feed_runs.FETCH_EVERY)  # the server answers 304
    assert first.counts is not None and unchanged.unchanged
    with get_db(app).session() as session:
        ana = accounts.find_user(session, "ana@practice.test")
        tom = session.scalar(select(Client).where(Client.name == "Tom Brown"))
        assert ana is not None and tom is not None
        locked = lock(session, Client, tom.id)
        assert locked is not None
        later = NOW + feed_runs.FETCH_EVERY + timedelta(minutes=1)
        calendar_feeds.link_title(session, settings, ana, locked, "Team meeting", later, via="test")
        session.commit()
    # A minute later, not ten: the feed is due again and read in full, not a 304.
    [placed] = run(app, NOW + feed_runs.FETCH_EVERY + timedelta(minutes=2))
    assert placed.counts is not None and placed.counts.booked == 1
    with get_db(app).session() as session:
        booked = session.scalar(
            select(Appointment).where(Appointment.feed_uid == "meeting-1@google.com")
        )
        assert booked is not None and booked.client_id == tom.id
    # The feed is fresh again: the clock's fetch is a 304, "Fetch now" reads it in full.
    [again] = run(app, NOW + feed_runs.FETCH_EVERY * 2 + timedelta(minutes=2))
    assert again.unchanged
    with (
        time_machine.travel(NOW + feed_runs.FETCH_EVERY * 2 + timedelta(minutes=3)),
        get_db(app).session() as session,
    ):
        now = NOW + feed_runs.FETCH_EVERY * 2 + timedelta(minutes=3)
        forced = feed_runs.run_feed(session, settings, feed_id, now, force=True)
    assert forced is not None and not forced.unchanged and forced.counts is not None
