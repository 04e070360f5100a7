"""Which feed and event a session is, written through the one write path: a feed added
again never brings back a session called off, and every change of a session's feed key
(booked, adopted, re-keyed, handed over) is audited. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from service import accounts, bookings, calendar_feeds
from service.config import settings_of
from service.db import get_db
from service.domain.vocabulary import FEED_VIA, MessageKind, MessageStatus
from service.feed_models import CalendarFeed
from service.models import Appointment, AuditEntry, OutboundMessage
from tests.feed_server import FeedServer
from tests.test_feed_resync import SPLIT, override
from tests.test_feed_sync import NOW, C, S, arrange, feed, run

TICK = timedelta(minutes=10)
ALL_KEYS = ["feed_id", "feed_uid", "feed_instance"]


@pytest.fixture
def app(feeds_app: Flask) -> Flask:
    return feeds_app


def _remove_and_add_again(app: Flask, feed_id: int, url: str, *, cancel: bool) -> None:
    """Ana removes her feed (its sessions cancelled or kept) and follows it again."""
    settings = settings_of(app)
    with get_db(app).session() as session:
        ana = accounts.find_user(session, "ana@practice.test")
        assert ana is not None
        old = session.get_one(CalendarFeed, feed_id)
        calendar_feeds.remove_feed(session, settings, ana, old, NOW, cancel=cancel, via="t")
        if not cancel:  # she then cancels one kept session in TouchBase
            first = session.scalar(select(Appointment.id).order_by(Appointment.starts_at))
            assert first is not None
            kept = bookings.lock_appointment(session, first)
            assert kept is not None
            bookings.change_appointment(
                session, settings, ana, kept, NOW, status=C, via="t", notify=True
            )
        calendar_feeds.add_feed(session, settings, ana, url, None, NOW, via="t")
        session.commit()


@pytest.mark.parametrize("cancel", [True, False])
def test_a_feed_added_again_never_brings_back_a_session_called_off(
    app: Flask, server: FeedServer, cancel: bool
) -> None:
    """Its instance is booked as a new session instead: the calendar followed again is
    the truth, but the session the client was told is off stays off, with nothing to send."""
    url = server.serve("/p.ics", feed())
    feed_id = arrange(app, url)
    run(app, NOW)
    with get_db(app).session() as session:
        first = [a.id for a in session.scalars(select(Appointment).order_by(Appointment.id))]
    _remove_and_add_again(app, feed_id, url, cancel=cancel)
    called_off = first if cancel else first[:1]
    [result] = run(app, NOW + TICK)
    assert result.counts is not None
    assert (result.counts.restored, result.counts.booked) == (0, len(called_off))
    with get_db(app).session() as session:
        rows = {a.id: a for a in session.scalars(select(Appointment))}
        assert [rows[i].status for i in called_off] == [C] * len(called_off)
        assert all(rows[i].feed_id is None for i in called_off)
        new = sorted(set(rows) - set(first))
        assert len(new) == len(called_off)
        assert {rows[i].status for i in new} == {S} and all(rows[i].feed_id for i in new)
        pending = session.execute(
            select(OutboundMessage.kind, OutboundMessage.appointment_id)
            .where(
                OutboundMessage.status == MessageStatus.PLANNED,
                OutboundMessage.appointment_id.in_(called_off),
            )
            .order_by(OutboundMessage.appointment_id)
        ).all()
    # Only the notice that it is off: no reminder, no check-in, no "moved" or "back on".
    assert [tuple(p) for p in pending] == [(MessageKind.CANCEL_NOTICE, i) for i in called_off]


def _feed_entries(app: Flask) -> list[tuple[str, int, list[str], str]]:
    """The audit's feed key changes: (action, appointment id, fields, via)."""
    with get_db(app).session() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(("attach_feed", "detach_feed")))
            .order_by(AuditEntry.id)
        )
        return [(e.action, int(e.entity_id), e.detail["fields"], e.detail["via"]) for e in rows]


def _ids(app: Flask) -> list[int]:
    with get_db(app).session() as session:
        return list(session.scalars(select(Appointment.id).order_by(Appointment.id)))


def test_booking_and_rekeying_a_feed_session_are_audited(app: Flask, server: FeedServer) -> None:
    arrange(app, server.serve("/p.ics", feed()))
    run(app, NOW)
    booked = _ids(app)
    assert _feed_entries(app) == [("attach_feed", i, ALL_KEYS, FEED_VIA) for i in booked]
    same_time = SPLIT.replace("20270309T110000", "20270309T100000")
    server.serve("/p.ics", same_time.replace("20270309T120000", "20270309T110000"))
    [result] = run(app, NOW + TICK)
    assert result.counts is not None and result.counts.rekeyed == 2
    with get_db(app).session() as session:
        rekeyed = session.scalars(
            select(Appointment.id)
            .where(Appointment.feed_uid.like("%_R2027%"))
            .order_by(Appointment.id)
        ).all()
    assert _feed_entries(app)[len(booked) :] == [
        ("attach_feed", i, ["feed_uid"], FEED_VIA) for i in rekeyed
    ]


def test_adopting_a_kept_session_is_audited(app: Flask, server: FeedServer) -> None:
    url = server.serve("/p.ics", feed())
    feed_id = arrange(app, url)
    run(app, NOW)
    settings = settings_of(app)
    with get_db(app).session() as session:
        ana = accounts.find_user(session, "ana@practice.test")
        assert ana is not None
        old = session.get_one(CalendarFeed, feed_id)
        calendar_feeds.remove_feed(session, settings, ana, old, NOW, cancel=False, via="t")
        calendar_feeds.add_feed(session, settings, ana, url, None, NOW, via="t")
        session.commit()
    run(app, NOW + TICK)
    ids = _ids(app)
    assert _feed_entries(app)[len(ids) :] == [
        ("attach_feed", i, ["feed_id"], FEED_VIA) for i in ids
    ]


def test_a_session_handed_to_another_client_leaves_the_feed_audited(
    app: Flask, server: FeedServer
) -> None:
    arrange(app, server.serve("/p.ics", feed()))
    run(app, NOW)
    booked = _ids(app)
    server.serve("/p.ics", feed(changes=override("20270311T100000", "20270311T100000", "Tom B.")))
    run(app, NOW + TICK)
    with get_db(app).session() as session:
        left = session.scalars(select(Appointment.id).where(Appointment.feed_id.is_(None))).all()
    [new] = set(_ids(app)) - set(booked)
    assert _feed_entries(app)[len(booked) :] == [
        ("detach_feed", left[0], ALL_KEYS, FEED_VIA),
        ("attach_feed", new, ALL_KEYS, FEED_VIA),
    ]
