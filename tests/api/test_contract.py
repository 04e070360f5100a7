"""The API and its OpenAPI document agree on each input rule, field by field.

Every table below is read against both sides: the server's answer and what the document
(``service/api/openapi.json``) says about the same value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema_rs import Draft4Validator
from werkzeug.test import TestResponse

from service.api import OPENAPI
from tests.api.conftest import Api, error_of

DOCUMENT: dict[str, Any] = json.loads(OPENAPI.read_text())
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
YEARS_RULE = "must be an ISO 8601 date-time like 2027-03-04T09:00, in the years 1900 to 2200"


def _request_bodies() -> dict[str, tuple[str, str]]:
    """Each request body schema of the document, with the method and path it is sent to."""
    found = {}
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method == "parameters" or "requestBody" not in operation:
                continue
            if "application/json" not in operation["requestBody"]["content"]:
                continue  # a file (text/csv): its own tests read it
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            found[ref.rsplit("/", 1)[1]] = (method, path)
    return found


def _query_parameters() -> list[tuple[str, str]]:
    """Every query parameter of the document, with its path."""
    return [
        (path, parameter["name"])
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in ("get", "delete")  # a POST's (the import's dry_run) is its own tests'
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]


OPERATIONS = _request_bodies()
FIELDS = [(schema, field) for schema in OPERATIONS for field in SCHEMAS[schema]["properties"]]
STRINGS = [(s, f) for s, f in FIELDS if SCHEMAS[s]["properties"][f].get("type") == "string"]
LIMITED = [(s, f) for s, f in STRINGS if "maxLength" in SCHEMAS[s]["properties"][f]]
QUERY = _query_parameters()

# Where null means something: no own phone, nobody, no end, the practice's check-in days,
# the default calendar name, no practice phone.
NULLABLE = {
    ("ClientIn", "phone"),
    ("ClientIn", "therapist_id"),
    ("ClientPatch", "therapist_id"),
    ("ClientIn", "checkin_days"),
    ("ClientPatch", "checkin_days"),
    ("ClientIn", "calendar_name"),
    ("ClientPatch", "calendar_name"),
    ("SeriesIn", "ends_at"),
    ("SeriesPatch", "ends_at"),
    ("SettingsPatch", "practice_phone"),
}
# Notes may be cleared, a calendar name reset to the default; a simulated text is stored as
# a phone sent it, even empty.
MAY_BE_EMPTY = {
    ("ClientIn", "notes"),
    ("ClientPatch", "notes"),
    ("ClientIn", "calendar_name"),
    ("ClientPatch", "calendar_name"),
    ("SimulatedText", "body"),
}
DATETIMES = {
    ("SeriesIn", "starts_at"),
    ("SeriesIn", "ends_at"),
    ("SeriesPatch", "starts_at"),
    ("SeriesPatch", "ends_at"),
    ("AppointmentIn", "starts_at"),
    ("AppointmentPatch", "starts_at"),
    ("PainReportIn", "reported_at"),
}


def documented(schema: str, field: str, value: Any) -> bool:
    """True when the document says ``value`` is a valid ``field`` of ``schema``."""
    spec = dict(SCHEMAS[schema]["properties"][field])
    if value is None:
        return bool(spec.get("nullable"))
    spec.pop("nullable", None)  # OpenAPI's own keyword, not JSON Schema's
    # The validator schemathesis uses: ECMAScript regular expressions, as OpenAPI's are.
    return Draft4Validator(spec).is_valid(value)


def created(response: TestResponse) -> int:
    """The id of a record the response says was created."""
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


TEMPLATE = {"kind": "reminder", "language": "en"}


class World(dict[str, int]):
    """The records that paths and bodies name, each made the first time it is named."""

    def __init__(self, api: Api) -> None:
        super().__init__()
        self.api = api

    def __missing__(self, name: str) -> int:
        """Make the record ``name`` names (its client first) and keep its id."""
        if name == "client_id":
            made = self.api.post("/clients", {"name": "Sam Lee", "phone": "6175550142"})
        elif name == "contact_id":
            contact = {"name": "Kim Lee", "phone": "6175550199"}
            made = self.api.post(f"/clients/{self['client_id']}/contacts", contact)
        elif name == "series_id":
            series = {"client_id": self["client_id"], "starts_at": "2031-07-01T09:00"}
            made = self.api.post("/series", {**series, "rrule": "FREQ=WEEKLY"})
        elif name in TEMPLATE:  # a template's path names a kind and a language, not a record
            return TEMPLATE[name]  # type: ignore[return-value]
        elif name == "appointment_id":
            appointment = {"client_id": self["client_id"], "starts_at": "2031-06-01T09:00"}
            made = self.api.post("/appointments", appointment)
        else:
            raise KeyError(name)
        self[name] = created(made)
        return self[name]


@pytest.fixture
def world(admin_api: Api) -> World:
    """The admin's records, made as tests name them."""
    return World(admin_api)


