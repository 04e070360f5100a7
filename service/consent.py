"""Consent and reachability of phone numbers: opted out, opted back in, invalid."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.db import utcnow
from service.models import OutboundMessage, PhoneNumber

PENDING = ("planned",)


def _row(session: Session, phone: str) -> PhoneNumber:
    """The number's row, created if missing; concurrent creators do not collide."""
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    session.execute(
        insert(PhoneNumber)
        .values(phone=phone, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["phone"])
    )
    row = session.get(PhoneNumber, phone, populate_existing=True)
    assert row is not None
    return row


def numbers(session: Session, phones: Iterable[str]) -> dict[str, PhoneNumber]:
    """The consent rows of these numbers, by number (numbers never seen are absent)."""
    wanted = sorted(set(phones))
    if not wanted:
        return {}
    rows = session.scalars(select(PhoneNumber).where(PhoneNumber.phone.in_(wanted)))
    return {row.phone: row for row in rows}


def is_opted_out(session: Session, phone: str) -> bool:
    """True when the latest consent event of ``phone`` is an opt-out."""
    row = session.get(PhoneNumber, phone)
    return row is not None and row.opted_out


def opt_out(session: Session, phone: str, now: datetime) -> int:
    """Record an opt-out and skip every text still planned to the number; return how many."""
    _row(session, phone).opted_out_at = now
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_phone == phone, OutboundMessage.status.in_(PENDING))
        .values(status="skipped", error_message="number opted out", updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def opt_in(session: Session, phone: str, now: datetime) -> None:
    """Record that the number opted back in."""
    _row(session, phone).opted_in_at = now


def mark_invalid(session: Session, phone: str, reason: str, now: datetime) -> int:
    """Record that texts cannot reach the number; skip what is still planned to it."""
    row = _row(session, phone)
    row.invalid_at = now
    row.invalid_reason = reason[:200]
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_phone == phone, OutboundMessage.status.in_(PENDING))
        .values(status="skipped", error_message=f"invalid number: {reason}"[:500], updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
