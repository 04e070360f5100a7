"""Series and appointments through the API, and the plan that follows every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from service.db import get_db
from service.models import Appointment
from tests.api.conftest import Api, error_of

NY = ZoneInfo("America/New_York")


def new_client(api: Api, **body: object) -> int:
    response = api.post("/clients", {"name": "Sam Lee", "phone": "6175550123", **body})
    assert response.status_code == 201
    return int(response.get_json()["id"])


def local_day(days: int, hour: int = 10) -> datetime:
    """A naive local wall-clock time ``days`` from today in New York."""
    today = datetime.now(NY).date()
    return datetime(today.year, today.month, today.day, hour) + timedelta(days=days)


def messages(api: Api, **filters: object) -> list[dict]:  # type: ignore[type-arg]
    response = api.get("/messages", **filters)
    assert response.status_code == 200
    return response.get_json()["items"]  # type: ignore[no-any-return]


def test_a_series_answers_its_next_five_local_starts(api: Api) -> None:
    client_id = new_client(api)
    first = local_day(1, 9)
    response = api.post(
        "/series",
        {"client_id": client_id, "starts_at": first.isoformat(), "rrule": "FREQ=DAILY;COUNT=30"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["client_id"], body["duration_minutes"], body["timezone"]) == (
        client_id,
        60,
        "America/New_York",
    )
    assert len(body["next"]) == 5
    for start in body["next"]:
        local = datetime.fromisoformat(start)
        assert (local.hour, local.minute) == (9, 0)
        assert local.utcoffset() == local.astimezone(NY).utcoffset()


def test_a_series_materializes_the_horizon_and_plans_its_texts(api: Api) -> None:
    client_id = new_client(api)
    api.post(
        "/series",
        {
            "client_id": client_id,
            "starts_at": local_day(1).isoformat(),
            "rrule": "FREQ=WEEKLY;BYDAY=MO,TH",
        },
    )
    appointments = api.get("/appointments", client_id=client_id).get_json()["items"]
    assert 3 <= len(appointments) <= 5  # two a week over the 14-day horizon
    assert all(a["series_id"] is not None for a in appointments)
    planned = messages(api, client_id=client_id)
    kinds = {m["kind"] for m in planned}
    assert kinds == {"reminder", "checkin"}
    reminders = [m for m in planned if m["kind"] == "reminder"]
    assert len(reminders) == len(appointments)
    assert all("Reply C to confirm or R to reschedule" in m["body"] for m in reminders)
    assert all(m["to"] == "+16175550123" for m in planned)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rrule": "FREQ=FORTNIGHTLY"}, "rrule"),
        ({"rrule": ""}, "rrule"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule"),
        ({"starts_at": "2027-03-04T09:00:00-05:00"}, "starts_at"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": "60"}, "duration_minutes"),
        ({"client_id": 999999}, "client_id"),
        ({"color": "blue"}, "color"),
    ],
)
def test_a_bad_series_is_refused_naming_the_field(api: Api, body: dict, field: str) -> None:  # type: ignore[type-arg]
    client_id = new_client(api)
    good = {"client_id": client_id, "starts_at": local_day(1).isoformat(), "rrule": "FREQ=WEEKLY"}
    response = api.post("/series", {**good, **body})
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert api.get("/appointments", client_id=client_id).get_json()["items"] == []


def test_another_therapists_client_cannot_get_a_series(api: Api, other_api: Api) -> None:
    theirs = new_client(other_api)
    response = api.post(
        "/series",
        {"client_id": theirs, "starts_at": local_day(1).isoformat(), "rrule": "FREQ=WEEKLY"},
    )
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"client_id": "no such client"}


def test_editing_a_series_moves_only_untouched_future_occurrences(api: Api) -> None:
    client_id = new_client(api)
    series = api.post(
        "/series",
        {
            "client_id": client_id,
            "starts_at": local_day(1, 9).isoformat(),
            "rrule": "FREQ=DAILY;COUNT=10",
        },
    ).get_json()
    before = api.get("/appointments", client_id=client_id).get_json()["items"]
    moved_one = before[2]
    new_start = datetime.fromisoformat(moved_one["starts_at"]) + timedelta(hours=5)
    assert (
        api.patch(
            f"/appointments/{moved_one['id']}", {"starts_at": new_start.isoformat()}
        ).status_code
        == 200
    )
    response = api.patch(f"/series/{series['id']}", {"starts_at": local_day(1, 11).isoformat()})
    assert response.status_code == 200, response.get_json()
    after = api.get("/appointments", client_id=client_id).get_json()["items"]
    hours = sorted(datetime.fromisoformat(a["starts_at"]).hour for a in after)
    assert hours.count(14) == 1  # the one moved on its own stayed where it was put
    assert hours.count(11) == len(after) - 1
    assert hours.count(9) == 0


def test_ending_a_series_removes_its_future_and_cancels_their_texts(api: Api) -> None:
    client_id = new_client(api)
    series = api.post(
        "/series",
        {"client_id": client_id, "starts_at": local_day(1).isoformat(), "rrule": "FREQ=DAILY"},
    ).get_json()
    assert messages(api, client_id=client_id, status="planned")
    assert api.delete(f"/series/{series['id']}").status_code == 204
    assert api.get("/appointments", client_id=client_id).get_json()["items"] == []
    assert messages(api, client_id=client_id, status="planned") == []
    assert api.get(f"/series/{series['id']}").get_json()["next"] == []


def test_an_appointment_without_offset_is_local_time(api: Api) -> None:
    client_id = new_client(api, timezone="America/Los_Angeles")
    response = api.post("/appointments", {"client_id": client_id, "starts_at": "2031-07-01T09:30"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["starts_at"] == "2031-07-01T09:30:00-07:00"
    assert body["ends_at"] == "2031-07-01T10:30:00-07:00"
    assert (body["status"], body["series_id"]) == ("scheduled", None)


def test_an_appointment_with_an_offset_is_that_instant(api: Api) -> None:
    client_id = new_client(api)
    response = api.post(
        "/appointments",
        {"client_id": client_id, "starts_at": "2031-07-01T12:00:00+00:00", "duration_minutes": 45},
    )
    assert response.get_json()["starts_at"] == "2031-07-01T08:00:00-04:00"
    assert response.get_json()["ends_at"] == "2031-07-01T08:45:00-04:00"


def test_a_recent_completed_appointment_gets_its_checkins(api: Api) -> None:
    client_id = new_client(api)
    start = datetime.now(UTC) - timedelta(hours=3)
    response = api.post(
        "/appointments",
        {"client_id": client_id, "starts_at": start.isoformat(), "status": "completed"},
    )
    assert response.status_code == 201
    planned = messages(api, appointment_id=response.get_json()["id"])
    assert [(m["kind"], m["status"]) for m in planned] == [
        ("reminder", "skipped"),  # recorded, never sent: the session is over
        ("checkin", "planned"),
        ("checkin", "planned"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starts_at": "2031-02-30T09:00"}, "starts_at"),
        ({"starts_at": None}, "starts_at"),
        ({"status": "maybe"}, "status"),
        ({"client_id": "1"}, "client_id"),
        ({"duration_minutes": 100000}, "duration_minutes"),
    ],
)
def test_a_bad_appointment_is_refused_naming_the_field(api: Api, body: dict, field: str) -> None:  # type: ignore[type-arg]
    client_id = new_client(api)
    response = api.post(
        "/appointments", {"client_id": client_id, "starts_at": "2031-07-01T09:00", **body}
    )
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_cancelling_an_appointment_cancels_its_planned_texts(api: Api) -> None:
    client_id = new_client(api)
    appointment = api.post(
        "/appointments", {"client_id": client_id, "starts_at": local_day(3).isoformat()}
    ).get_json()
    assert {m["status"] for m in messages(api, appointment_id=appointment["id"])} == {"planned"}
    response = api.patch(f"/appointments/{appointment['id']}", {"status": "cancelled"})
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert {m["status"] for m in messages(api, appointment_id=appointment["id"])} == {"cancelled"}


def test_uncancelling_brings_the_texts_back(api: Api) -> None:
    client_id = new_client(api)
    appointment = api.post(
        "/appointments", {"client_id": client_id, "starts_at": local_day(3).isoformat()}
    ).get_json()
    api.patch(f"/appointments/{appointment['id']}", {"status": "cancelled"})
    api.patch(f"/appointments/{appointment['id']}", {"status": "scheduled"})
    assert {m["status"] for m in messages(api, appointment_id=appointment["id"])} == {"planned"}


def test_moving_an_appointment_replans_its_texts(api: Api) -> None:
    client_id = new_client(api)
    appointment = api.post(
        "/appointments", {"client_id": client_id, "starts_at": local_day(3).isoformat()}
    ).get_json()
    api.patch(f"/appointments/{appointment['id']}", {"starts_at": local_day(4, 15).isoformat()})
    planned = [
        m for m in messages(api, appointment_id=appointment["id"]) if m["status"] == "planned"
    ]
    reminder = next(m for m in planned if m["kind"] == "reminder")
    assert "3:00 PM" in reminder["body"]
    cancelled = [
        m for m in messages(api, appointment_id=appointment["id"]) if m["status"] == "cancelled"
    ]
    assert len(cancelled) == len(planned)


def test_a_no_show_cancels_the_checkins(app: Flask, api: Api) -> None:
    client_id = new_client(api)
    appointment = api.post(
        "/appointments", {"client_id": client_id, "starts_at": local_day(1).isoformat()}
    ).get_json()
    # Booked while still to come (a past time cannot be), and now two hours begun.
    with get_db(app).session() as session:
        booked = session.get(Appointment, appointment["id"])
        assert booked is not None
        booked.starts_at = datetime.now(UTC) - timedelta(hours=2)
        booked.ends_at = booked.starts_at + timedelta(hours=1)
        session.commit()
    api.patch(f"/appointments/{appointment['id']}", {"status": "no_show"})
    checkins = messages(api, appointment_id=appointment["id"], kind="checkin")
    assert checkins and {m["status"] for m in checkins} == {"cancelled"}


def test_confirming_keeps_the_plan(api: Api) -> None:
    client_id = new_client(api)
    appointment = api.post(
        "/appointments", {"client_id": client_id, "starts_at": local_day(3).isoformat()}
    ).get_json()
    before = messages(api, appointment_id=appointment["id"])
    api.patch(f"/appointments/{appointment['id']}", {"status": "confirmed"})
    assert messages(api, appointment_id=appointment["id"]) == before


def test_a_bad_appointment_change_is_refused(api: Api, other_api: Api) -> None:
    client_id = new_client(api)
    appointment = api.post(
        "/appointments", {"client_id": client_id, "starts_at": local_day(3).isoformat()}
    ).get_json()
    response = api.patch(f"/appointments/{appointment['id']}", {"status": "gone"})
    assert response.status_code == 422
    assert (
        other_api.patch(f"/appointments/{appointment['id']}", {"status": "cancelled"}).status_code
        == 404
    )
    assert api.patch("/appointments/999999", {"status": "cancelled"}).status_code == 404


def test_listing_appointments_materializes_the_range_on_demand(api: Api) -> None:
    client_id = new_client(api)
    api.post(
        "/series",
        {"client_id": client_id, "starts_at": local_day(1).isoformat(), "rrule": "FREQ=WEEKLY"},
    )
    start = datetime.now(UTC)
    far = api.get(
        "/appointments",
        client_id=client_id,
        **{"from": start.isoformat(), "to": (start + timedelta(days=70)).isoformat()},
    ).get_json()["items"]
    assert len(far) == 10


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2027-01-01T00:00:00+00:00", "to": "2028-06-01T00:00:00+00:00"},
        {"from": "2027-01-02T00:00:00+00:00", "to": "2027-01-01T00:00:00+00:00"},
        {"from": "yesterday"},
        {"client_id": "abc"},
    ],
)
def test_a_bad_appointment_range_is_refused(api: Api, params: dict) -> None:  # type: ignore[type-arg]
    assert api.get("/appointments", **params).status_code == 422


def test_messages_can_be_filtered_and_bad_filters_are_refused(api: Api) -> None:
    client_id = new_client(api)
    api.post("/appointments", {"client_id": client_id, "starts_at": local_day(3).isoformat()})
    assert {m["kind"] for m in messages(api, kind="reminder")} == {"reminder"}
    assert api.get("/messages", kind="fax").status_code == 422
    assert api.get("/messages", status="lost").status_code == 422
    assert api.get("/messages", limit=0).status_code == 422


def test_messages_of_other_therapists_are_not_listed(api: Api, other_api: Api) -> None:
    client_id = new_client(other_api)
    other_api.post("/appointments", {"client_id": client_id, "starts_at": local_day(3).isoformat()})
    assert messages(other_api)
    assert messages(api) == []


def test_an_appointment_range_must_carry_offsets(api: Api) -> None:
    response = api.get("/appointments", **{"from": "2027-01-01T00:00", "to": "2027-01-02T00:00"})
    assert response.status_code == 422


def test_editing_a_series_keeps_valid_occurrences_beyond_the_horizon(api: Api) -> None:
    client_id = new_client(api)
    series = api.post(
        "/series",
        {"client_id": client_id, "starts_at": local_day(1, 9).isoformat(), "rrule": "FREQ=WEEKLY"},
    ).get_json()
    start = datetime.now(UTC)
    window = {"from": start.isoformat(), "to": (start + timedelta(days=60)).isoformat()}
    before = api.get("/appointments", client_id=client_id, **window).get_json()["items"]
    assert len(before) >= 8
    api.patch(f"/series/{series['id']}", {"duration_minutes": 45})
    after = api.get("/appointments", client_id=client_id, **window).get_json()["items"]
    assert [a["id"] for a in after] == [a["id"] for a in before]
    assert all(
        datetime.fromisoformat(a["ends_at"]) - datetime.fromisoformat(a["starts_at"])
        == timedelta(minutes=45)
        for a in after
    )


def test_a_status_the_table_does_not_allow_is_refused_and_changes_nothing(api: Api) -> None:
    client_id = new_client(api)
    future = api.post(
        "/appointments", {"client_id": client_id, "starts_at": local_day(3).isoformat()}
    ).get_json()
    before = messages(api, appointment_id=future["id"])
    for status in ("completed", "no_show"):  # not started yet
        response = api.patch(f"/appointments/{future['id']}", {"status": status})
        assert response.status_code == 422
        assert "has not started" in error_of(response)["fields"]["status"]
    assert api.get(f"/appointments/{future['id']}").get_json()["status"] == "scheduled"
    assert messages(api, appointment_id=future["id"]) == before
    booked_done = api.post(
        "/appointments",
        {"client_id": client_id, "starts_at": local_day(4).isoformat(), "status": "completed"},
    )
    assert booked_done.status_code == 422
    past = datetime.now(UTC) - timedelta(hours=3)
    done = api.post(
        "/appointments",
        {"client_id": client_id, "starts_at": past.isoformat(), "status": "completed"},
    ).get_json()
    refused = api.patch(f"/appointments/{done['id']}", {"status": "confirmed"})
    assert refused.status_code == 422
    again = api.patch(f"/appointments/{done['id']}", {"status": "completed"})  # a repeat: fine
    assert again.status_code == 200


def test_a_clients_own_check_in_days_replan_its_check_ins(api: Api) -> None:
    client_id = new_client(api)
    start = datetime.now(UTC) + timedelta(days=1)
    appointment = api.post(
        "/appointments", {"client_id": client_id, "starts_at": start.isoformat()}
    ).get_json()

    def checkin_days_after_end() -> list[float]:
        end = datetime.fromisoformat(appointment["ends_at"])
        planned = messages(api, appointment_id=appointment["id"], kind="checkin", status="planned")
        return sorted(
            round((datetime.fromisoformat(m["send_at"]) - end) / timedelta(days=1)) for m in planned
        )

    assert checkin_days_after_end() == [1, 3]  # the practice's 24h,72h
    changed = api.patch(f"/clients/{client_id}", {"checkin_days": [5, 1, 3]})
    assert changed.status_code == 200
    assert changed.get_json()["checkin_days"] == [1, 3, 5]
    assert checkin_days_after_end() == [1, 3, 5]
    reset = api.patch(f"/clients/{client_id}", {"checkin_days": None})
    assert reset.get_json()["checkin_days"] is None
    assert checkin_days_after_end() == [1, 3]
    auto = api.patch(f"/clients/{client_id}", {"checkin_days": "auto"})
    assert auto.status_code == 200
    assert auto.get_json()["checkin_days"] == "auto"
    assert api.get(f"/clients/{client_id}").get_json()["checkin_days"] == "auto"
    # No next session, no series, no history: a one-off, asked on days 1 and 3 (at the
    # session's end time, or the nearest minute of that day outside quiet hours).
    assert checkin_days_after_end() == [1, 3]
    made = api.post("/clients", {"name": "Al", "checkin_days": "auto"})
    assert made.status_code == 201
    assert made.get_json()["checkin_days"] == "auto"


@pytest.mark.parametrize(
    "days",
    [[0], [31], [1, 1], [1.5], ["1"], [True], [1, 2, 3, 4, 5, 6, 7], [], "1,3", 3, "AUTO", ""],
)
def test_bad_check_in_days_are_refused_naming_the_field(api: Api, days: object) -> None:
    client_id = new_client(api)
    response = api.patch(f"/clients/{client_id}", {"checkin_days": days})
    assert response.status_code == 422
    assert "checkin_days" in error_of(response)["fields"]
    created = api.post("/clients", {"name": "Al", "checkin_days": days})
    assert created.status_code == 422


def test_a_check_in_days_error_says_auto_is_allowed(api: Api) -> None:
    response = api.patch(f"/clients/{new_client(api)}", {"checkin_days": "weekly"})
    assert error_of(response)["fields"] == {
        "checkin_days": 'must be a list of whole days like [1, 3, 5], "auto", or null'
    }


def test_a_series_reads_in_words_in_english_or_in_spanish_when_asked(api: Api) -> None:
    client_id = new_client(api)
    first = local_day(1, 16).replace(minute=30)
    body = {"client_id": client_id, "starts_at": first.isoformat(), "duration_minutes": 45}
    made = api.post("/series", {**body, "rrule": "FREQ=WEEKLY;INTERVAL=2;COUNT=12"})
    assert made.status_code == 201, made.get_json()
    day = f"{first:%a}"
    assert made.get_json()["summary"] == f"Every other {day} at 4:30 PM, 45 min, 12 sessions"
    spanish = api.http.get(
        f"/api/v1/series/{made.get_json()['id']}",
        headers={**api._headers(), "Accept-Language": "es-MX,es;q=0.9,en;q=0.5"},
    )
    assert spanish.get_json()["summary"].startswith("Cada dos semanas, ")
    assert spanish.get_json()["summary"].endswith(" a las 16:30, 45 min, 12 sesiones")


def test_a_series_summary_reads_the_rules_until_in_the_clients_zone_and_never_the_raw_rule(
    api: Api,
) -> None:
    client_id = new_client(api)
    first, last = local_day(1), local_day(15)
    until = last.replace(tzinfo=NY).astimezone(UTC)  # the last session's own instant
    body = {"client_id": client_id, "starts_at": first.isoformat(), "duration_minutes": 60}
    rule = f"UNTIL={until:%Y%m%dT%H%M%SZ};FREQ=WEEKLY"
    made = api.post("/series", {**body, "rrule": rule})
    assert made.status_code == 201, made.get_json()
    words = made.get_json()["summary"]
    assert words.startswith(f"Every {first:%a} at 10:00 AM, 60 min, until {last:%b} {last.day}")
    path = f"/series/{made.get_json()['id']}"
    monthly = api.patch(path, {"rrule": "FREQ=MONTHLY;BYDAY=-1FR"})
    assert monthly.get_json()["summary"] == "Monthly on the last Fri at 10:00 AM, 60 min"
    yearly = api.patch(path, {"rrule": "FREQ=YEARLY"})
    assert yearly.get_json()["summary"] == "Custom schedule at 10:00 AM, 60 min"
