"""Alerts: what a person at the practice should look at."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.models import Alert


def raise_alert(
    session: Session,
    kind: str,
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
