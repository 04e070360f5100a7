"""A reply's row: stored raw before anything is made of it, and written back once processed.

Both are Core statements built once: the webhook runs them for every text, and neither needs
an ORM object (loading and flushing one cost more than the rest of an ordinary reply).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, update
from sqlalchemy.orm import Session

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


@functools.cache
def _store_statement(dialect: str) -> Insert:
    """``store``'s INSERT in ``dialect``, built once (Core, not the ORM: nothing here needs
    an object, and it is cheaper)."""
    return (
        insert_for(dialect, _TABLE)
        .on_conflict_do_nothing(index_elements=["provider_sid"])
        .returning(_TABLE.c.id)
    )


def store(session: Session, inbound: Inbound, now: datetime) -> int | None:
    """Store the raw text; return its id, or None when this MessageSid is already stored."""
    connection = session.connection()
    row = {
        "provider_sid": inbound.sid,
        "from_phone": inbound.from_phone[:64],
        "to_phone": inbound.to_phone[:64],
        "body": inbound.body,
        "num_media": inbound.num_media,
        "fields": inbound.fields,
        "received_at": now,
    }
    stored: int | None = connection.scalar(_store_statement(connection.dialect.name), row)
    return stored


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
# ``save``'s UPDATE: the columns it sets are the parameters' (``_SAVED``).
_SAVE = update(_TABLE).where(_TABLE.c.id == bindparam("row_id"))


def save(session: Session, row: Reply) -> None:
    """Write what processing made of the reply onto its (locked) row, in one UPDATE. (The
    row is read and written as plain values, never as an ORM object: a session holding the
    reply's ``InboundMessage`` sees the change once it expires it.)"""
    values = {name: getattr(row, name) for name in _SAVED}
    session.connection().execute(_SAVE, {"row_id": row.id, **values})
