"""Sessions from a calendar feed in the dashboard: their time and whether they happen
belong to the feed, so a move or cancellation made here is refused with the reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.feed_models import CalendarFeed
from service.models import Appointment
from tests.dashboard.conftest import Staff, Web, text_of
from tests.dashboard.test_moves import day_at, local, notices, sams


def from_feed(session: Session, ana: Staff) -> Appointment:
    """Sam's session, as a feed of Ana's booked it."""
    appointment = sams(session, ana)
    feed = CalendarFeed(therapist_id=ana.id, url="https://calendar.example.com/a.ics")
    session.add(feed)
    session.flush()
    appointment.feed_id, appointment.feed_uid, appointment.feed_instance = feed.id, "u1", ""
    session.commit()
    return appointment


def test_a_feed_session_cannot_be_moved_or_cancelled_here(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    appointment = from_feed(session, ana)
    form = {"starts": local(day_at(5, 15)), "duration": "60", "notify": "on"}
    page = as_ana.post(f"/appointments/{appointment.id}/move", form)
    assert page.status_code == 422
    assert "This session comes from a calendar feed" in text_of(page)
    as_ana.post(f"/appointments/{appointment.id}/cancel", {"notify": "on"})
    shown = as_ana.get(f"/clients/{appointment.client_id}")
    assert "Not changed: this session comes from a calendar feed" in text_of(shown)
    session.expire_all()
    assert session.scalar(select(Appointment.status)) == "scheduled"
    assert session.scalar(select(Appointment.starts_at)) == day_at(4, 10)
    assert notices(session) == []


def test_a_feed_session_can_still_be_confirmed(as_ana: Web, ana: Staff, session: Session) -> None:
    appointment = from_feed(session, ana)
    as_ana.post(f"/appointments/{appointment.id}/status", {"status": "confirmed"})
    session.expire_all()
    assert session.scalar(select(Appointment.status)) == "confirmed"
