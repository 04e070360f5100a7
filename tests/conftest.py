"""Fixtures: a database built by the real migrations, apps on it, and clean tables.

SQLite by default; set TEST_DATABASE_URL (any PostgreSQL URL the tests may use to create
databases) and the same suite runs on PostgreSQL, in a database of its own that is created
for this run and dropped after it, so two runs never collide.

Each test starts from empty tables and an app no other running test holds. Building an app
is mostly werkzeug compiling its URL rules, and each new app compiles every template again,
so an app a test leaves as it found it is handed to a later test with the same configuration,
and compiled templates are shared by every app of the run.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service import create_app, migrate
from service.config import parse_database_url
from service.db import Base, get_db
from tests.feed_server import FeedServer, feed_server


def _postgres_admin_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL", "").strip()
    return parse_database_url("TEST_DATABASE_URL", raw) if raw else None


# A test of row and table locks runs on PostgreSQL only (TEST_DATABASE_URL; .ci/run runs the
# suite there too); under SQLite there is nothing to race: one write lock makes every writer
# take turns.
WRITE_LOCK_ONLY = "needs PostgreSQL (TEST_DATABASE_URL): SQLite's one write lock orders writers"


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
def database_url(make_database: Callable[[], str]) -> Iterator[str]:
    """The run's database, its schema made by the migrations, once."""
    url = make_database()
    migrate.upgrade(url)
    if not url.startswith("sqlite"):
        yield url
        return
    # SQLite checkpoints and deletes the WAL whenever its last connection closes, and the
    # apps open a connection per session (NullPool), so most sessions were the last: one
    # idle connection held for the run (no transaction, no lock) spares them that work.
    keeper = sqlite3.connect(str(make_url(url).database))
    keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
    yield url
    keeper.close()


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


# Children before parents, so emptying them in this order never trips a foreign key.
TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]
# One statement that names the tables holding any row.
_FILLED = " UNION ALL ".join(
    f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in TABLES
)
# PostgreSQL's sequences that handed out a value since they were created or restarted.
_USED_SEQUENCES = (
    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)


def clean_tables(app: Flask) -> None:
    """Empty every table (the schema stays) and restart ids at 1, so each test starts from
    nothing, as ``TRUNCATE ... RESTART IDENTITY`` would.

    Only the tables that hold rows are emptied (whoever wrote them: this process, a
    subprocess, a thread), and only the sequences that were used are restarted: a test
    writes to a few tables, and on PostgreSQL a TRUNCATE of all of them took longer than
    most tests. SQLite needs no restart: without AUTOINCREMENT an empty table's next id is 1.
    """
    db = get_db(app)
    with db.engine.begin() as conn:
        filled = set(conn.execute(text(_FILLED)).scalars())
        for name in TABLES:
            if name in filled:
                conn.execute(text(f"DELETE FROM {name}"))
        if db.dialect == "postgresql":
            for sequence in conn.execute(text(_USED_SEQUENCES)).scalars().all():
                conn.execute(text("SELECT setval(:name, 1, false)"), {"name": sequence})


class SharedTemplates(BytecodeCache):
    """Compiled templates kept in memory for the run and shared by every app.

    Jinja checks each entry against its template's source, so an edited template is
    compiled again; this only spares every new app compiling the same templates anew.
    """

    def __init__(self) -> None:
        self.codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.codes.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedTemplates()


def state_of(app: Flask) -> tuple[Any, ...]:
    """What a test could change in an app that would leak into the next test using it."""
    db = get_db(app)
    return (
        db.engine,
        db.sessions,
        db.url,
        app.wsgi_app,
        dict(app.config),
        list(app.extensions),
        len(list(app.url_map.iter_rules())),
        dict(app.view_functions),
        {key: len(funcs) for key, funcs in app.before_request_funcs.items()},
        {key: len(funcs) for key, funcs in app.after_request_funcs.items()},
        len(app.teardown_appcontext_funcs),
        app.jinja_env.bytecode_cache,
    )


Key = tuple[tuple[str, str], ...]
State = tuple[Any, ...]


class Shelf:
    """Apps no test holds now, by configuration, each with the state it was built with.

    The two put back last keep their pooled database connections for the next tests (on
    PostgreSQL each new connection is a new server process); any other is disposed, so the
    run never holds more than a few idle connections.
    """

    WARM = 2

    def __init__(self) -> None:
        self.idle: dict[Key, list[tuple[Flask, State]]] = {}
        self.warm: list[Flask] = []

    def take(self, key: Key) -> tuple[Flask, State] | None:
        apps = self.idle.get(key)
        return apps.pop() if apps else None

    def put(self, key: Key, app: Flask, state: State) -> None:
        self.idle.setdefault(key, []).append((app, state))
        if app in self.warm:
            self.warm.remove(app)
        self.warm.append(app)
        while len(self.warm) > self.WARM:
            get_db(self.warm.pop(0)).engine.dispose()

    def drop(self, app: Flask) -> None:
        if app in self.warm:
            self.warm.remove(app)
        get_db(app).engine.dispose()

    def close(self) -> None:
        for apps in self.idle.values():
            for app, _ in apps:
                get_db(app).engine.dispose()


@pytest.fixture(scope="session")
def shelf() -> Iterator[Shelf]:
    """The run's idle apps."""
    apps = Shelf()
    yield apps
    apps.close()


@pytest.fixture
def make_app(database_url: str, shelf: Shelf) -> Iterator[Callable[..., Flask]]:
    """Build apps on the run's database with configuration overrides; tables are emptied.

    Two calls in one test never return the same app. An app goes back on the shelf only if
    the test left it as it was built (``state_of``); any other is disposed of.
    """
    held: list[tuple[Key, Flask, State]] = []

    def make(**overrides: Any) -> Flask:
        config = base_config(database_url, **overrides)
        key = tuple(sorted(config.items()))
        found = shelf.take(key)
        if found is not None:
            app, state = found
        else:
            app = create_app(config)
            app.jinja_env.bytecode_cache = TEMPLATES
            state = state_of(app)
        held.append((key, app, state))
        return app

    yield make
    if held:
        clean_tables(held[0][1])
    for key, app, state in held:
        if state_of(app) == state:
            shelf.put(key, app, state)
        else:
            shelf.drop(app)


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


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A calendar feed server on 127.0.0.1 (``tests.feed_server``) for the feed tests."""
    with feed_server() as running:
        yield running


@pytest.fixture
def feeds_app(make_app: Callable[..., Flask]) -> Flask:
    """An app that may fetch feeds from 127.0.0.1 (``CALENDAR_FEEDS_ALLOW_PRIVATE``)."""
    return make_app(CALENDAR_FEEDS_ALLOW_PRIVATE="on")
