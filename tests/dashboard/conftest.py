"""Dashboard fixtures: staff accounts, and a browser-like client that signs in and sends CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from service import accounts
from service.config import settings_of
from service.db import get_db

PASSWORD = "long-enough-pw"


@dataclass
class Staff:
    """An account made for a test."""

    id: int
    email: str
    name: str


def make_staff(app: Flask, email: str, name: str, *, admin: bool = False) -> Staff:
    """Create an account with the test password."""
    with get_db(app).session() as session:
        user = accounts.create_user(session, settings_of(app), email, name, PASSWORD, admin=admin)
        session.commit()
        return Staff(user.id, user.email, user.name)


@dataclass
class Web:
    """A test client that behaves like a browser on our forms: it sends the CSRF token."""

    http: FlaskClient

    def token(self) -> str:
        """The session's CSRF token, read from a page the way a form would carry it."""
        page = self.http.get("/login").get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if found is None:  # signed in: /login redirects, so read it from the inbox
            page = self.http.get("/").get_data(as_text=True)
            found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found is not None, "no CSRF token on the page"
        return found.group(1)

    def get(self, path: str, **params: Any) -> TestResponse:
        return self.http.get(path, query_string=params)

    def post(self, path: str, data: dict[str, Any] | None = None) -> TestResponse:
        """A form post with the session's CSRF token, answered in full as a server would
        (so what a view runs once the answer is written, ``call_on_close``, has run)."""
        data = {"csrf_token": self.token(), **(data or {})}
        return self.http.post(path, data=data, buffered=True)

    def login(self, email: str, password: str = PASSWORD, **environ: Any) -> TestResponse:
        token = self.token()
        return self.http.post(
            "/login",
            data={"csrf_token": token, "email": email, "password": password},
            environ_base=environ,
        )


def text_of(response: TestResponse) -> str:
    """The page's text without tags or repeated spaces, for plain-words assertions."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def ana(app: Flask) -> Staff:
    """A therapist."""
    return make_staff(app, "ana@practice.test", "Ana Ruiz")


@pytest.fixture
def ben(app: Flask) -> Staff:
    """Another therapist."""
    return make_staff(app, "ben@practice.test", "Ben Okafor")


@pytest.fixture
def boss(app: Flask) -> Staff:
    """An admin."""
    return make_staff(app, "boss@practice.test", "Bo Boss", admin=True)


@pytest.fixture
def web(app: Flask) -> Web:
    """An anonymous browser."""
    return Web(app.test_client())


def signed_in(app: Flask, staff: Staff) -> Web:
    """A browser signed in as ``staff``."""
    browser = Web(app.test_client())
    response = browser.login(staff.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


@pytest.fixture
def as_ana(app: Flask, ana: Staff) -> Web:
    return signed_in(app, ana)


@pytest.fixture
def as_ben(app: Flask, ben: Staff) -> Web:
    return signed_in(app, ben)


@pytest.fixture
def as_boss(app: Flask, boss: Staff) -> Web:
    return signed_in(app, boss)


def now() -> datetime:
    """The current instant (the views read the real clock)."""
    return datetime.now(UTC)


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine runs."""
    statements: list[str] = []
    engine = get_db(app).engine

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
