"""The clients and contacts API: success, scoping and every error path."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEntry, Client
from tests.api.conftest import Api, error_of


def create(api: Api, **body: object) -> dict:  # type: ignore[type-arg]
    """A new client; many share the default phone, as confirmed (the tests of sharing say)."""
    default = {"name": "Sam Lee", "phone": "(617) 555-0123", "confirm_shared": True}
    response = api.post("/clients", default | body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_it_creates_a_client_with_its_own_phone(api: Api) -> None:
    client = create(api, timezone="America/Chicago", language="es")
    assert client["name"] == "Sam Lee"
    assert client["phone"] == "+16175550123"
    assert client["timezone"] == "America/Chicago"
    assert client["language"] == "es"
    assert client["therapist_id"] == api.user_id
    assert client["opted_out"] is False
    [own] = client["contacts"]
    assert (own["relation"], own["reminders"], own["checkins"]) == ("self", True, True)


def test_it_defaults_to_the_practice_time_zone_and_english(api: Api) -> None:
    client = create(api)
    assert (client["timezone"], client["language"]) == ("America/New_York", "en")


def test_a_client_without_a_phone_has_no_contacts(api: Api) -> None:
    response = api.post("/clients", {"name": "No Phone"})
    assert response.status_code == 201
    assert response.get_json()["phone"] is None
    assert response.get_json()["contacts"] == []


def test_it_refuses_bad_fields_naming_each_and_stores_nothing(api: Api, session: Session) -> None:
    response = api.post(
        "/clients",
        {"name": "", "phone": "555", "timezone": "Mars/Base", "language": "fr", "age": 3},
    )
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"name", "phone", "timezone", "language", "age"}
    assert "too short" in fields["phone"]
    assert session.scalars(select(Client)).all() == []


def test_it_refuses_a_body_that_is_not_a_json_object(api: Api) -> None:
    for body in ([], "x", 3, None):
        response = api.post("/clients", body)
        assert response.status_code == 400
        assert error_of(response)["code"] == "bad_request"


def test_it_refuses_requests_without_a_valid_token(client: FlaskClient, api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer tb_nope"}, {"Authorization": "Basic x"}):
        response = client.get("/api/v1/clients", headers=headers)
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthorized"


def test_a_therapist_sees_only_their_own_clients(api: Api, other_api: Api) -> None:
    mine = create(api)
    theirs = create(other_api, name="Other Client")
    assert [c["id"] for c in api.get("/clients").get_json()["items"]] == [mine["id"]]
    response = api.get(f"/clients/{theirs['id']}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert api.patch(f"/clients/{theirs['id']}", {"name": "X"}).status_code == 404
    assert (
        api.post(
            f"/clients/{theirs['id']}/contacts", {"name": "X", "phone": "6175550199"}
        ).status_code
        == 404
    )


def test_an_admin_sees_every_client_and_can_assign_them(
    api: Api, other_api: Api, admin_api: Api
) -> None:
    mine = create(api)
    create(other_api, name="Other Client")
    assert len(admin_api.get("/clients").get_json()["items"]) == 2
    moved = admin_api.patch(f"/clients/{mine['id']}", {"therapist_id": other_api.user_id})
    assert moved.status_code == 200
    assert moved.get_json()["therapist_id"] == other_api.user_id
    assert api.get(f"/clients/{mine['id']}").status_code == 404


def test_a_therapist_cannot_give_a_client_to_someone_else(api: Api, other_api: Api) -> None:
    response = api.post("/clients", {"name": "Sam", "therapist_id": other_api.user_id})
    assert response.status_code == 422
    assert "therapist_id" in error_of(response)["fields"]


def test_viewing_a_client_is_audited(api: Api, session: Session) -> None:
    client = create(api)
    assert api.get(f"/clients/{client['id']}").status_code == 200
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).all()
    assert [(e.user_id, e.entity, e.entity_id) for e in entries] == [
        (api.user_id, "client", str(client["id"]))
    ]


def test_it_updates_a_client(api: Api) -> None:
    client = create(api)
    response = api.patch(
        f"/clients/{client['id']}", {"name": "Samuel Lee", "language": "es", "phone": "6175550188"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["language"], body["phone"]) == ("Samuel Lee", "es", "+16175550188")
    assert len(body["contacts"]) == 1


def test_it_refuses_a_bad_update_and_changes_nothing(api: Api) -> None:
    client = create(api)
    response = api.patch(f"/clients/{client['id']}", {"name": "New", "timezone": "Nowhere/Land"})
    assert response.status_code == 422
    assert api.get(f"/clients/{client['id']}").get_json()["name"] == "Sam Lee"


def test_it_adds_changes_and_removes_a_caregiver(api: Api) -> None:
    client = create(api)
    response = api.post(
        f"/clients/{client['id']}/contacts",
        {"name": "Maria Lee", "phone": "617-555-0177", "relation": "mother"},
    )
    assert response.status_code == 201
    contact = response.get_json()
    assert (contact["phone"], contact["reminders"], contact["checkins"]) == (
        "+16175550177",
        True,
        False,
    )
    changed = api.patch(f"/contacts/{contact['id']}", {"checkins": True})
    assert changed.status_code == 200 and changed.get_json()["checkins"] is True
    assert api.delete(f"/contacts/{contact['id']}").status_code == 204
    assert len(api.get(f"/clients/{client['id']}").get_json()["contacts"]) == 1
    assert api.delete(f"/contacts/{contact['id']}").status_code == 404


def test_a_contact_phone_is_validated(api: Api) -> None:
    client = create(api)
    response = api.post(f"/clients/{client['id']}/contacts", {"name": "X", "phone": "hello"})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"phone": "invalid phone number: not a phone number"}


def test_the_same_phone_twice_on_one_client_is_a_conflict(api: Api) -> None:
    client = create(api)
    response = api.post(f"/clients/{client['id']}/contacts", {"name": "Dup", "phone": "6175550123"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert len(api.get(f"/clients/{client['id']}").get_json()["contacts"]) == 1


def test_two_clients_may_share_a_caregiver_phone_once_confirmed(api: Api) -> None:
    first, second = create(api, name="Kid One", phone=None), create(api, name="Kid Two", phone=None)
    mom = {"name": "Mom", "phone": "6175550177"}
    assert api.post(f"/clients/{first['id']}/contacts", mom).status_code == 201
    refused = api.post(f"/clients/{second['id']}/contacts", mom)
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "shared_phone" and "confirm_shared" in error["fields"]
    assert error["message"].startswith(
        "This number is shared: it already gets texts about Kid One."
    )
    assert api.get(f"/clients/{second['id']}").get_json()["contacts"] == []
    added = api.post(f"/clients/{second['id']}/contacts", {**mom, "confirm_shared": True})
    assert added.status_code == 201


def test_a_shared_phone_never_names_another_therapists_client(api: Api, other_api: Api) -> None:
    create(other_api, name="Their Client", phone="6175550177")
    mine = create(api, name="My Client", phone=None)
    refused = api.post(f"/clients/{mine['id']}/contacts", {"name": "Mom", "phone": "6175550177"})
    assert refused.status_code == 409
    message = error_of(refused)["message"]
    assert "another client of the practice" in message and "Their Client" not in message
    bad = api.post(
        f"/clients/{mine['id']}/contacts",
        {"name": "Mom", "phone": "6175550177", "confirm_shared": "yes"},
    )
    assert bad.status_code == 422 and "confirm_shared" in error_of(bad)["fields"]


def test_changing_a_contact_to_a_shared_number_is_confirmed_the_same_way(api: Api) -> None:
    create(api, name="Kid One", phone="6175550177")
    second = create(api, name="Kid Two", phone="6175550188")
    own = second["contacts"][0]["id"]
    refused = api.patch(f"/contacts/{own}", {"phone": "6175550177"})
    assert refused.status_code == 409 and error_of(refused)["code"] == "shared_phone"
    changed = api.patch(f"/contacts/{own}", {"phone": "6175550177", "confirm_shared": True})
    assert changed.status_code == 200 and changed.get_json()["phone"] == "+16175550177"


def test_unknown_paths_and_methods_answer_json(api: Api) -> None:
    missing = api.get("/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = api.delete("/clients")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"


def test_ids_beyond_the_database_range_are_not_found_or_invalid(api: Api) -> None:
    assert api.get("/clients/99999999999").status_code == 404
    response = api.get("/messages", client_id="99999999999")
    assert response.status_code == 422 and "client_id" in error_of(response)["fields"]


def test_odd_input_is_refused_not_crashed(api: Api) -> None:
    assert api.get("/messages", client_id="²").status_code == 422
    response = api.post("/clients", {"name": "Sam", "timezone": "America"})
    assert response.status_code == 422 and "timezone" in error_of(response)["fields"]
    response = api.post("/clients", {"name": "Sam\x00Lee"})
    assert response.status_code == 422 and "name" in error_of(response)["fields"]


def test_listings_are_audited_with_the_clients_shown(api: Api, session: Session) -> None:
    client = create(api)
    api.get("/clients")
    api.get("/messages")
    api.get("/replies")
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == "*")).all()
    assert [(e.action, e.detail["clients"]) for e in entries] == [
        ("list", [client["id"]]),
        ("list_messages", []),
        ("list_replies", []),
    ]


def test_a_new_client_on_a_shared_phone_is_confirmed_the_same_way(api: Api) -> None:
    create(api, name="Kid One", phone="6175550177")
    body = {"name": "Kid Two", "phone": "6175550177"}
    refused = api.post("/clients", body)
    assert refused.status_code == 409 and error_of(refused)["code"] == "shared_phone"
    assert error_of(refused)["message"].startswith("This number is shared")
    assert [c["name"] for c in api.get("/clients").get_json()["items"]] == ["Kid One"]
    added = api.post("/clients", {**body, "confirm_shared": True})
    assert added.status_code == 201


def test_changing_a_clients_phone_to_a_shared_one_is_confirmed_the_same_way(api: Api) -> None:
    create(api, name="Kid One", phone="6175550177")
    second = create(api, name="Kid Two", phone="6175550188")
    refused = api.patch(f"/clients/{second['id']}", {"phone": "6175550177"})
    assert refused.status_code == 409 and error_of(refused)["code"] == "shared_phone"
    assert api.get(f"/clients/{second['id']}").get_json()["contacts"][0]["phone"] == "+16175550188"
    changed = api.patch(f"/clients/{second['id']}", {"phone": "6175550177", "confirm_shared": True})
    assert changed.status_code == 200
