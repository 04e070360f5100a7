"""A failing calendar feed's inbox item is its therapist's: they and admins see it, named
"Calendar feed of <therapist>" and linking to the feeds page; another therapist does not
see it, count it or handle it. "Fetch now" on a feed that fails unexpectedly is no 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import feed_runs
from service.config import settings_of
from service.db import get_db
from service.domain import calendar_events
from service.feed_models import CalendarFeed
from service.models import Alert
from tests.dashboard.conftest import Staff, signed_in, text_of
from tests.feed_server import FeedServer

CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def app(feeds_app: Flask) -> Flask:
    return feeds_app


def ana_feed(app: Flask, ana: Staff, url: str) -> int:
    with get_db(app).session() as session:
        row = CalendarFeed(therapist_id=ana.id, url=url, created_at=datetime.now(UTC))
        session.add(row)
        session.commit()
        return row.id


def fetch(app: Flask, feed_id: int, at: datetime) -> None:
    with get_db(app).session() as session:
        assert feed_runs.run_feed(session, settings_of(app), feed_id, at, force=True)


def test_a_failing_feed_is_its_therapists_item_and_admins_not_other_therapists(
    app: Flask, ana: Staff, ben: Staff, boss: Staff, server: FeedServer
) -> None:
    feed_id = ana_feed(app, ana, server.serve("/ana.ics", "gone", 404))
    fetch(app, feed_id, datetime.now(UTC) - timedelta(minutes=1))
    with get_db(app).session() as session:
        [item] = session.scalars(select(Alert))
        assert item.client_id is None and item.therapist_id == ana.id
    for staff in (ana, boss):
        web = signed_in(app, staff)
        page = web.get("/").get_data(as_text=True)
        assert "1 thing needs a look" in text_of(web.get("/"))
        assert 'href="/calendar-feeds">Calendar feed of Ana Ruiz</a>' in page
        assert "an unknown number" not in page
    as_ben = signed_in(app, ben)
    assert "Nothing needs a look" in text_of(as_ben.get("/"))
    assert "Calendar feed of" not in text_of(as_ben.get("/"))
    assert as_ben.post(f"/alerts/{item.id}/handled").status_code == 404
    server.serve("/ana.ics", CALENDAR)
    fetch(app, feed_id, datetime.now(UTC))  # read again: the item closes itself
    assert "Calendar feed of Ana Ruiz" in text_of(signed_in(app, ana).get("/"))  # closed list
    assert "Calendar feed of" not in text_of(as_ben.get("/"))


def test_fetch_now_on_a_feed_that_fails_unexpectedly_says_so_without_a_500(
    app: Flask, ana: Staff, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_id = ana_feed(app, ana, server.serve("/ana.ics", CALENDAR))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a library's bug")

    monkeypatch.setattr(calendar_events, "expand", broken)
    as_ana = signed_in(app, ana)
    answer = as_ana.post(f"/calendar-feeds/{feed_id}/fetch", {})
    assert answer.status_code == 302
    assert "an unexpected error stopped its reading" in text_of(as_ana.get("/calendar-feeds"))
