"""A save and the clock's planning tick take turns: the plan that stands is the saved one."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service import planner, practice_settings
from service.config import settings_of
from service.db import get_db
from service.models import OutboundMessage
from tests import factories
from tests.conftest import WRITE_LOCK_ONLY

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    " AND query LIKE 'LOCK TABLE practice_settings%'"
)


def _wait_until_blocked(session: Session) -> None:
    """Until a save waits for the settings' lock (a few seconds at most)."""
    deadline = time.monotonic() + 10
    while not session.scalar(text(WAITING)):
        assert time.monotonic() < deadline, "the save never waited for the tick"
        session.rollback()
        time.sleep(0.02)


def test_a_save_waits_for_a_planning_tick_in_progress_and_replans_after_it(
    app: Flask, session: Session, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip(WRITE_LOCK_ONLY)
    client, _ = factories.client_with_phone(session)
    start = NOW + timedelta(days=3)
    factories.appointment(session, client, start)
    session.commit()
    db, base = get_db(app), settings_of(app)
    tick = db.sessions()
    practice_settings.hold(tick)  # as the clock's plan job does, first thing
    settings = practice_settings.effective(tick, base)
    failures: list[BaseException] = []

    def save() -> None:
        try:
            with db.session() as other:
                changes = {"reminder_offsets": "3h"}
                practice_settings.save(other, base, None, changes, NOW, via="test")
                other.commit()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    saver = threading.Thread(target=save)
    saver.start()
    try:
        _wait_until_blocked(session)
        # The tick plans with the settings it read, and commits; only then may the save go.
        planner.plan_horizon(tick, settings, NOW, everyone=True)
        tick.commit()
    finally:
        tick.close()
        saver.join(timeout=30)
    assert not saver.is_alive() and failures == []
    session.expire_all()
    planned = session.scalars(
        select(OutboundMessage.send_at).where(
            OutboundMessage.kind == "reminder", OutboundMessage.status == "planned"
        )
    ).all()
    assert planned == [start - timedelta(hours=3)]
