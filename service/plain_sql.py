"""Statements of a reply's hot path, run straight on the database driver.

SQLAlchemy compiles each one once per dialect, with the conversions its column types make
(aware UTC instants, JSON), so the SQL and the values are what SQLAlchemy itself would send.
What ``PlainStatement`` skips is SQLAlchemy's machinery around each execution (an execution
context, a result object), which costs more Python time than the statement costs the
database: about 0.15 ms of CPU a statement, measured with the webhook bench (``bench/README``,
issue 17). So it is kept for the webhook's four statements, which run for every text.

It behaves as SQLAlchemy would where it matters:

- a driver error is raised as SQLAlchemy's own (``DBAPIError.instance``: ``OperationalError``
  for a lost database, which ``outage`` answers with a 503), with the parameters hidden, and
  a connection the error shows is gone is invalidated, so the pool does not hand it out again;
- the engine's ``before_cursor_execute`` and ``commit`` listeners hear each statement and
  commit (the statement-count tests and the bench count them);
- a statement needing a value SQLAlchemy would have computed at execution (a column default,
  an ``onupdate``) is refused when it is built: every value is the caller's.

``commit_together`` sends result-less statements and the COMMIT that ends their transaction to
PostgreSQL in one round trip (psycopg's pipeline mode); ``stored_first`` commits one statement
in a transaction of its own, sent in one round trip and not waiting for the disk (the caller
makes it durable before it answers anyone).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


class PlainStatement:
    """A Core statement compiled for one dialect, executed on the driver's own cursor."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Collection[str] = ()):
        """Compile ``statement``; ``keys``: the columns an INSERT or UPDATE sets, each a
        parameter of the same name."""
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) or None)
        assert isinstance(compiled, SQLCompiler)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a plain statement needs every value given: no column defaults")
        self.sql = str(compiled)
        self._order = compiled.positiontup  # the parameters' order, for a positional driver
        # The values written into the statement itself: LIMIT 1, a status.
        self._fixed: dict[str, Any] = dict(compiled.construct_params(_check=False))
        binds = compiled.bind_names.items()
        self._required = frozenset(name for bind, name in binds if bind.required)
        converters = ((name, _bind_converter(bind.type, dialect)) for bind, name in binds)
        self._convert = tuple((name, f) for name, f in converters if f is not None)
        columns = getattr(statement, "exported_columns", ())
        self._results = tuple(_result_converter(c.type, dialect) for c in columns)
        self._converting = any(self._results)

    def execute(self, connection: Connection, values: dict[str, Any]) -> Any:
        """Run the statement with ``values`` on ``connection``'s driver connection; the
        driver's cursor, for its rows."""
        missing = self._required - values.keys()
        if missing:
            raise KeyError(f"no value for {sorted(missing)}")
        params = self._fixed | values
        for name, convert in self._convert:
            params[name] = convert(params[name])
        bound = params if self._order is None else tuple(params[n] for n in self._order)
        driver = connection.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        connection.dispatch.before_cursor_execute(connection, cursor, self.sql, bound, None, False)
        with raised_as_sqlalchemy(connection, self.sql):
            cursor.execute(self.sql, bound)
        return cursor

    def rows(self, connection: Connection, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement; its rows, each value converted as its column's type reads it."""
        return self.read(connection, self.execute(connection, values))

    def read(self, connection: Connection, cursor: Any) -> list[tuple[Any, ...]]:
        """The rows of this statement's ``cursor``, converted as their columns' types read
        them (in a pipeline: once the server has answered everything sent before)."""
        with raised_as_sqlalchemy(connection, self.sql):
            rows = cursor.fetchall()
        cursor.close()
        converters = self._results
        if not self._converting:
            return [tuple(r) for r in rows]
        return [tuple(f(v) if f else v for f, v in zip(converters, r, strict=True)) for r in rows]


def _bind_converter(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    converter: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return converter


def _result_converter(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    converter: Callable[[Any], Any] | None = type_.dialect_impl(dialect).result_processor(
        dialect, None
    )
    return converter


@contextmanager
def raised_as_sqlalchemy(connection: Connection, sql: str) -> Iterator[None]:
    """A driver error in the block, raised as SQLAlchemy raises it (parameters hidden); a
    connection it shows is lost is invalidated first."""
    dialect = connection.dialect
    error = dialect.loaded_dbapi.Error
    try:
        yield
    except error as exc:
        driver = connection.connection.dbapi_connection
        if dialect.is_disconnect(exc, driver, None):
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, error, hide_parameters=True, dialect=dialect
        ) from exc


def commit_together(session: Session, write: Callable[[], None]) -> None:
    """Run ``write`` (``PlainStatement`` executions whose rows are not read) and commit.

    On PostgreSQL the statements and the COMMIT go to the server together and are answered
    together: one round trip instead of one each. An error in any of them is raised here,
    and nothing of the transaction was committed (the server skips what follows an error
    and rolls back at the COMMIT's place); the caller rolls back as after any failed commit.
    SQLAlchemy statements must not run inside ``write`` on PostgreSQL: in this mode their
    results are not there to read.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        write()
        session.commit()
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    with raised_as_sqlalchemy(connection, "COMMIT"), driver.pipeline():
        write()
        driver.cursor().execute("COMMIT")
    # The server has committed, and the driver knows it: this ends SQLAlchemy's transaction
    # without a round trip.
    session.commit()


def stored_first(
    connection: Connection, statement: PlainStatement, values: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """Run ``statement`` in a transaction of its own, committed before anything else runs on
    ``connection``; its rows. Call it before the connection has run anything.

    On PostgreSQL the transaction is sent in one round trip (BEGIN, the statement, COMMIT, in
    psycopg's pipeline mode) and its COMMIT does not wait for the disk (``synchronous_commit``
    off, for this transaction only): the rows are committed, seen by every other transaction
    at once, but could be lost if the database server crashed in the next fraction of a
    second (its WAL writer flushes within 200 ms). The caller makes them durable before it
    tells anyone they are kept, with any synchronous commit on the same server (PostgreSQL
    writes its log in order, so flushing a later commit flushes this one too): the webhook
    answers Twilio only after the processing's commit, or on failure after ``keep``'s.
    Waiting for one disk flush a reply instead of two is most of what the webhook bench's
    ratio to its store-only reference gained from this (``bench/README``). SQLite: one
    transaction, committed at the end.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name != "postgresql":
        try:
            rows = statement.rows(connection, values)
            driver.commit()
        except BaseException:
            connection.invalidate()
            raise
        connection.dispatch.commit(connection)  # the engine's commit listeners hear it
        return rows
    driver.autocommit = True  # the transaction below is ours, spelled out
    try:
        with raised_as_sqlalchemy(connection, statement.sql), driver.pipeline():
            driver.cursor().execute("BEGIN")
            driver.cursor().execute("SET LOCAL synchronous_commit TO off")
            cursor = statement.execute(connection, values)
            driver.cursor().execute("COMMIT")
            rows = statement.read(connection, cursor)
    except BaseException:
        # The connection may be gone (a database outage) or mid-transaction: do not talk to
        # it again, let the pool replace it.
        connection.invalidate()
        raise
    driver.autocommit = False
    connection.dispatch.commit(connection)
    return rows
