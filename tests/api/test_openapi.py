"""The API honours its OpenAPI document, for whatever schemathesis generates."""

from __future__ import annotations

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import Api


def test_the_document_is_served_without_a_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_every_endpoint_honours_the_document(app: Flask, api: Api) -> None:
    # One client exists, so that generated ids sometimes hit a real record.
    assert api.post("/clients", {"name": "Sam Lee", "phone": "6175550123"}).status_code == 201
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {api.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def honours(case: Case) -> None:
            # The document cannot say which strings are real time zones, phone numbers or
            # rules; refusing those with a 422 is right, so that one check is left out.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        honours()
