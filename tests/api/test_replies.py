"""The replies API and the simulator's inbound door."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from tests import factories
from tests.api.conftest import Api, error_of, make_api


def simulate(api: Api, sender: str, body: str) -> dict:  # type: ignore[type-arg]
    response = api.post("/simulator/inbound", {"from": sender, "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_the_simulator_reaches_the_same_handling(api: Api, session: Session) -> None:
    client, contact = factories.client_with_phone(session, therapist_id=api.user_id)
    factories.sent(
        session, client, contact, kind="checkin", sent_at=datetime.now(UTC) - timedelta(hours=1)
    )
    session.commit()
    answer = simulate(api, "617-555-0123", "pain 6")
    assert answer["reply"] == "Thanks, we've noted it."
    [reply] = api.get("/replies").get_json()["items"]
    assert (reply["client_id"], reply["intent"], reply["pain"], reply["from"]) == (
        client.id,
        "pain",
        6,
        "617-555-0123",
    )
    assert reply["provider_sid"] == answer["message_sid"]


def test_replies_can_be_filtered(api: Api, session: Session) -> None:
    factories.client_with_phone(session, therapist_id=api.user_id)
    session.commit()
    simulate(api, "+16175550123", "R")
    simulate(api, "+16175550123", "hello there")
    assert [r["intent"] for r in api.get("/replies", intent="reschedule").get_json()["items"]] == [
        "reschedule"
    ]
    assert (
        len(
            api.get(
                "/replies", since=(datetime.now(UTC) - timedelta(minutes=5)).isoformat()
            ).get_json()["items"]
        )
        == 2
    )
    assert (
        api.get(
            "/replies", since=(datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        ).get_json()["items"]
        == []
    )
    assert api.get("/replies", intent="maybe").status_code == 422
    assert api.get("/replies", since="2027-01-01T00:00").status_code == 422


def test_replies_are_scoped_and_unknown_senders_are_for_admins(
    app: Flask, api: Api, other_api: Api, session: Session
) -> None:
    factories.client_with_phone(session, therapist_id=other_api.user_id)
    session.commit()
    simulate(api, "+16175550123", "7")
    simulate(api, "+16175559999", "who is this")
    assert api.get("/replies").get_json()["items"] == []
    assert len(other_api.get("/replies").get_json()["items"]) == 1
    admin = make_api(app, "admin@practice.test", admin=True)
    assert {r["client_id"] for r in admin.get("/replies").get_json()["items"]} == {None, 1}


def test_the_simulator_refuses_bad_input(api: Api) -> None:
    response = api.post("/simulator/inbound", {"body": 7})
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"from", "body"}


def test_the_simulator_is_closed_when_twilio_is_real(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(
        TWILIO_ACCOUNT_SID="AC" + "2" * 32, TWILIO_AUTH_TOKEN="t", TWILIO_FROM_NUMBER="+16175550100"
    )
    api = make_api(app, "ana@practice.test")
    assert api.post("/simulator/inbound", {"from": "+16175550123", "body": "hi"}).status_code == 404


def test_the_simulator_is_closed_in_production_even_without_twilio(make_app) -> None:  # type: ignore[no-untyped-def]
    api = make_api(make_app(TOUCHBASE_ENV="production"), "ana@practice.test")
    assert api.post("/simulator/inbound", {"from": "+16175550123", "body": "hi"}).status_code == 404


def test_client_json_shows_an_opted_out_number(api: Api) -> None:
    client = api.post("/clients", {"name": "Sam Lee", "phone": "6175550123"}).get_json()
    simulate(api, "+16175550123", "STOP")
    assert api.get(f"/clients/{client['id']}").get_json()["opted_out"] is True
