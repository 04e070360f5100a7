"""Arranging calendar addresses and sessions for the feed's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from werkzeug.test import TestResponse

from service import calendar_links
from service.config import settings_of
from service.db import get_db
from service.models import User
from tests import factories


def address_of(app: Flask, user_id: int) -> str:
    """A new calendar address for the user: the path of its feed."""
    with get_db(app).session() as session:
        user = session.get(User, user_id)
        assert user is not None
        _link, token, _ = calendar_links.create(
            session, user, settings_of(app).secret_key, datetime.now(UTC)
        )
        session.commit()
    return f"/calendar/{token}.ics"


def client_sessions(
    app: Flask, name: str, therapist_id: int | None, *starts: datetime, **kw: str
) -> list[int]:
    """A client with a phone and a session at each of ``starts``; the sessions' ids."""
    with get_db(app).session() as session:
        phone = kw.pop("phone", f"+1617555{abs(hash(name)) % 10000:04d}")
        client, _ = factories.client_with_phone(
            session, name, phone, therapist_id=therapist_id, **kw
        )
        ids = [factories.appointment(session, client, at).id for at in starts]
        session.commit()
    return ids


def soon(days: float, hour: int = 15) -> datetime:
    """An instant ``days`` from today at ``hour`` UTC."""
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def events(response: TestResponse) -> dict[str, object]:
    """The feed's events by UID."""
    assert response.status_code == 200, response.get_data(as_text=True)
    calendar = Calendar.from_ical(response.get_data())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def uid_ids(http: FlaskClient, path: str) -> set[int]:
    """The appointment ids a feed lists."""
    uids = events(http.get(path))
    return {int(uid.split("@")[0].removeprefix("appointment-")) for uid in uids}
