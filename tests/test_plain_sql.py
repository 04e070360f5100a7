"""Statements run on the driver (``service.plain_sql``) behave as SQLAlchemy's own: the same
values written and read back (aware UTC instants, JSON), SQLAlchemy's errors with the
parameters hidden, listeners that hear them, a lost connection invalidated; and the two ways
of committing (``commit_together``, ``stored_first``) commit all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from flask import Flask
from sqlalchemy import Connection, Table, bindparam, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from service import plain_sql
from service.db import get_db
from service.models import InboundMessage
from service.plain_sql import PlainStatement

TABLE = cast(Table, InboundMessage.__table__)
AT = datetime(2027, 3, 4, 14, 30, 15, 123456, tzinfo=UTC)
COLUMNS = ("provider_sid", "from_phone", "to_phone", "body", "num_media", "fields", "received_at")


def _row(sid: str, **changes: Any) -> dict[str, Any]:
    fields = {"MessageSid": sid, "Ünïcode": "✓", "nested": "x" * 3}
    row = {"provider_sid": sid, "from_phone": "+16175550123", "to_phone": "+16175550100"}
    return row | {"body": "7 😊", "num_media": 0, "fields": fields, "received_at": AT} | changes


def _store(connection: Connection) -> PlainStatement:
    statement = insert(TABLE).returning(TABLE.c.id, TABLE.c.received_at, TABLE.c.fields)
    return PlainStatement(statement, connection.dialect, COLUMNS)


@pytest.fixture
def connection(app: Flask) -> Iterator[Connection]:
    with get_db(app).engine.connect() as connection:
        yield connection


def test_values_go_in_and_come_back_as_sqlalchemy_writes_and_reads_them(
    connection: Connection,
) -> None:
    (row_id, received_at, fields) = _store(connection).rows(connection, _row("SMa"))[0]
    # what came back through the driver, converted as the column types read it
    assert received_at == AT and received_at.tzinfo is not None
    assert fields == _row("SMa")["fields"]
    # and what SQLAlchemy itself reads from the row
    stored = connection.execute(select(TABLE).where(TABLE.c.id == row_id)).one()
    assert (stored.body, stored.received_at, stored.fields) == ("7 😊", AT, _row("SMa")["fields"])
    # an aware instant in another zone is stored as the same instant
    eastern = AT.astimezone(datetime.now().astimezone().tzinfo) - timedelta(hours=1)
    (_, again, _) = _store(connection).rows(connection, _row("SMb", received_at=eastern))[0]
    assert again == AT - timedelta(hours=1)


def test_an_update_sets_the_keys_it_was_built_with(connection: Connection) -> None:
    (row_id, _, _) = _store(connection).rows(connection, _row("SMc"))[0]
    statement = update(TABLE).where(TABLE.c.id == bindparam("row_id"))
    save = PlainStatement(statement, connection.dialect, ("intent", "pain_score"))
    save.execute(connection, {"row_id": row_id, "intent": "pain", "pain_score": 7})
    got = connection.execute(select(TABLE.c.intent, TABLE.c.pain_score)).one()
    assert tuple(got) == ("pain", 7)


def test_a_statement_needing_a_default_or_a_missing_value_is_refused(
    connection: Connection,
) -> None:
    with pytest.raises(ValueError, match="every value given"):
        PlainStatement(insert(TABLE), connection.dialect, ("provider_sid", "from_phone"))
    without_time = {k: v for k, v in _row("SMd").items() if k != "received_at"}
    with pytest.raises(KeyError, match="received_at"):
        _store(connection).execute(connection, without_time)


def test_a_driver_error_is_sqlalchemys_with_the_values_hidden(connection: Connection) -> None:
    heard: list[str] = []
    event.listen(connection, "before_cursor_execute", lambda *a: heard.append(a[2]))
    _store(connection).execute(connection, _row("SMe"))
    with pytest.raises(IntegrityError) as raised:
        _store(connection).execute(connection, _row("SMe", body="secret words"))
    assert "secret words" not in str(raised.value) and "+16175550123" not in str(raised.value)
    assert len(heard) == 2 and all(sql.startswith("INSERT INTO inbound_messages") for sql in heard)
    connection.rollback()


def _stored_sids(app: Flask) -> list[str]:
    with get_db(app).engine.connect() as other:
        return list(other.scalars(select(TABLE.c.provider_sid).order_by(TABLE.c.provider_sid)))


def test_commit_together_commits_every_write(app: Flask, session: Session) -> None:
    connection = session.connection()
    store = _store(connection)

    def write() -> None:
        for sid in ("SMf", "SMg"):
            store.execute(connection, _row(sid))

    plain_sql.commit_together(session, write)
    assert _stored_sids(app) == ["SMf", "SMg"]
    assert not session.in_transaction()


def test_commit_together_commits_nothing_when_a_write_fails(app: Flask, session: Session) -> None:
    connection = session.connection()
    store = _store(connection)

    def write() -> None:
        store.execute(connection, _row("SMh"))
        store.execute(connection, _row("SMh"))  # the same sid again: a unique violation

    with pytest.raises(IntegrityError):
        plain_sql.commit_together(session, write)
    session.rollback()
    assert _stored_sids(app) == []
    # the session goes on as after any failed commit
    plain_sql.commit_together(session, lambda: store.execute(session.connection(), _row("SMi")))
    assert _stored_sids(app) == ["SMi"]


def test_stored_first_is_committed_before_anything_else_and_whatever_follows(
    app: Flask, dialect: str
) -> None:
    with get_db(app).engine.connect() as connection:
        [(row_id, _, _)] = plain_sql.stored_first(connection, _store(connection), _row("SMj"))
        assert _stored_sids(app) == ["SMj"]  # seen by everyone at once
        if dialect == "postgresql":  # its quick commit was its own transaction's only
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        connection.execute(insert(TABLE).values(_row("SMk")))
        connection.rollback()  # what came after is undone; the stored row stays
    assert _stored_sids(app) == ["SMj"] and isinstance(row_id, int)


def test_a_failure_in_stored_first_leaves_the_connection_to_the_pool(app: Flask) -> None:
    with get_db(app).engine.connect() as connection:
        with pytest.raises(KeyError):
            plain_sql.stored_first(connection, _store(connection), {"provider_sid": "SMl"})
        assert connection.invalidated
    with get_db(app).engine.connect() as connection:
        plain_sql.stored_first(connection, _store(connection), _row("SMl"))
        with pytest.raises(IntegrityError):  # refused by the database, inside the pipeline
            plain_sql.stored_first(connection, _store(connection), _row("SMl"))
        assert connection.invalidated
    assert _stored_sids(app) == ["SMl"]


def test_a_lost_connection_is_an_operational_error_and_invalidated(
    app: Flask, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite has no server to lose")
    engine = get_db(app).engine
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        connection.commit()
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(OperationalError):
            _store(connection).execute(connection, _row("SMm"))
        assert connection.invalidated
