"""A feed's address is shown whole only to the feed's therapist; an admin sees another
therapist's feed as its scheme and host, the secret part left out."""

from __future__ import annotations

import pytest
from flask import Flask

from service.calendar_feeds import shown_address
from service.db import get_db
from service.feed_models import CalendarFeed
from service.models import User
from tests.dashboard.conftest import Staff, Web, now

SECRET = "private-0123456789abcdef"
ANA_URL = f"https://calendar.google.com/calendar/ical/ana%40gmail.com/{SECRET}/basic.ics"
BOSS_URL = "https://outlook.office365.com/owa/calendar/boss/reachcalendar.ics"


def add(app: Flask, staff: Staff, url: str) -> None:
    with get_db(app).session() as session:
        session.add(CalendarFeed(therapist_id=staff.id, url=url, created_at=now()))
        session.commit()


def test_the_therapist_sees_their_address_and_an_admin_only_its_host(
    app: Flask, ana: Staff, boss: Staff, as_ana: Web, as_boss: Web
) -> None:
    add(app, ana, ANA_URL)
    add(app, boss, BOSS_URL)
    mine = as_ana.get("/calendar-feeds").get_data(as_text=True)
    assert SECRET in mine and "outlook" not in mine
    theirs = as_boss.get("/calendar-feeds").get_data(as_text=True)
    assert SECRET not in theirs and "ana%40gmail.com" not in theirs
    assert "<code>https://calendar.google.com…</code>" in theirs
    assert "reachcalendar.ics" in theirs  # the admin's own feed, whole


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (ANA_URL, "https://calendar.google.com…"),
        ("https://user:pw@cal.example.com:8443/a.ics?key=s", "https://cal.example.com…"),
        ("http://[::1/broken", "…"),
        ("not an address", "…"),
    ],
)
def test_an_address_is_masked_to_its_scheme_and_host_for_others(url: str, shown: str) -> None:
    feed = CalendarFeed(therapist_id=1, url=url)
    assert shown_address(feed, User(id=2)) == shown
    assert shown_address(feed, User(id=1)) == url
