"""A calendar's secret address never reaches the logs, at any level: the fetch logs
nothing, and the libraries that write the paths they request are let through at ERROR."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests

from service import logs
from service.feed_fetch import fetch
from tests.feed_server import feed_server

SECRET = "private-0123456789abcdef"
CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """``logs.setup`` changes process-wide logging; put it back afterwards."""
    root = logging.getLogger()
    formatters = [(h, h.formatter) for h in root.handlers]
    levels = {name: logging.getLogger(name).level for name in logs.QUIET}
    yield
    for handler, formatter in formatters:
        handler.setFormatter(formatter)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_no_log_line_at_any_level_holds_a_feeds_address(
    caplog: pytest.LogCaptureFixture, logging_restored: None
) -> None:
    caplog.set_level(logging.DEBUG)
    with feed_server() as server:
        url = server.serve(f"/calendar/ical/{SECRET}/basic.ics", CALENDAR)
        moved = server.serve(f"/moved/{SECRET}", "", 302, Location=url)
        requests.get(moved, timeout=5)
        assert SECRET in caplog.text  # unquieted, urllib3 writes the path at DEBUG
        caplog.clear()
        logs.setup(logging.DEBUG)
        caplog.set_level(logging.DEBUG)
        assert fetch(moved, etag=None, last_modified=None, allow_private=True).body
        requests.get(moved, timeout=5)  # any other use of the address, by any library
        logging.getLogger("urllib3").error("a real error is still let through")
    assert SECRET not in caplog.text
    assert "a real error is still let through" in caplog.text
