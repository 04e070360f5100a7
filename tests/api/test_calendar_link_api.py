"""``/api/v1/calendar-link``: the caller's calendar address, made on first use, revoked by
DELETE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEntry
from tests import factories
from tests.api.conftest import Api, error_of


def _path(url: str) -> str:
    return url.removeprefix("http://localhost")


def test_get_makes_the_address_once_then_gives_it_again(
    api: Api, client: FlaskClient, session: Session
) -> None:
    made = api.get("/calendar-link")
    assert made.status_code == 201
    body = made.get_json()
    assert set(body) == {"url", "webcal_url", "created_at"}
    assert body["url"].startswith("http://localhost/calendar/") and body["url"].endswith(".ics")
    assert body["webcal_url"] == "webcal://" + body["url"].removeprefix("http://")
    again = api.get("/calendar-link")
    assert again.status_code == 200 and again.get_json() == body
    feed = client.get(_path(body["url"]))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("calendar%")))
    assert [(e.action, e.detail) for e in entries] == [
        ("calendar_link_created", {"replaced": False, "via": "api"})
    ]


def test_delete_revokes_and_a_later_get_makes_a_new_one(api: Api, client: FlaskClient) -> None:
    first = api.get("/calendar-link").get_json()["url"]
    assert api.delete("/calendar-link").status_code == 204
    assert client.get(_path(first)).status_code == 404
    assert error_of(api.delete("/calendar-link"))["code"] == "not_found"
    second = api.get("/calendar-link")
    assert second.status_code == 201 and second.get_json()["url"] != first


def test_each_caller_has_their_own(app: Flask, api: Api, other_api: Api, admin_api: Api) -> None:
    urls = {a.get("/calendar-link").get_json()["url"] for a in (api, other_api, admin_api)}
    assert len(urls) == 3
    assert other_api.delete("/calendar-link").status_code == 204
    assert api.get("/calendar-link").status_code == 200  # the other's revoke left this one


def test_the_admins_address_lists_every_therapists_sessions(
    api: Api, admin_api: Api, client: FlaskClient, session: Session
) -> None:
    soon = datetime.now(UTC) + timedelta(days=2)
    mine, _ = factories.client_with_phone(session, "Ann Lee", therapist_id=api.user_id)
    other, _ = factories.client_with_phone(session, "Bo Day", "+16175550124")
    factories.appointment(session, mine, soon)
    factories.appointment(session, other, soon)
    session.commit()
    own = client.get(_path(api.get("/calendar-link").get_json()["url"])).get_data(as_text=True)
    everyone = client.get(_path(admin_api.get("/calendar-link").get_json()["url"]))
    assert own.count("BEGIN:VEVENT") == 1 and "Ann L." in own
    assert everyone.get_data(as_text=True).count("BEGIN:VEVENT") == 2


def test_without_a_token_nothing_is_made(client: FlaskClient, session: Session) -> None:
    assert client.get("/api/v1/calendar-link").status_code == 401
    assert client.delete("/api/v1/calendar-link").status_code == 401
    assert session.scalars(select(AuditEntry)).all() == []
