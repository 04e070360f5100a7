"""Concurrent writes of the same rows: every answer is one a user can act on (never a 500),
and the database ends consistent (no number twice, no occurrence a series no longer has, no
change answered 200 and then lost, an outbox equal to the plan).

Each race sends its requests from threads released together, each thread with its own test
client (a request and a database session of its own), many rounds over fresh rows. Which
request wins a round is up to the scheduler: every assertion holds for either order.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from service import planner
from service.config import settings_of
from service.db import get_db
from service.domain.vocabulary import MessageStatus
from service.models import Appointment, AppointmentSeries, Client, Contact, OutboundMessage
from tests.api.conftest import Api, make_api
from tests.dashboard.conftest import make_staff, signed_in

NY = ZoneInfo("America/New_York")
ROUNDS = 10  # a race that failed before its fix did so in a quarter of the rounds or more
EVERY_OTHER_DAY = "FREQ=DAILY;INTERVAL=2"
Request = Callable[[], TestResponse]


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app planning a week ahead: series of fewer rows, so more rounds in the time."""
    return make_app(PLANNING_HORIZON_DAYS="7")


@pytest.fixture
def pair(app: Flask) -> tuple[Api, Api]:
    """Two API clients of one therapist: two callers at once."""
    one = make_api(app, "ana@practice.test")
    return one, Api(app.test_client(), one.token, one.user_id)


def race(*requests: Request) -> list[int]:
    """Send the requests at once, each from its own thread; their status codes, in order.

    Under test the app raises what would be a 500: it is reported with its exception.
    """
    barrier = threading.Barrier(len(requests))
    codes: list[int | str] = ["no answer"] * len(requests)

    def run(index: int, request: Request) -> None:
        barrier.wait()
        try:
            codes[index] = request().status_code
        except Exception as exc:
            codes[index] = f"500 ({type(exc).__name__}: {exc})"

    threads = [threading.Thread(target=run, args=item) for item in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(code, int) for code in codes), codes
    return [int(code) for code in codes]


def local_day(days: int) -> datetime:
    """10:00 New York wall-clock time ``days`` from today (naive)."""
    today = datetime.now(NY).date()
    return datetime(today.year, today.month, today.day, 10) + timedelta(days=days)


def new_client(api: Api, phone: str | None = "6175550123") -> int:
    body = {"name": "Sam Lee", "confirm_shared": True} | ({"phone": phone} if phone else {})
    response = api.post("/clients", body)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def new_contact(api: Api, client_id: int, phone: str) -> int:
    body = {"name": "Kim Lee", "phone": phone, "checkins": True}
    response = api.post(f"/clients/{client_id}/contacts", body)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def new_series(api: Api, client_id: int, rule: str = "FREQ=DAILY") -> int:
    # Two days out: every reminder is still ahead, so the plan does not depend on the second.
    body = {"client_id": client_id, "starts_at": local_day(2).isoformat(), "rrule": rule}
    response = api.post("/series", body)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def assert_outbox_is_the_plan(app: Flask, client_id: int) -> None:
    """Re-planning the client now changes nothing: the last write planned from all of them."""
    with get_db(app).session() as session:
        counts = planner.replan_client(session, settings_of(app), client_id, datetime.now(UTC))
        session.rollback()
    assert counts == planner.PlanCounts(), counts


def planned_to(app: Flask, phone: str) -> int:
    """How many texts are still planned to ``phone``."""
    with get_db(app).session() as session:
        query = select(func.count()).where(
            OutboundMessage.to_phone == phone, OutboundMessage.status == MessageStatus.PLANNED
        )
        return int(session.scalar(query) or 0)


def test_a_contact_changed_and_removed_at_once(app: Flask, pair: tuple[Api, Api]) -> None:
    one, two = pair
    client_id = new_client(one)
    for n in range(ROUNDS):
        contact_id = new_contact(one, client_id, f"61755502{n:02d}")
        change = {"phone": f"61755503{n:02d}", "name": "Kim Park"}
        codes = race(
            partial(one.patch, f"/contacts/{contact_id}", change),
            partial(two.delete, f"/contacts/{contact_id}"),
        )
        assert codes[0] in (200, 404) and codes[1] == 204, codes
        with get_db(app).session() as session:
            assert session.get(Contact, contact_id) is None
        assert planned_to(app, f"+161755502{n:02d}") == 0
        assert planned_to(app, f"+161755503{n:02d}") == 0
    assert_outbox_is_the_plan(app, client_id)


@pytest.mark.parametrize("had_phone", [True, False], ids=["changed", "first"])
def test_a_clients_phone_changed_twice_at_once(
    app: Flask, pair: tuple[Api, Api], had_phone: bool
) -> None:
    one, two = pair
    for n in range(ROUNDS):
        client_id = new_client(one, "6175550123" if had_phone else None)
        new_series(one, client_id, "FREQ=WEEKLY")
        phones = (f"+161755504{n:02d}", f"+161755505{n:02d}")
        codes = race(
            partial(one.patch, f"/clients/{client_id}", {"phone": phones[0]}),
            partial(two.patch, f"/clients/{client_id}", {"phone": phones[1]}),
        )
        assert codes == [200, 200], codes
        with get_db(app).session() as session:
            client = session.get(Client, client_id)
            assert client is not None
            [own] = [c for c in client.contacts if c.is_own]  # one, never one per request
        [lost] = set(phones) - {own.phone}
        assert planned_to(app, lost) == 0
        assert planned_to(app, own.phone) > 0
        assert_outbox_is_the_plan(app, client_id)


