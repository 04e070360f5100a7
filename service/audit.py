"""The audit log: every view of a client record and every change, with who and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from service.models import AuditEntry, User


def record(
    session: Session,
    user: User | None,
    action: str,
    entity: str,
    entity_id: int | str,
    **detail: Any,
) -> AuditEntry:
    """Add an audit entry to the session; it is committed with the work it describes."""
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        detail=detail,
    )
    session.add(entry)
    return entry


# audit_log.entity_id holds 50 characters; a longer key shares a counter with its prefix.
ENTITY_ID_LENGTH = 50


def email_key(email: str) -> str:
    """The entity id under which what was tried for a typed email is counted (failed
    sign-ins, reset codes asked for), whether or not an account has that email."""
    return email.strip().lower()[:ENTITY_ID_LENGTH]


def take_turns(session: Session, *keys: str) -> None:
    """Wait for, then hold until this transaction ends, every key given: transactions that
    count under the same keys (failed sign-ins, reset codes asked for) take turns, so none
    judges a count another is about to raise. Any key may be held, whether or not an
    account has it, so waiting says nothing about which emails have accounts.

    PostgreSQL: transaction-level advisory locks, taken in one order (no deadlock). SQLite:
    its one write lock, which every writer takes in turn anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        for key in sorted(set(keys)):
            session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
            )
    else:
        session.execute(update(AuditEntry).where(AuditEntry.id == -1).values(id=AuditEntry.id))