def base_body(schema: str, world: World) -> dict[str, Any]:
    """A valid body of ``schema`` with only its required fields."""
    bases: dict[str, dict[str, Any]] = {
        "ClientIn": {"name": "Ana Ruiz"},
        "ContactIn": {"name": "Jo Ruiz", "phone": "6175550188"},
        "SeriesIn": {
            "client_id": world["client_id"],
            "starts_at": "2031-08-01T09:00",
            "rrule": "FREQ=WEEKLY;COUNT=4",
        },
        "AppointmentIn": {"client_id": world["client_id"], "starts_at": "2031-08-01T09:00"},
        "PainReportIn": {"reported_at": "2026-01-05T18:00", "pain": 4},
        "SimulatedText": {"from": "+16175550123", "body": "7"},
        "TemplateIn": {"body": "Hi {first_name}, see you on {when}. {reply_hint}"},
        "CalendarFeedIn": {"url": "https://calendar.example.com/practice.ics"},
    }
    return bases.get(schema, {})


def send(api: Api, world: World, schema: str, changes: dict[str, Any]) -> TestResponse:
    """Send the base body of ``schema`` with ``changes`` where the document says it goes."""
    method, path = OPERATIONS[schema]
    body = {**base_body(schema, world), **changes}
    response: TestResponse = getattr(api, method)(path.format_map(world), body)
    return response


def test_every_request_body_of_the_document_is_covered() -> None:
    assert set(OPERATIONS) == {
        "ClientIn",
        "ClientPatch",
        "ContactIn",
        "ContactPatch",
        "SeriesIn",
        "SeriesPatch",
        "AppointmentIn",
        "AppointmentPatch",
        "PainReportIn",
        "SimulatedText",
        "SettingsPatch",
        "TemplateIn",
        "CalendarFeedIn",
    }


@pytest.mark.parametrize("schema", sorted(OPERATIONS))
def test_the_base_bodies_are_accepted(admin_api: Api, world: World, schema: str) -> None:
    response = send(admin_api, world, schema, {})
    assert response.status_code in (200, 201), response.get_json()


def test_the_document_marks_nullable_exactly_where_null_means_something() -> None:
    marked = {(s, f) for s, f in FIELDS if SCHEMAS[s]["properties"][f].get("nullable")}
    assert marked == NULLABLE


@pytest.mark.parametrize(("schema", "field"), FIELDS)
def test_null_is_refused_unless_it_means_something(
    admin_api: Api, world: World, schema: str, field: str
) -> None:
    response = send(admin_api, world, schema, {field: None})
    if (schema, field) in NULLABLE:
        assert response.status_code in (200, 201), response.get_json()
        assert response.get_json()[field] is None
    else:
        assert response.status_code == 422
        assert error_of(response)["fields"] == {field: "must not be null"}
    assert documented(schema, field, None) is ((schema, field) in NULLABLE)


def test_only_an_admin_may_give_a_client_to_nobody(api: Api) -> None:
    response = api.post("/clients", {"name": "Ana Ruiz", "therapist_id": None})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "therapist_id": "only an admin can assign another therapist"
    }


@pytest.mark.parametrize("value", ["", " \t\n ", "\u00a0\ufeff\u3000\u0085"])
@pytest.mark.parametrize(("schema", "field"), STRINGS)
def test_an_empty_or_blank_string_is_refused_except_notes(
    admin_api: Api, world: World, schema: str, field: str, value: str
) -> None:
    response = send(admin_api, world, schema, {field: value})
    may_be_empty = (schema, field) in MAY_BE_EMPTY
    if may_be_empty:
        assert response.status_code in (200, 201), response.get_json()
    else:
        assert response.status_code == 422
        [(name, message)] = error_of(response)["fields"].items()
        assert name == field
        if "enum" in SCHEMAS[schema]["properties"][field]:
            assert message.startswith("must be one of ")
        else:
            assert message == "must be a non-empty string"
    assert documented(schema, field, value) is may_be_empty


