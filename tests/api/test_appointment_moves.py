"""Booking and moving through the API: a past time refused, an overlap a 409 until
confirmed, a move that resets the confirmation, and ``notify`` that tells the client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import Api, error_of
from tests.api.test_appointments import local_day, messages, new_client


def book(api: Api, client_id: int, days: int, hour: int = 10, **body: Any) -> Any:
    start = local_day(days, hour).isoformat()
    return api.post("/appointments", {"client_id": client_id, "starts_at": start, **body})


def test_a_session_to_come_cannot_be_booked_in_the_past(api: Api) -> None:
    client_id = new_client(api)
    response = book(api, client_id, -1)
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "starts_at": "that time is in the past: pick a time still to come, "
        "or record it as already done"
    }
    assert book(api, client_id, -1, status="completed").status_code == 201


def test_a_session_cannot_be_moved_into_the_past(api: Api) -> None:
    appointment = book(api, new_client(api), 2).get_json()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = api.patch(f"/appointments/{appointment['id']}", {"starts_at": past})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "starts_at": "that time is in the past: move it to a time still to come"
    }
    kept = api.get(f"/appointments/{appointment['id']}").get_json()
    assert kept["starts_at"] == appointment["starts_at"]


def test_an_overlap_with_the_same_client_is_a_409_until_confirmed(api: Api) -> None:
    client_id = new_client(api)
    first = book(api, client_id, 2).get_json()
    response = book(api, client_id, 2, 10, duration_minutes=30)
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"]["code"] == "overlap"
    assert [a["id"] for a in body["overlaps"]] == [first["id"]]
    confirmed = book(api, client_id, 2, 10, duration_minutes=30, confirm_overlap=True)
    assert confirmed.status_code == 201


def test_an_overlap_with_the_same_therapist_warns_but_not_another_therapists(
    api: Api, other_api: Api
) -> None:
    first = book(api, new_client(api), 2).get_json()
    response = book(api, new_client(api, phone="6175550124"), 2, 10)
    assert response.status_code == 409
    assert [a["id"] for a in response.get_json()["overlaps"]] == [first["id"]]
    assert book(other_api, new_client(other_api, phone="6175550125"), 2).status_code == 201


def test_back_to_back_and_cancelled_sessions_do_not_overlap(api: Api) -> None:
    client_id = new_client(api)
    first = book(api, client_id, 2).get_json()
    assert book(api, client_id, 2, 11).status_code == 201  # starts as the first one ends
    api.patch(f"/appointments/{first['id']}", {"status": "cancelled"})
    assert book(api, client_id, 2, 10, duration_minutes=30).status_code == 201


def test_a_move_onto_another_session_is_a_409_until_confirmed(api: Api) -> None:
    client_id = new_client(api)
    book(api, client_id, 2)
    second = book(api, client_id, 3).get_json()
    path = f"/appointments/{second['id']}"
    onto = local_day(2, 10).isoformat()
    assert api.patch(path, {"starts_at": onto}).status_code == 409
    assert api.get(path).get_json()["starts_at"] == second["starts_at"]
    response = api.patch(path, {"starts_at": onto, "confirm_overlap": True})
    assert response.status_code == 200, response.get_json()


def test_a_move_resets_the_confirmation_and_replans_the_reminders(api: Api) -> None:
    appointment = book(api, new_client(api), 3).get_json()
    path = f"/appointments/{appointment['id']}"
    api.patch(path, {"status": "confirmed"})
    moved = api.patch(path, {"starts_at": local_day(3, 15).isoformat()}).get_json()
    assert moved["status"] == "scheduled"
    reminders = messages(api, appointment_id=appointment["id"], kind="reminder")
    planned = [m for m in reminders if m["status"] == "planned"]
    assert planned and all("3:00 PM" in m["body"] for m in planned)
    assert {m["status"] for m in reminders if "10:00 AM" in m["body"]} == {"cancelled"}
    checkins = messages(api, appointment_id=appointment["id"], kind="checkin")
    assert any(m["status"] == "planned" for m in checkins)
    # Only the length changes: the client's confirmation of this time stands.
    api.patch(path, {"status": "confirmed"})
    assert api.patch(path, {"duration_minutes": 45}).get_json()["status"] == "confirmed"


def test_notify_true_queues_the_move_notice_and_false_does_not(api: Api) -> None:
    appointment = book(api, new_client(api), 3).get_json()
    path = f"/appointments/{appointment['id']}"
    api.patch(path, {"starts_at": local_day(3, 14).isoformat()})
    assert messages(api, kind="move_notice") == []
    api.patch(path, {"starts_at": local_day(3, 15).isoformat(), "notify": True})
    [notice] = messages(api, kind="move_notice")
    assert notice["to"] == "+16175550123"
    assert "is now" in notice["body"] and "3:00 PM (was" in notice["body"]
    assert notice["body"].endswith("2:00 PM). Reply C to confirm.")


def test_notify_true_on_a_cancellation_queues_the_cancellation_notice(api: Api) -> None:
    appointment = book(api, new_client(api), 3).get_json()
    path = f"/appointments/{appointment['id']}"
    api.patch(path, {"status": "cancelled", "notify": True})
    [notice] = messages(api, kind="cancel_notice")
    assert "10:00 AM is cancelled" in notice["body"]
    # Cancelling it again changes nothing, and tells nobody twice.
    api.patch(path, {"status": "cancelled", "notify": True})
    assert len(messages(api, kind="cancel_notice")) == 1


def test_the_same_move_sent_twice_tells_the_client_once(api: Api) -> None:
    appointment = book(api, new_client(api), 3).get_json()
    path = f"/appointments/{appointment['id']}"
    move = {"starts_at": local_day(3, 15).isoformat(), "notify": True}
    assert api.patch(path, move).status_code == 200
    assert api.patch(path, move).status_code == 200  # a retry: nothing moves, nobody told
    assert len(messages(api, kind="move_notice")) == 1
