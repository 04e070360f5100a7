"""A feed's move or cancellation re-plans the session's texts at the fetch that reads it:
the outbox, not only the schedule, follows the feed. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select

from service.db import get_db
from service.domain.vocabulary import PLANNED_KINDS, MessageKind, MessageStatus
from service.models import Appointment, OutboundMessage
from tests.feed_server import FeedServer
from tests.test_feed_sync import CHANGES, NOW, arrange, feed, key, run, z

P, X = MessageStatus.PLANNED, MessageStatus.CANCELLED


def _outbox(app: Flask, k: tuple[str, str]) -> list[tuple[str, str, datetime | None]]:
    """The texts of the feed's session of instance ``k``: (kind, status, planned start)."""
    with get_db(app).session() as session:
        appointment = session.scalar(
            select(Appointment.id).where(
                Appointment.feed_uid == k[0], Appointment.feed_instance == k[1]
            )
        )
        rows = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.appointment_id == appointment)
            .order_by(OutboundMessage.id)
        )
        return [(m.kind, m.status, m.planned_start) for m in rows]


def test_a_feeds_move_and_cancellation_replan_the_sessions_texts_at_the_next_fetch(
    feeds_app: Flask,
    server: FeedServer,
) -> None:
    app = feeds_app
    arrange(app, server.serve("/practice.ics", feed()))
    run(app, NOW)
    moved, cancelled = _outbox(app, key(4)), _outbox(app, key(9))
    for texts, start in ((moved, z(3, 4, 15)), (cancelled, z(3, 9, 15))):
        assert (MessageKind.REMINDER, P, start) in texts  # planned like any session's
    server.serve("/practice.ics", feed(changes=CHANGES))  # 4th moved, 9th cancelled
    [changed] = run(app, NOW + timedelta(minutes=20))
    assert changed.counts is not None
    assert (changed.counts.moved, changed.counts.cancelled) == (1, 1)
    after_move = _outbox(app, key(4))
    new_start = z(3, 5, 17)
    assert (MessageKind.REMINDER, X, z(3, 4, 15)) in after_move  # the old time's: off
    assert (MessageKind.REMINDER, P, new_start) in after_move  # the new time's: planned
    assert not [t for t in after_move if t[1] == P and t[2] == z(3, 4, 15)]
    assert [t[:2] for t in after_move if t[0] == MessageKind.MOVE_NOTICE] == [
        (MessageKind.MOVE_NOTICE, P)
    ]
    after_cancel = _outbox(app, key(9))
    assert not [t for t in after_cancel if t[0] in PLANNED_KINDS and t[1] == P]  # none to send
    assert [t[0] for t in after_cancel if t[1] == P] == [MessageKind.CANCEL_NOTICE]