def test_a_contact_added_while_the_client_takes_the_same_number(
    app: Flask, pair: tuple[Api, Api]
) -> None:
    one, two = pair
    for n in range(ROUNDS):
        client_id = new_client(one)
        phone = f"61755506{n:02d}"
        codes = race(
            partial(one.post, f"/clients/{client_id}/contacts", {"name": "Kim", "phone": phone}),
            partial(two.patch, f"/clients/{client_id}", {"phone": phone}),
        )
        assert sorted(codes) in ([201, 409], [200, 409]), codes
        with get_db(app).session() as session:
            numbers = session.scalars(select(Contact.phone).where(Contact.client_id == client_id))
            assert Counter(numbers)[f"+1{phone}"] == 1
        assert_outbox_is_the_plan(app, client_id)


def test_a_series_changed_and_ended_at_once(app: Flask, pair: tuple[Api, Api]) -> None:
    one, two = pair
    for _ in range(ROUNDS):
        client_id = new_client(one)
        series_id = new_series(one, client_id)
        codes = race(
            partial(one.patch, f"/series/{series_id}", {"duration_minutes": 90}),
            partial(two.delete, f"/series/{series_id}"),
        )
        assert codes == [200, 204], codes
        now = datetime.now(UTC)
        with get_db(app).session() as session:
            series = session.get(AppointmentSeries, series_id)
            assert series is not None and series.ends_at is not None and series.ends_at <= now
            future = select(func.count()).where(
                Appointment.series_id == series_id, Appointment.starts_at > now
            )
            assert session.scalar(future) == 0
        assert_outbox_is_the_plan(app, client_id)


def test_an_appointment_changed_while_its_series_drops_it(
    app: Flask, pair: tuple[Api, Api]
) -> None:
    one, two = pair
    for _ in range(ROUNDS):
        client_id = new_client(one)
        series_id = new_series(one, client_id)
        items = one.get("/appointments", client_id=client_id).get_json()["items"]
        appointment_id = items[1]["id"]  # the second day, which every other day leaves out
        codes = race(
            partial(one.patch, f"/appointments/{appointment_id}", {"status": "confirmed"}),
            partial(two.patch, f"/series/{series_id}", {"rrule": EVERY_OTHER_DAY}),
        )
        assert codes[0] in (200, 404) and codes[1] == 200, codes
        with get_db(app).session() as session:
            kept = session.get(Appointment, appointment_id)
        if codes[0] == 200:  # confirmed on its own first: the series leaves it be
            assert kept is not None and kept.status == "confirmed" and kept.detached
        else:  # removed by the series first: nothing left to confirm
            assert kept is None
        assert_outbox_is_the_plan(app, client_id)


def test_two_appointments_booked_at_once_for_one_client(app: Flask, pair: tuple[Api, Api]) -> None:
    one, two = pair
    for _ in range(ROUNDS):
        client_id = new_client(one)
        # The first one's check-ins fall after the second starts: its plan needs both.
        # Every round books the same hours for one therapist: overlaps, confirmed.
        first, second = (
            {
                "client_id": client_id,
                "starts_at": local_day(days).isoformat(),
                "confirm_overlap": True,
            }
            for days in (3, 4)
        )
        codes = race(
            partial(one.post, "/appointments", first), partial(two.post, "/appointments", second)
        )
        assert codes == [201, 201], codes
        assert_outbox_is_the_plan(app, client_id)


def test_a_far_week_filled_in_while_its_series_changes(app: Flask, pair: tuple[Api, Api]) -> None:
    one, two = pair
    for _ in range(ROUNDS):
        client_id = new_client(one)
        series_id = new_series(one, client_id)
        start = (datetime.now(UTC) + timedelta(days=60)).replace(microsecond=0)
        end = start + timedelta(days=7)
        week = {"client_id": client_id, "from": start.isoformat(), "to": end.isoformat()}
        codes = race(
            partial(one.get, "/appointments", **week),
            partial(two.patch, f"/series/{series_id}", {"rrule": EVERY_OTHER_DAY}),
        )
        assert codes == [200, 200], codes
        with get_db(app).session() as session:
            series = session.get(AppointmentSeries, series_id)
            assert series is not None
            rows = session.scalars(select(Appointment).where(Appointment.series_id == series_id))
            for row in rows:  # every occurrence is one of the new rule's, none of the old's
                local = row.starts_at.astimezone(ZoneInfo(series.timezone)).replace(tzinfo=None)
                assert (local - series.starts_local).days % 2 == 0, local
        assert_outbox_is_the_plan(app, client_id)


def test_a_dashboard_form_racing_an_api_delete(app: Flask, pair: tuple[Api, Api]) -> None:
    one, _ = pair
    web = signed_in(app, make_staff(app, "bo@practice.test", "Bo Boss", admin=True))
    form = {"csrf_token": web.token(), "name": "Kim", "relation": "parent", "reminders": "on"}
    client_id = new_client(one)
    for n in range(ROUNDS):
        contact_id = new_contact(one, client_id, f"61755507{n:02d}")
        codes = race(
            partial(
                web.http.post,
                f"/contacts/{contact_id}/edit",
                data=form | {"phone": f"61755508{n:02d}"},
            ),
            partial(one.delete, f"/contacts/{contact_id}"),
        )
        assert codes[0] in (302, 404) and codes[1] == 204, codes
        assert planned_to(app, f"+161755508{n:02d}") == 0
    assert_outbox_is_the_plan(app, client_id)
