"""Alerts: what a person at the practice should look at (the inbox's items)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.db import insert
from service.domain.vocabulary import AlertKind
from service.models import Alert


def raise_alert(
    session: Session,
    kind: AlertKind,
    now: datetime,
    *,
    client_id: int | None = None,
    phone: str | None = None,
    detail: str = "",
    inbound_id: int | None = None,
    outbound_id: int | None = None,
) -> Alert:
    """Add an unhandled alert to the session (committed with the work that raised it)."""
    alert = Alert(
        kind=kind,
        client_id=client_id,
        phone=phone,
        detail=detail[:500],
        inbound_id=inbound_id,
        outbound_id=outbound_id,
        created_at=now,
    )
    session.add(alert)
    return alert


def raise_signal(
    session: Session, kind: AlertKind, key: str, client_id: int, detail: str, now: datetime
) -> bool:
    """Raise the item of a signal unless one with this key exists; True when this call did.

    The key is unique, so several clock processes seeing the same signal raise it once.
    """
    statement = (
        insert(session, Alert)
        .values(
            kind=kind,
            client_id=client_id,
            detail=detail[:500],
            created_at=now,
            signal_key=key[:100],
        )
        .on_conflict_do_nothing(index_elements=["signal_key"])
        .returning(Alert.id)
    )
    return session.execute(statement).first() is not None
