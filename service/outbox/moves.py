"""The outbox's two ways to change rows: one conditional UPDATE of one message, or of every
message meeting some conditions. Every transition of the outbox is one of these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.domain.vocabulary import MessageStatus
from service.models import OutboundMessage

M = OutboundMessage
S = MessageStatus


def move(
    session: Session,
    message_id: int,
    expected: Iterable[MessageStatus],
    now: datetime,
    token: str | None = None,
    **values: Any,
) -> bool:
    """Change one message if it still has an expected status (and claim); True if it did."""
    return move_all(session, [message_id], expected, now, token, **values) == 1


def move_all(
    session: Session,
    message_ids: Sequence[int],
    expected: Iterable[MessageStatus],
    now: datetime,
    token: str | None = None,
    **values: Any,
) -> int:
    """Change these messages where they still have an expected status (and claim); how many."""
    ids = list(message_ids)
    by_id = M.id == ids[0] if len(ids) == 1 else M.id.in_(ids)
    conditions = [by_id, M.status.in_(tuple(expected))]
    if token is not None:
        conditions.append(M.claim_token == token)
    return bulk(session, conditions, now, **values)


def bulk(session: Session, conditions: Sequence[Any], now: datetime, **values: Any) -> int:
    """Change every message meeting ``conditions``; how many."""
    statement = update(M).where(*conditions).values(updated_at=now, **values)
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