def test_cleared_notes_are_empty(admin_api: Api, world: World) -> None:
    client = f"/clients/{world['client_id']}"
    assert admin_api.patch(client, {"notes": "knee"}).get_json()["notes"] == "knee"
    assert admin_api.patch(client, {"notes": ""}).get_json()["notes"] == ""


def test_the_date_time_fields_are_the_ones_with_the_date_time_pattern() -> None:
    with_pattern = {
        (s, f)
        for s, f in STRINGS
        if SCHEMAS[s]["properties"][f].get("pattern", "").startswith("^(19[0-9]{2}|")
    }
    assert with_pattern == DATETIMES
    # Not format: date-time, which is RFC 3339's (seconds required); the server reads more.
    assert {(s, f) for s, f in FIELDS if "format" in SCHEMAS[s]["properties"][f]} == set()


@pytest.mark.parametrize("value", ["1899-12-31T23:59", "2201-01-01T00:00", "0999-01-01T09:00Z"])
@pytest.mark.parametrize(("schema", "field"), sorted(DATETIMES))
def test_a_date_outside_1900_to_2200_is_refused_naming_the_years(
    admin_api: Api, world: World, schema: str, field: str, value: str
) -> None:
    response = send(admin_api, world, schema, {field: value})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {field: YEARS_RULE}
    assert not documented(schema, field, value)


@pytest.mark.parametrize(
    ("value", "server", "document"),
    [
        ("1900-01-01T00:00", True, True),
        ("2200-12-31T23:59", True, True),
        ("2031-07-01T09:00:30", True, True),
        ("2031-07-01T09:00:30.123456Z", True, True),
        ("2031-07-01T09:00-05:00", True, True),
        ("2031-07-01T09:00+14:00", True, True),
        ("2031-07-01", False, False),
        ("2031-07-01T09", False, False),
        ("2031-07-01 09:00", False, False),
        (" 2031-07-01T09:00", False, False),
        ("2031-07-01T09:00 ", False, False),
        ("2031-07-01T24:00", False, False),
        ("2031-07-01T09:60", False, False),
        ("2031-13-01T09:00", False, False),
        ("2031-07-01T09:00:00.1234567", False, False),
        ("2031-07-01T09:00+05:75", False, False),
        ("2031-07-01T09:00+24:00", False, False),
        ("2031-07-01T09:00+0500", False, False),
        ("\u0662\u0660\u0663\u0661-07-01T09:00", False, False),  # Arabic-Indic digits
        # A pattern cannot know month lengths: the one shape the document lets through.
        ("2031-02-30T09:00", False, True),
    ],
)
def test_the_date_time_shape_is_the_documents(
    admin_api: Api, world: World, value: str, server: bool, document: bool
) -> None:
    # A session in the past is booked as done: one still to come cannot be in the past.
    past = {"status": "completed"} if value.startswith("1900") else {}
    response = send(admin_api, world, "AppointmentIn", {"starts_at": value, **past})
    assert response.status_code == (201 if server else 422), response.get_json()
    if not server:
        assert error_of(response)["fields"] == {"starts_at": YEARS_RULE}
    assert documented("AppointmentIn", "starts_at", value) is document


@pytest.mark.parametrize("schema", ["SeriesIn", "SeriesPatch"])
def test_a_series_starts_at_a_local_time_as_the_document_says(
    admin_api: Api, world: World, schema: str
) -> None:
    value = "2031-08-01T09:00-05:00"
    response = send(admin_api, world, schema, {"starts_at": value})
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"starts_at"}
    assert not documented(schema, "starts_at", value)


def test_every_query_parameter_is_covered() -> None:
    assert sorted(QUERY) == [
        ("/appointments", "client_id"),
        ("/appointments", "from"),
        ("/appointments", "to"),
        ("/calendar-feeds/{feed_id}", "cancel_appointments"),
        ("/messages", "appointment_id"),
        ("/messages", "client_id"),
        ("/messages", "kind"),
        ("/messages", "limit"),
        ("/messages", "status"),
        ("/replies", "client_id"),
        ("/replies", "intent"),
        ("/replies", "limit"),
        ("/replies", "since"),
    ]


@pytest.mark.parametrize(("path", "name"), QUERY)
def test_an_empty_query_value_is_refused_naming_the_parameter(
    api: Api, path: str, name: str
) -> None:
    if path == "/calendar-feeds/{feed_id}":  # a DELETE's parameter
        response = api.http.delete(f"/api/v1/calendar-feeds/1?{name}=", headers=api._headers())
    else:
        response = api.get(path, **{name: ""})
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {name}


