"""``GET /calendar/<token>.ics``: what a subscribed calendar app is served."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service import bookings, calendar_links, practice_settings, roster
from service.config import settings_of
from service.db import get_db, utcnow
from service.logs import redact
from service.models import Appointment, Client, InboundMessage, User
from tests import factories
from tests.dashboard.calendar_helpers import address_of, client_sessions, events, soon, uid_ids
from tests.dashboard.conftest import Staff, counting, make_staff


def test_the_feed_lists_the_sessions_and_nothing_private(
    app: Flask, client: FlaskClient, ana: Staff
) -> None:
    near, cancelled, past, old, far = client_sessions(
        app,
        "María García",
        ana.id,
        soon(3),
        soon(4),
        soon(-29),
        soon(-32),
        soon(16),
        phone="+16175550123",
        timezone="Europe/Madrid",
    )
    with get_db(app).session() as session:
        row = session.scalars(select(Client)).one()
        row.notes = "Fibromyalgia, left shoulder"
        session.get(Appointment, cancelled).status = "cancelled"  # type: ignore[union-attr]
        session.add(
            InboundMessage(
                provider_sid="SM1",
                from_phone="+16175550123",
                body="7 burning",
                client_id=row.id,
                pain_score=7,
                note="burning",
            )
        )
        session.commit()
    response = client.get(address_of(app, ana.id))
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response.headers["Cache-Control"]
    found = events(response)
    assert set(found) == {f"appointment-{i}@touchbase" for i in (near, cancelled, past)}
    event = found[f"appointment-{near}@touchbase"]
    assert str(event["SUMMARY"]) == "María G."  # type: ignore[index]
    assert str(event["STATUS"]) == "CONFIRMED"  # type: ignore[index]
    assert event["DTSTART"].dt == soon(3)  # type: ignore[index]
    assert str(event["DTSTART"].dt.tzinfo) == "Europe/Madrid"  # type: ignore[index]
    assert "http://localhost/clients/1" in str(event["DESCRIPTION"])  # type: ignore[index]
    assert str(found[f"appointment-{cancelled}@touchbase"]["STATUS"]) == "CANCELLED"  # type: ignore[index]
    body = response.get_data(as_text=True)
    for private in ("555", "0123", "Fibromyalgia", "shoulder", "burning", "García", "pain"):
        assert private not in body
    assert old and far


def test_titles_are_initials_when_the_practice_says_so(make_app: Callable[..., Flask]) -> None:
    app = make_app(CALENDAR_INITIALS_ONLY="on")
    staff = make_staff(app, "ana@practice.test", "Ana Ruiz")
    (ident,) = client_sessions(app, "Maria Garcia", staff.id, soon(2))
    found = events(app.test_client().get(address_of(app, staff.id)))
    assert str(found[f"appointment-{ident}@touchbase"]["SUMMARY"]) == "M. G."  # type: ignore[index]


def test_a_therapist_sees_their_clients_and_an_admin_everyones(
    app: Flask, client: FlaskClient, ana: Staff, ben: Staff, boss: Staff
) -> None:
    (mine,) = client_sessions(app, "Ann Lee", ana.id, soon(1))
    (theirs,) = client_sessions(app, "Bob Day", ben.id, soon(1, 16))
    (nobody,) = client_sessions(app, "Cy Fox", None, soon(2))
    assert uid_ids(client, address_of(app, ana.id)) == {mine}
    assert uid_ids(client, address_of(app, ben.id)) == {theirs}
    assert uid_ids(client, address_of(app, boss.id)) == {mine, theirs, nobody}


def _move(app: Flask, appointment_id: int, days: int) -> None:
    """Move a session through the one write path."""
    with get_db(app).session() as session:
        row = bookings.lock_appointment(session, appointment_id)
        assert row is not None
        bookings.change_appointment(
            session,
            settings_of(app),
            None,
            row,
            utcnow(),
            starts_at=row.starts_at + timedelta(days=days),
            via="test",
        )
        session.commit()


def test_unchanged_answers_304_and_a_move_answers_200(
    app: Flask, client: FlaskClient, ana: Staff
) -> None:
    (ident,) = client_sessions(app, "Ann Lee", ana.id, soon(2))
    path = address_of(app, ana.id)
    first = client.get(path)
    again = client.get(path)
    assert first.get_data() == again.get_data()
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag == again.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        _move(app, ident, 1)
        moved = client.get(path, headers={"If-None-Match": etag})
        assert moved.status_code == 200
        assert moved.headers["ETag"] != etag
        assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 200
    uid = f"appointment-{ident}@touchbase"
    before, after = events(first)[uid], events(moved)[uid]
    assert after["DTSTART"].dt == soon(3)  # type: ignore[index]
    assert after["SEQUENCE"] > before["SEQUENCE"]  # type: ignore[index]


def test_every_token_that_opens_nothing_gets_the_same_404(
    app: Flask, client: FlaskClient, ana: Staff, ben: Staff
) -> None:
    revoked, deactivated = address_of(app, ana.id), address_of(app, ben.id)
    with get_db(app).session() as session:
        therapist, other = session.get(User, ana.id), session.get(User, ben.id)
        assert therapist is not None and other is not None
        assert calendar_links.revoke(session, therapist, utcnow())
        other.active = False
        session.commit()
    answers = [
        client.get(path)
        for path in (
            revoked,
            deactivated,
            "/calendar/" + "A" * 43 + ".ics",
            "/calendar/" + "x" * 500 + ".ics",
            "/calendar/%00.ics",
            "/calendar/%C3%A9%20%27.ics",
        )
    ]
    assert {(a.status_code, a.get_data(), a.mimetype) for a in answers} == {
        (404, b"Not found.\n", "text/plain")
    }


def test_the_feed_takes_the_same_statements_for_one_session_or_many(
    app: Flask, client: FlaskClient, ana: Staff
) -> None:
    path = address_of(app, ana.id)
    client_sessions(app, "Ann Lee", ana.id, soon(1))
    client.get(path)  # the app's first request warms its caches
    with counting(app) as one:
        assert client.get(path).status_code == 200
    client_sessions(app, "Bob Day", ana.id, *(soon(d, 9) for d in range(-20, 10)))
    with counting(app) as many:
        assert len(events(client.get(path))) == 31
    assert len(one) == len(many) <= 4


def test_the_token_never_reaches_the_log() -> None:
    line = '10.0.0.1 "GET /calendar/3q2-7wEzQ0bTj1m8R4xN5vYk6pLc9sAe2dFh7uGi0oW.ics" 200'
    assert "3q2" not in redact(line)
    assert "/calendar/[token]" in redact(line)
    assert "Zq9" not in redact("webcal://tb.example/calendar/Zq9_x-1.ics")


def test_a_series_session_is_in_the_series_zone(
    app: Flask, client: FlaskClient, ana: Staff
) -> None:
    with get_db(app).session() as session:
        row, _ = factories.client_with_phone(
            session, "Lu Wei", therapist_id=ana.id, timezone="Europe/Madrid"
        )
        local = soon(3).replace(tzinfo=None, hour=10)
        bookings.start_series(
            session,
            settings_of(app),
            None,
            row,
            starts_local=local,
            rrule="FREQ=WEEKLY",
            duration=45,
            ends_at=None,
            now=utcnow(),
            via="test",
        )
        row.timezone = "America/Chicago"  # the client moved; the series keeps its zone
        session.commit()
    found = events(client.get(address_of(app, ana.id)))
    assert len(found) == 2  # this week's and next week's, inside the horizon
    for event in found.values():
        start = event["DTSTART"].dt  # type: ignore[index]
        assert str(start.tzinfo) == "Europe/Madrid" and start.hour == 10
        assert event["DTEND"].dt - start == timedelta(minutes=45)  # type: ignore[index]


def test_a_renamed_client_is_a_change(app: Flask, client: FlaskClient, ana: Staff) -> None:
    (ident,) = client_sessions(app, "Ann Lee", ana.id, soon(2))
    path = address_of(app, ana.id)
    first = client.get(path)
    modified = first.headers["Last-Modified"]
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        with get_db(app).session() as session:
            row = roster.lock_with_client(session, Appointment, ident)
            assert row is not None
            roster.update_client(
                session,
                settings_of(app),
                None,
                row.client,
                {"name": "Ann Park"},
                utcnow(),
                via="test",
            )
            session.commit()
        renamed = client.get(path, headers={"If-Modified-Since": modified})
    assert renamed.status_code == 200
    event = events(renamed)[f"appointment-{ident}@touchbase"]
    assert str(event["SUMMARY"]) == "Ann P."  # type: ignore[index]
    assert event["SEQUENCE"] > events(first)[f"appointment-{ident}@touchbase"]["SEQUENCE"]  # type: ignore[index]


def _save_setting(app: Flask, field: str, value: str) -> None:
    """Save a practice setting as the settings page does."""
    with get_db(app).session() as session:
        practice_settings.save(
            session, settings_of(app), None, {field: value}, utcnow(), via="test"
        )
        session.commit()


def test_turning_initials_on_or_off_is_a_change_for_every_validator(
    app: Flask, client: FlaskClient, ana: Staff
) -> None:
    (ident,) = client_sessions(app, "Ann Lee", ana.id, soon(2))
    path, uid = address_of(app, ana.id), f"appointment-{ident}@touchbase"
    first = client.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert str(events(first)[uid]["SUMMARY"]) == "Ann L."  # type: ignore[index]
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        _save_setting(app, "calendar_initials_only", "on")
        by_etag = client.get(path, headers={"If-None-Match": etag})
        by_date = client.get(path, headers={"If-Modified-Since": modified})
        assert (by_etag.status_code, by_date.status_code) == (200, 200)
        assert by_etag.headers["ETag"] != etag
        assert by_etag.headers["Last-Modified"] != modified
        event = events(by_etag)[uid]
        assert str(event["SUMMARY"]) == "A. L."  # type: ignore[index]
        assert event["SEQUENCE"] > events(first)[uid]["SEQUENCE"]  # type: ignore[index]
        now_etag, now_modified = by_etag.headers["ETag"], by_etag.headers["Last-Modified"]
        assert client.get(path, headers={"If-None-Match": now_etag}).status_code == 304
        assert client.get(path, headers={"If-Modified-Since": now_modified}).status_code == 304
    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=False):
        _save_setting(app, "calendar_initials_only", "off")
        back = client.get(path, headers={"If-Modified-Since": now_modified})
        assert back.status_code == 200
        assert str(events(back)[uid]["SUMMARY"]) == "Ann L."  # type: ignore[index]
        assert client.get(path, headers={"If-None-Match": now_etag}).status_code == 200


def test_renaming_the_practice_renames_the_calendar_for_every_validator(
    app: Flask, client: FlaskClient, ana: Staff
) -> None:
    client_sessions(app, "Ann Lee", ana.id, soon(2))
    path = address_of(app, ana.id)
    first = client.get(path)
    modified = first.headers["Last-Modified"]
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        _save_setting(app, "practice_name", "Calm Hands")
        renamed = client.get(path, headers={"If-Modified-Since": modified})
        assert renamed.status_code == 200
        assert b"X-WR-CALNAME:Calm Hands sessions" in renamed.get_data()
