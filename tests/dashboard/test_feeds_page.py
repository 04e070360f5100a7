"""The calendar feeds page: add (refused addresses say why), fetch now, place the titles
that named no client, remove; a therapist sees only their own feeds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import get_db
from service.feed_models import CalendarFeed, FeedTitle
from service.models import Appointment, AuditEntry, Client
from tests import factories
from tests.dashboard.conftest import Staff, Web, make_staff, signed_in, text_of
from tests.feed_server import FeedServer
from tests.test_feed_sync import NOW, feed


@pytest.fixture
def open_app(make_app) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):  # the feed's sessions are then to come
        yield make_app(CALENDAR_FEEDS_ALLOW_PRIVATE="on")


def test_a_therapist_adds_fetches_places_titles_and_removes_a_feed(
    open_app: Flask, server: FeedServer
) -> None:
    ana = make_staff(open_app, "ana@practice.test", "Ana Ruiz")
    ben = make_staff(open_app, "ben@practice.test", "Ben Okafor")
    with get_db(open_app).session() as session:
        factories.client_with_phone(session, "Maria Garcia", "+16175550123", therapist_id=ana.id)
        factories.client_with_phone(session, "Tom Brown", "+16175550124", therapist_id=ana.id)
        session.commit()
    as_ana = signed_in(open_app, ana)
    refused = as_ana.post("/calendar-feeds", {"url": "ftp://calendar.example.com/a.ics"})
    assert refused.status_code == 422
    assert "Only http and https addresses can be subscribed to" in text_of(refused)
    url = server.serve("/practice.ics", feed())
    assert as_ana.post("/calendar-feeds", {"url": url}).status_code == 302
    with get_db(open_app).session() as session:
        feed_id = session.scalar(select(CalendarFeed.id))
    as_ana.post(f"/calendar-feeds/{feed_id}/fetch", {})
    page = text_of(as_ana.get("/calendar-feeds"))
    assert "Feed fetched." in page and "“Team meeting” names no client" in page
    with get_db(open_app).session() as session:  # the clients offered to link: audited
        listed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "list", AuditEntry.user_id == ana.id)
        ).all()
        offered = [e.detail["clients"] for e in listed if e.detail["via"] == "calendar_feeds"]
        assert [len(ids) for ids in offered] == [2]
    assert "No calendar feeds yet" in text_of(signed_in(open_app, ben).get("/calendar-feeds"))
    assert signed_in(open_app, ben).post(f"/calendar-feeds/{feed_id}/remove", {}).status_code == 404
    as_ana.post(f"/calendar-feeds/{feed_id}/titles", {"title": "Team meeting", "action": "ignore"})
    with get_db(open_app).session() as session:
        assert session.scalar(select(FeedTitle.title)) == "team meeting"
        tom = session.scalar(select(Client.id).where(Client.name == "Tom Brown"))
        booked = len(session.scalars(select(Appointment)).all())
    odd = {"title": "Tommy", "action": "link", "client_id": "²"}  # isdigit, but not int's
    assert as_ana.post(f"/calendar-feeds/{feed_id}/titles", odd).status_code < 500
    as_ana.post(
        f"/calendar-feeds/{feed_id}/titles",
        {"title": "Tommy", "action": "link", "client_id": str(tom)},
    )
    with get_db(open_app).session() as session:
        assert session.scalar(select(Client.calendar_name).where(Client.id == tom)) == "Tommy"
    as_ana.post(f"/calendar-feeds/{feed_id}/remove", {"cancel": "on"})
    with get_db(open_app).session() as session:
        assert session.scalar(select(CalendarFeed.id)) is None
        rows = session.scalars(select(Appointment)).all()
        assert len(rows) == booked == 5 and {a.status for a in rows} == {"cancelled"}


def test_an_admin_adds_a_feed_for_a_therapist(
    open_app: Flask, ana: Staff, boss: Staff, session: Session
) -> None:
    as_boss: Web = signed_in(open_app, boss)
    form = {"url": "https://calendar.example.com/a.ics", "therapist_id": str(ana.id)}
    assert as_boss.post("/calendar-feeds", form).status_code == 302
    assert session.scalar(select(CalendarFeed.therapist_id)) == ana.id
