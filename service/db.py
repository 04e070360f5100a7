"""The database edge: engine, sessions, and the aware-UTC column type.

Requests get one session each (closed at teardown, never committed implicitly: the code
that changes data commits where its unit of work ends). Jobs open their own sessions with
``Database.session()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Dialect, MetaData, Table, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations name the same thing on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


CONNECT_TIMEOUT_SECONDS = 5  # PostgreSQL; unless the URL sets connect_timeout itself


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: refuses naive datetimes, stores UTC, always loads aware UTC.

    SQLite has no time zone type, so the value is stored as naive UTC there and made
    aware again on load; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC; refuse a naive one."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for an instant column; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored instant as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``model``'s table in the session's dialect, which can say
    ``ON CONFLICT DO NOTHING`` / ``DO UPDATE`` (both dialects spell it the same way)."""
    return insert_for(session.get_bind().dialect.name, model)


def insert_for(dialect: str, target: type[Base] | Table) -> postgresql.Insert | sqlite.Insert:
    """``insert`` for a dialect named outright: for a statement on a hot path, built once
    per dialect and kept."""
    if dialect == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


Row = TypeVar("Row", bound=Base)


def lock(session: Session, model: type[Row], ident: int) -> Row | None:
    """The row, locked until the transaction ends and read fresh; None when it is gone.

    A concurrent change of the same row waits for this one, then finds the row as this one
    left it, or gone (how each database locks: ``lock_all``).
    """
    return next(iter(lock_all(session, model, [ident])), None)


def lock_all(session: Session, model: type[Row], idents: Iterable[int]) -> list[Row]:
    """The rows of these ids that still exist, by id, locked until the transaction ends and
    read fresh.

    PostgreSQL locks them in id order, so two lockers of overlapping sets never deadlock,
    and as an UPDATE of them would (``FOR NO KEY UPDATE``): writers of a row take turns,
    while a transaction that only inserts a row referring to it (a text planned to the
    client, an occurrence of the series) is not held up by a lock holder that may in turn
    be waiting for it. SQLite has no row locks, so a no-op update of the rows takes its
    single write lock instead.
    """
    ids = sorted(set(idents))
    if not ids:
        return []
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "sqlite":
        same = {c.name: c for c in table.c if c.primary_key or c.onupdate is not None}
        session.execute(update(table).where(table.c.id.in_(ids)).values(same))
    rows = session.scalars(
        select(model)
        .where(table.c.id.in_(ids))
        .order_by(table.c.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL and a busy timeout let the web and
    # clock processes share one file without "database is locked" at the first overlap.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; no connection is made until first use."""
    # Statement parameters hold phone numbers and message bodies: keep them out of error
    # messages, which end up in logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if "connect_timeout" not in make_url(url).query:
        # A server that accepts the connection but never answers (frozen, overloaded, a
        # half-dead failover) would hold a request forever: give up and answer 503.
        kwargs["connect_args"] = {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            **kwargs.get("connect_args", {}),
        }
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """The backend's name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one unit of background work; rolled back if it raises."""
        session = self.sessions()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def init_app(app: Flask, url: str) -> None:
    """Attach a Database to the app and close each request's session at teardown."""
    app.extensions["touchbase.db"] = Database(url)
    app.teardown_appcontext(_close_session)


def get_db(app: Flask | None = None) -> Database:
    """The Database of ``app`` (or of the current app)."""
    db: Database = (app or current_app).extensions["touchbase.db"]
    return db


def get_session() -> Session:
    """The current app context's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_db().sessions()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
