"""``/api/v1/calendar-link``: the caller's calendar address, made on first use, revoked by
DELETE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service import accounts
from service.db import get_db
from service.models import AuditEntry, CalendarLink, User
from tests import factories
from tests.api.conftest import Api, error_of, make_api
from tests.api.test_races import race
from tests.dashboard.conftest import make_staff, signed_in


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


RACE_ROUNDS = 6  # the race failed before its fix in most rounds


def _live_links(app: Flask, user_id: int) -> list[CalendarLink]:
    with get_db(app).session() as session:
        return list(
            session.scalars(
                select(CalendarLink).where(
                    CalendarLink.user_id == user_id, CalendarLink.revoked_at.is_(None)
                )
            )
        )


def _made(app: Flask, user_id: int) -> int:
    with get_db(app).session() as session:
        query = select(func.count()).where(
            AuditEntry.user_id == user_id, AuditEntry.action == "calendar_link_created"
        )
        return int(session.scalar(query) or 0)


def _first_gets_at_once(app: Flask, email: str) -> None:
    """Two GETs of a new user's address at once: one makes it, both are given it."""
    one = make_api(app, email)
    two = Api(app.test_client(), one.token, one.user_id)
    answers: dict[int, TestResponse] = {}

    def first_get(index: int, caller: Api) -> TestResponse:
        answers[index] = caller.get("/calendar-link")
        return answers[index]

    codes = race(partial(first_get, 0, one), partial(first_get, 1, two))
    assert sorted(codes) == [200, 201]
    urls = {answer.get_json()["url"] for answer in answers.values()}
    assert len(urls) == 1
    assert len(_live_links(app, one.user_id)) == 1
    assert app.test_client().get(_path(urls.pop())).status_code == 200
    assert _made(app, one.user_id) == 1


def test_two_first_gets_at_once_make_one_address_both_are_given(app: Flask) -> None:
    for round_ in range(RACE_ROUNDS):  # each round a new user, so each GET is a first GET
        _first_gets_at_once(app, f"racer{round_}@practice.test")


def _get_and_new_address_at_once(app: Flask, email: str) -> None:
    """A first GET and the account page's "new address" at once: one address in force,
    the one a GET then gives."""
    staff = make_staff(app, email, "Pat Page")
    with get_db(app).session() as session:
        user = session.get(User, staff.id)
        assert user is not None
        token = accounts.create_token(session, user)
        session.commit()
    caller, web = Api(app.test_client(), token, staff.id), signed_in(app, staff)
    form = {"csrf_token": web.token()}
    codes = race(
        partial(caller.get, "/calendar-link"),
        partial(web.http.post, "/account/calendar-link", data=form),
    )
    assert sorted(codes) in ([200, 302], [201, 302])
    assert len(_live_links(app, staff.id)) == 1
    shown = caller.get("/calendar-link")
    assert shown.status_code == 200
    assert app.test_client().get(_path(shown.get_json()["url"])).status_code == 200


def test_a_first_get_racing_the_account_pages_new_address_leaves_one_in_force(
    app: Flask,
) -> None:
    for round_ in range(RACE_ROUNDS):
        _get_and_new_address_at_once(app, f"page{round_}@practice.test")
