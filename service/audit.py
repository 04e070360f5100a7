"""The audit log: every view of a client record and every change, with who and when."""

from __future__ import annotations

from typing import Any

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


# audit_log.entity_id holds 50 characters; a longer address shares a counter with its prefix.
EMAIL_KEY_LENGTH = 50


def email_key(email: str) -> str:
    """The entity id under which what was tried for a typed email is counted (failed
    sign-ins, reset codes asked for), whether or not an account has that email."""
    return email.strip().lower()[:EMAIL_KEY_LENGTH]
