"""A fetch or a reading that fails in a way nobody expected (a library's bug on odd input)
is a recorded failure like any other: logged by its kind, never with the address or the
feed's text, the claim released, one inbox item, and no 500 for "Fetch now"."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import feed_runs
from service.config import settings_of
from service.db import get_db
from service.domain import calendar_events
from service.domain.vocabulary import AlertKind
from service.feed_models import CalendarFeed
from service.models import Alert
from tests.feed_server import FeedServer
from tests.test_feed_sync import NOW, arrange, feed

SECRET = "private-0123456789abcdef"


@pytest.mark.parametrize(
    ("module", "name"), [(feed_runs.feed_fetch, "fetch"), (calendar_events, "expand")]
)
def test_an_unexpected_error_is_a_recorded_failure_that_releases_the_claim(
    make_app: Callable[..., Flask],
    server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    module: ModuleType,
    name: str,
) -> None:
    app = make_app(CALENDAR_FEEDS_ALLOW_PRIVATE="on")
    url = server.serve(f"/calendar/ical/{SECRET}/basic.ics", feed())
    feed_id = arrange(app, url)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"odd input at {url}: SUMMARY:Massage - Maria G.")

    monkeypatch.setattr(module, name, broken)
    with get_db(app).session() as session:
        result = feed_runs.run_feed(session, settings_of(app), feed_id, NOW)
    assert result is not None and result.error == feed_runs.UNEXPECTED
    with get_db(app).session() as session:
        row = session.get_one(CalendarFeed, feed_id)
        assert row.claimed_until is None and row.last_error == feed_runs.UNEXPECTED
        [item] = session.scalars(select(Alert).where(Alert.kind == AlertKind.CALENDAR_FEED))
        assert item.handled_at is None and SECRET not in item.detail
        assert feed_runs.claim(session, feed_id, NOW, force=True)  # free for the next fetch
    logged = caplog.text
    assert "RuntimeError" in logged and "run_feed (feed_runs.py" in logged
    assert SECRET not in logged and "Maria" not in logged
