"""Fixtures: a database built by the real migrations, an app per test, and clean tables.

SQLite by default; set TEST_DATABASE_URL (any PostgreSQL URL the tests may use to create
databases) and the same suite runs on PostgreSQL, in a database of its own that is created
for this run and dropped after it, so two runs never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service import create_app, migrate
from service.config import parse_database_url
from service.db import Base, get_db


def _postgres_admin_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL", "").strip()
    return parse_database_url("TEST_DATABASE_URL", raw) if raw else None


@pytest.fixture(scope="session")
def make_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """A factory of new empty databases (all dropped at the end of the run)."""
    admin_url = _postgres_admin_url()
    created: list[str] = []

    def make() -> str:
        name = f"touchbase_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        if admin_url is None:
            return f"sqlite:///{tmp_path_factory.mktemp('db') / (name + '.sqlite3')}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        created.append(name)
        return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin_url is not None and created:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[], str]) -> str:
    """The run's database, its schema made by the migrations, once."""
    url = make_database()
    migrate.upgrade(url)
    return url


def base_config(database_url: str, **overrides: str) -> dict[str, str]:
    """A complete configuration, so nothing leaks in from the environment."""
    config: dict[str, str] = {
        "TOUCHBASE_ENV": "test",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
        "TWILIO_FROM_NUMBER": "",
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_API_BASE_URL": "",
        "PUBLIC_BASE_URL": "",
        "PRACTICE_NAME": "Bright Path",
        "PRACTICE_PHONE": "+16175550100",
        "PRACTICE_TIMEZONE": "America/New_York",
        "DEFAULT_REGION": "US",
        "QUIET_HOURS": "21:00-08:00",
        "REMINDER_OFFSETS": "24h",
        "CHECKIN_OFFSETS": "24h,72h",
        "PAIN_ALERT_THRESHOLD": "8",
        "TRUSTED_PROXIES": "",
    }
    config.update(overrides)
    return config


def clean_tables(app: Flask) -> None:
    """Empty every table (the schema stays), so each test starts from nothing."""
    db = get_db(app)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build apps on the run's database with configuration overrides; tables are emptied."""
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app(base_config(database_url, **overrides))
        apps.append(app)
        return app

    yield make
    if apps:
        clean_tables(apps[0])
    for app in apps:
        get_db(app).engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app with the default test configuration."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner of ``app``."""
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session of ``app`` for arranging and checking data."""
    with get_db(app).session() as s:
        yield s


@pytest.fixture
def dialect(app: Flask) -> str:
    """The backend under test: ``sqlite`` or ``postgresql``."""
    return get_db(app).dialect


def pytest_report_header() -> str:
    """Say which database the run uses."""
    url = _postgres_admin_url()
    return f"database: {'postgresql ' + str(make_url(url).host) if url else 'sqlite'}"
