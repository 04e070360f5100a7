"""A client's calendar name through the API: shown, set, reset to the default, refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEntry, Client
from tests.api.conftest import Api, error_of


def _client(api: Api, **body: object) -> dict:  # type: ignore[type-arg]
    response = api.post("/clients", {"name": "Maria Garcia"} | body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_a_new_client_has_the_default_calendar_name(api: Api) -> None:
    client = _client(api)
    assert (client["calendar_name"], client["calendar_name_in_use"]) == (None, "Maria G.")
    listed = api.get("/clients").get_json()["items"][0]
    assert (listed["calendar_name"], listed["calendar_name_in_use"]) == (None, "Maria G.")


def test_a_client_is_created_with_a_calendar_name_in_one_audited_write(
    api: Api, session: Session
) -> None:
    client = _client(api, calendar_name="  Gigi  ")
    assert (client["calendar_name"], client["calendar_name_in_use"]) == ("Gigi", "Gigi")
    assert session.get(Client, client["id"]).calendar_name == "Gigi"  # type: ignore[union-attr]
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == str(client["id"])).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.detail.get("fields")) for e in entries] == [
        ("create", None),
    ]  # made with it: one entry, not a create and then an update


@pytest.mark.parametrize("reset", [None, "", "   ", "\ufeff"])
def test_a_calendar_name_is_set_then_reset_to_the_default(
    api: Api, session: Session, reset: str | None
) -> None:
    path = f"/clients/{_client(api)['id']}"
    changed = api.patch(path, {"calendar_name": "Maria Garcia-Lopez"})
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["calendar_name"], body["calendar_name_in_use"]) == ("Maria Garcia-Lopez",) * 2
    back = api.patch(path, {"calendar_name": reset}).get_json()
    assert (back["calendar_name"], back["calendar_name_in_use"]) == (None, "Maria G.")
    updates = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update").order_by(AuditEntry.id)
    ).all()
    assert [(e.user_id, e.detail["fields"], e.detail["via"]) for e in updates] == [
        (api.user_id, ["calendar_name"], "api")
    ] * 2


def test_the_default_follows_a_renamed_client_a_saved_name_does_not(api: Api) -> None:
    plain, named = _client(api), _client(api, calendar_name="Gigi")
    for client in (plain, named):
        api.patch(f"/clients/{client['id']}", {"name": "Ana Ruiz"})
    assert api.get(f"/clients/{plain['id']}").get_json()["calendar_name_in_use"] == "Ana R."
    assert api.get(f"/clients/{named['id']}").get_json()["calendar_name_in_use"] == "Gigi"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("x" * 101, "must be at most 100 characters"),
        (" " + "x" * 100, "must be at most 100 characters"),  # as sent, like every field
        ("-- . --", "must hold at least one letter or digit"),
        ("🌸🌸", "must hold at least one letter or digit"),
        ("Gigi\x00", "must not contain control characters"),
        (42, "must be a string"),
    ],
)
def test_a_calendar_name_is_refused_naming_why_and_nothing_changes(
    api: Api, session: Session, value: object, reason: str
) -> None:
    client = _client(api, calendar_name="Gigi")
    response = api.patch(f"/clients/{client['id']}", {"calendar_name": value, "name": "Ana"})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"calendar_name": reason}
    stored = session.get(Client, client["id"])
    assert stored is not None and (stored.name, stored.calendar_name) == ("Maria Garcia", "Gigi")
    created = api.post("/clients", {"name": "Ana", "calendar_name": value})
    assert created.status_code == 422
    assert error_of(created)["fields"] == {"calendar_name": reason}


def test_a_calendar_name_of_100_characters_and_digits_only_is_taken(api: Api) -> None:
    client = _client(api, calendar_name="x" * 100)
    assert client["calendar_name"] == "x" * 100
    path = f"/clients/{client['id']}"
    assert api.patch(path, {"calendar_name": "1042"}).get_json()["calendar_name"] == "1042"
