"""Alerts: what a person at the practice should look at (the inbox's items)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
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
    session: Session,
    kind: AlertKind,
    key: str,
    client_id: int | None,
    detail: str,
    now: datetime,
    *,
    therapist_id: int | None = None,
) -> bool:
    """Raise the item of a signal unless one with this key exists; True when this call did.

    The key is unique, so several clock processes seeing the same signal raise it once.
    ``therapist_id`` makes an item about no client one therapist's (their failing calendar
    feed): only they and admins see it.
    """
    statement = (
        insert(session, Alert)
        .values(
            kind=kind,
            client_id=client_id,
            therapist_id=therapist_id,
            detail=detail[:500],
            created_at=now,
            signal_key=key[:100],
        )
        .on_conflict_do_nothing(index_elements=["signal_key"])
        .returning(Alert.id)
    )
    return session.execute(statement).first() is not None


def close_alerts(
    session: Session,
    kind: AlertKind,
    note: str,
    now: datetime,
    *,
    client_id: int | None = None,
    phone: str | None = None,
) -> int:
    """Close the open items of ``kind`` about this client (or this phone) because the
    situation resolved itself; ``note`` says how. How many closed.

    Conditional, like a person's "Mark handled", so an item closed twice records the first.
    Closed items stay in the client's history with their note.
    """
    if client_id is None and phone is None:
        return 0
    about = Alert.client_id == client_id if client_id is not None else Alert.phone == phone
    result = session.execute(
        update(Alert)
        .where(Alert.kind == kind, Alert.handled_at.is_(None), about)
        .values(handled_at=now, closed_note=note[:200])
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def close_signals(
    session: Session, kind: AlertKind, key_prefix: str, note: str, now: datetime
) -> int:
    """Close the open items of ``kind`` whose signal key starts with ``key_prefix`` (one
    calendar feed's failures: ``feed_runs``); ``note`` says how. How many closed."""
    result = session.execute(
        update(Alert)
        .where(
            Alert.kind == kind,
            Alert.handled_at.is_(None),
            Alert.signal_key.startswith(key_prefix, autoescape=True),
        )
        .values(handled_at=now, closed_note=note[:200])
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def close_reschedule_requests(session: Session, client_id: int, note: str, now: datetime) -> int:
    """Close the client's open reschedule requests: a session was booked or moved."""
    return close_alerts(session, AlertKind.RESCHEDULE, note, now, client_id=client_id)
