"""The web's answer when the database is out of reach: 503, in JSON for the API and as a page
for the dashboard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from service.accounts import TOKEN_PREFIX
from service.db import get_db
from tests.dashboard.conftest import make_staff, signed_in

BEARER = f"Bearer {TOKEN_PREFIX}not-a-real-token"  # well formed, so it is looked up


def test_the_app_factory_installs_the_outage_handler(app: Flask) -> None:
    assert OperationalError in app.error_handler_spec[None][None]


@pytest.fixture
def one_connection(app: Flask) -> Iterator[Flask]:
    """The app on a pool of one connection that gives up waiting at once."""
    db = get_db(app)
    normal = db.engine, db.sessions
    db.engine = create_engine(db.url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    db.sessions = sessionmaker(db.engine, expire_on_commit=False)
    yield app
    db.engine.dispose()
    db.engine, db.sessions = normal


def test_every_connection_in_use_is_a_503_json_for_the_api_a_page_for_the_dashboard(
    one_connection: Flask,
) -> None:
    api = one_connection.test_client()
    browser = signed_in(one_connection, make_staff(one_connection, "ana@practice.test", "Ana"))
    token = browser.token()
    with get_db(one_connection).engine.connect():  # the pool's only connection, held
        response = api.get("/api/v1/clients", headers={"Authorization": BEARER})
        assert response.status_code == 503, response.status_code
        assert response.headers["Retry-After"].isdigit()
        assert response.get_json()["error"]["code"] == "database_unavailable"
        for response in (
            browser.http.get("/clients"),
            browser.http.post("/logout", data={"csrf_token": token}),
        ):
            assert response.status_code == 503, response.status_code
            assert response.headers["Retry-After"].isdigit()
            assert response.mimetype == "text/html"
            page = response.get_data(as_text=True)
            assert "<h1>Service unavailable</h1>" in page and "database is unavailable" in page
        health = api.get("/healthz")
        assert health.status_code == 503 and health.is_json
    assert api.get("/api/v1/clients", headers={"Authorization": BEARER}).status_code == 401
    assert browser.http.get("/clients").status_code == 200
