"""Consent and reachability of phone numbers: opted out, opted back in, invalid.

This is consent to texts: an opt-out skips the texts planned to the number, never its
calls (consent to calls is ``call_consent``'s)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import outbox
from service.db import insert
from service.domain import call_permission
from service.domain.vocabulary import Channel
from service.models import PhoneNumber
from service.outbox.channels import skip_planned_on


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
    """Record an opt-out and skip every text still planned to the number (not its calls:
    ``call_consent``); return how many."""
    _row(session, phone, now).opted_out_at = now
    return skip_planned_on(session, phone, Channel.SMS, "number opted out", now)


def opt_in(session: Session, phone: str, now: datetime) -> None:
    """Record that the number opted back in."""
    _row(session, phone, now).opted_in_at = now


def mark_invalid(session: Session, phone: str, reason: str, now: datetime) -> int:
    """Record that texts cannot reach the number; skip what is still planned to it (only
    its texts when it is a landline, which calls may reach); return how many."""
    row = _row(session, phone, now)
    row.invalid_at = now
    row.invalid_reason = reason[:200]
    skipped = f"invalid number: {reason}"
    if row.invalid_reason in call_permission.LANDLINE_REASONS:
        return skip_planned_on(session, phone, Channel.SMS, skipped, now)
    return outbox.skip_planned_to(session, phone, skipped, now)
