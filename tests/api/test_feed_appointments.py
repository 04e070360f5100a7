"""Sessions from a calendar feed through the API: moves and cancellations are refused
with the reason (the feed is their source); a confirmation is not."""

from __future__ import annotations

from flask import Flask

from service.db import get_db
from service.feed_models import CalendarFeed
from service.models import Appointment
from tests.api.conftest import Api, error_of
from tests.api.test_appointment_moves import book
from tests.api.test_appointments import local_day, new_client


def test_a_feed_session_refuses_moves_and_cancellations(app: Flask, api: Api) -> None:
    appointment = book(api, new_client(api), 2).get_json()
    with get_db(app).session() as session:
        feed = CalendarFeed(therapist_id=api.user_id, url="https://calendar.example.com/a.ics")
        session.add(feed)
        session.flush()
        row = session.get(Appointment, appointment["id"])
        assert row is not None
        row.feed_id, row.feed_uid, row.feed_instance = feed.id, "u1", ""
        session.commit()
    path = f"/appointments/{appointment['id']}"
    moved = api.patch(path, {"starts_at": local_day(3).isoformat()})
    assert moved.status_code == 422
    assert "comes from a calendar feed" in error_of(moved)["fields"]["starts_at"]
    cancelled = api.patch(path, {"status": "cancelled", "notify": True})
    assert cancelled.status_code == 422
    assert "comes from a calendar feed" in error_of(cancelled)["fields"]["status"]
    assert api.get(path).get_json()["starts_at"] == appointment["starts_at"]
    assert api.patch(path, {"status": "confirmed"}).status_code == 200