@pytest.mark.parametrize(
    ("path", "name"), [(p, n) for p, n in QUERY if n in ("from", "to", "since")]
)
@pytest.mark.parametrize("value", ["1899-12-31T23:59Z", "2201-01-01T00:00+00:00"])
def test_a_query_date_outside_1900_to_2200_is_refused_naming_it(
    api: Api, path: str, name: str, value: str
) -> None:
    response = api.get(path, **{name: value})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {name: YEARS_RULE}


@pytest.mark.parametrize("name", ["from", "to"])
def test_a_range_without_an_offset_names_the_bound_that_lacks_it(api: Api, name: str) -> None:
    bounds = {"from": "2031-07-01T00:00Z", "to": "2031-07-08T00:00Z", name: "2031-07-04T00:00"}
    response = api.get("/appointments", **bounds)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {name}


@pytest.mark.parametrize(("length", "status"), [(1600, 201), (1601, 422)])
def test_a_simulated_text_is_at_most_1600_characters(api: Api, length: int, status: int) -> None:
    response = api.post("/simulator/inbound", {"from": "+16175550123", "body": "x" * length})
    assert response.status_code == status
    if status == 422:
        assert error_of(response)["fields"] == {"body": "must be at most 1600 characters"}
    assert SCHEMAS["SimulatedText"]["properties"]["body"]["maxLength"] == 1600


@pytest.mark.parametrize(("schema", "field"), LIMITED)
def test_a_length_over_the_maximum_counts_every_character_sent(
    admin_api: Api, world: World, schema: str, field: str
) -> None:
    limit = SCHEMAS[schema]["properties"][field]["maxLength"]
    value = " " + "x" * limit  # within the limit once trimmed, not as sent
    response = send(admin_api, world, schema, {field: value})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {field: f"must be at most {limit} characters"}
    assert not documented(schema, field, value)


@pytest.mark.parametrize("value", ["Sam\x00Lee", "Sam\x1bLee", "Sam\x7f"])
def test_control_characters_are_refused_as_the_pattern_says(api: Api, value: str) -> None:
    response = api.post("/clients", {"name": value})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"name": "must not contain control characters"}
    assert not documented("ClientIn", "name", value)
    assert documented("ClientIn", "name", "Sam\tLee\n")


def _example_body(schema: str, world: World) -> dict[str, Any]:
    """The body the document's examples make, with its required fields filled in."""
    properties = SCHEMAS[schema]["properties"]
    body = {name: spec["example"] for name, spec in properties.items() if "example" in spec}
    filler = {"name": "Ana Ruiz", "pain": 4, "client_id": world["client_id"]}
    for name in SCHEMAS[schema].get("required", []):
        if name not in body:
            body[name] = filler[name]
    return body


@pytest.mark.parametrize("schema", sorted(OPERATIONS))
def test_the_documents_examples_are_accepted(admin_api: Api, world: World, schema: str) -> None:
    method, path = OPERATIONS[schema]
    body = _example_body(schema, world)
    assert all(documented(schema, name, value) for name, value in body.items())
    response = getattr(admin_api, method)(path.format_map(world), body)
    assert response.status_code in (200, 201), (body, response.get_json())


def test_the_pain_report_example_is_in_the_past() -> None:
    example = SCHEMAS["PainReportIn"]["properties"]["reported_at"]["example"]
    assert datetime.fromisoformat(example).replace(tzinfo=UTC) < datetime.now(UTC)


def test_a_local_mean_time_offset_is_shown_to_the_minute(api: Api) -> None:
    # Monrovia kept -00:44:30 until 1972; RFC 3339 offsets have no seconds.
    client = api.post("/clients", {"name": "Ana Ruiz", "timezone": "Africa/Monrovia"}).get_json()
    response = api.post(
        "/appointments",
        {"client_id": client["id"], "starts_at": "1960-01-01T09:00", "status": "completed"},
    )
    assert response.status_code == 201
    starts_at = response.get_json()["starts_at"]
    assert starts_at == "1960-01-01T09:00:30-00:44"
    assert datetime.fromisoformat(starts_at) == datetime(1960, 1, 1, 9, 44, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "Sam\\ud800Lee"}',  # a lone surrogate: no database can store it
        b'{"name": "Sam Lee", "notes": "\\udfff"}',
        b'{"name": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",  # deeper than the parser goes
    ],
)
def test_a_body_the_server_cannot_read_is_a_400(api: Api, raw: bytes) -> None:
    response = api.http.post(
        "/api/v1/clients",
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"
