"""API fixtures: users with tokens, and a small client that sends them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service import accounts
from service.config import settings_of
from service.db import get_db


@dataclass
class Api:
    """Sends JSON requests to /api/v1 as one user."""

    http: FlaskClient
    token: str
    user_id: int

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> TestResponse:
        return self.http.get(f"/api/v1{path}", query_string=params, headers=self._headers())

    def post(self, path: str, body: Any) -> TestResponse:
        return self.http.post(f"/api/v1{path}", json=body, headers=self._headers())

    def patch(self, path: str, body: Any) -> TestResponse:
        return self.http.patch(f"/api/v1{path}", json=body, headers=self._headers())

    def put(self, path: str, body: Any) -> TestResponse:
        return self.http.put(f"/api/v1{path}", json=body, headers=self._headers())

    def delete(self, path: str) -> TestResponse:
        return self.http.delete(f"/api/v1{path}", headers=self._headers())


def make_api(app: Flask, email: str, *, admin: bool = False) -> Api:
    with get_db(app).session() as session:
        user = accounts.create_user(
            session,
            settings_of(app),
            email,
            email.split("@")[0].title(),
            "long-enough-pw",
            admin=admin,
        )
        token = accounts.create_token(session, user)
        session.commit()
        return Api(app.test_client(), token, user.id)


@pytest.fixture
def api(app: Flask) -> Api:
    """A therapist's API client."""
    return make_api(app, "ana@practice.test")


@pytest.fixture
def other_api(app: Flask) -> Api:
    """Another therapist's API client."""
    return make_api(app, "ben@practice.test")


@pytest.fixture
def admin_api(app: Flask) -> Api:
    """An admin's API client."""
    return make_api(app, "boss@practice.test", admin=True)


def error_of(response: TestResponse) -> dict[str, Any]:
    """The error object of an API error response, checked for shape."""
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]  # type: ignore[no-any-return]
