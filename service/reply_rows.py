"""A reply's row: stored raw before anything is made of it, and written back once processed.

Both are ``PlainStatement``s built once per dialect: the webhook runs them for every text, and
neither needs an ORM object or SQLAlchemy's execution machinery (each cost more than the rest
of an ordinary reply).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, bindparam, update
from sqlalchemy.orm import Session

from service import plain_sql
from service.db import insert_for
from service.models import InboundMessage
from service.reply_reads import Reply

_TABLE = cast(Table, InboundMessage.__table__)


@dataclass(frozen=True)
class Inbound:
    """The fields of one inbound text as the provider posted them."""

    sid: str
    from_phone: str
    to_phone: str
    body: str
    num_media: int
    fields: dict[str, Any]
    channel: str = "sms"  # "voice": keys pressed during a call


# What ``store`` writes: every column of a raw text, as the provider posted it.
_STORED = (
    "provider_sid",
    "from_phone",
    "to_phone",
    "body",
    "num_media",
    "fields",
    "received_at",
    "channel",
)


@functools.cache
def _store_statement(dialect: Dialect) -> plain_sql.PlainStatement:
    """``store``'s INSERT in ``dialect``, built once."""
    statement = (
        insert_for(dialect.name, _TABLE)
        .on_conflict_do_nothing(index_elements=["provider_sid"])
        .returning(_TABLE.c.id)
    )
    return plain_sql.PlainStatement(statement, dialect, _STORED)


def store(connection: Connection, inbound: Inbound, now: datetime) -> int | None:
    """Store the raw text in the connection's transaction; return its id, or None when this
    MessageSid is already stored."""
    stored = _store_statement(connection.dialect).rows(connection, _stored_row(inbound, now))
    return int(stored[0][0]) if stored else None


def store_first(connection: Connection, inbound: Inbound, now: datetime) -> int | None:
    """``store`` in a transaction of its own, committed before anything else is done with
    the text (``plain_sql.stored_first``: on PostgreSQL without waiting for the disk, so the
    caller makes it durable before it answers: the processing's commit, or ``keep``)."""
    statement = _store_statement(connection.dialect)
    stored = plain_sql.stored_first(connection, statement, _stored_row(inbound, now))
    return int(stored[0][0]) if stored else None


def _stored_row(inbound: Inbound, now: datetime) -> dict[str, Any]:
    return {
        "provider_sid": inbound.sid,
        "from_phone": inbound.from_phone[:64],
        "to_phone": inbound.to_phone[:64],
        "body": inbound.body,
        "num_media": inbound.num_media,
        "fields": inbound.fields,
        "received_at": now,
        "channel": inbound.channel,
    }


def keep(session: Session, row_id: int, why: str) -> None:
    """Note on a stored text that processing failed (the clock retries it), in a commit that
    waits for the disk: the text is durable when this returns, as ``store_first`` needs."""
    session.execute(update(_TABLE).where(_TABLE.c.id == row_id).values(reason=why[:200]))
    session.commit()


# What processing writes on the reply's row.
_SAVED = (
    "client_id",
    "contact_id",
    "intent",
    "pain_score",
    "guess",
    "note",
    "reason",
    "answers_message_id",
    "appointment_id",
    "processed_at",
)


@functools.cache
def _save_statement(dialect: Dialect) -> plain_sql.PlainStatement:
    """``save``'s UPDATE in ``dialect``, built once: it sets the ``_SAVED`` columns."""
    statement = update(_TABLE).where(_TABLE.c.id == bindparam("row_id"))
    return plain_sql.PlainStatement(statement, dialect, _SAVED)


def save(session: Session, row: Reply) -> None:
    """Write what processing made of the reply onto its (locked) row, in one UPDATE whose
    result is not read (so it can go with the commit: ``plain_sql.commit_together``). The
    row is read and written as plain values, never as an ORM object: a session holding the
    reply's ``InboundMessage`` sees the change once it expires it."""
    values = {name: getattr(row, name) for name in _SAVED}
    connection = session.connection()
    _save_statement(connection.dialect).execute(connection, {"row_id": row.id, **values})
