"""Consent and reachability of phone numbers: opted out, opted back in, invalid."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import outbox
from service.db import insert
from service.models import PhoneNumber


def ensure_number(session: Session, phone: str, now: datetime) -> None:
    """Make sure the number has a consent row; concurrent creators do not collide."""
    ensure_numbers(session, [phone], now)


def ensure_numbers(session: Session, phones: Iterable[str], now: datetime) -> None:
    """Make sure each of these numbers has a consent row, in one statement run for each
    number (in number order, so two transactions creating overlapping sets never
    deadlock); the same statement every time, so it is compiled once."""
    rows = [{"phone": phone, "updated_at": now} for phone in sorted(set(phones))]
    if rows:
        statement = insert(session, PhoneNumber).on_conflict_do_nothing(index_elements=["phone"])
        session.execute(statement, rows)


def _row(session: Session, phone: str, now: datetime) -> PhoneNumber:
    """The number's row, created if missing."""
    ensure_number(session, phone, now)
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
    _row(session, phone, now).opted_out_at = now
    return outbox.skip_planned_to(session, phone, "number opted out", now)


def opt_in(session: Session, phone: str, now: datetime) -> None:
    """Record that the number opted back in."""
    _row(session, phone, now).opted_in_at = now


def mark_invalid(session: Session, phone: str, reason: str, now: datetime) -> int:
    """Record that texts cannot reach the number; skip what is still planned to it."""
    row = _row(session, phone, now)
    row.invalid_at = now
    row.invalid_reason = reason[:200]
    return outbox.skip_planned_to(session, phone, f"invalid number: {reason}", now)
