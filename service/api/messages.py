"""The outbox and the replies, as the API shows them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.access import scope_clients
from service.api.errors import invalid
from service.api.inputs import query_datetime, query_int
from service.api.serialize import message_json, reply_json
from service.api.tokens import current_user
from service.config import current_settings
from service.db import get_session
from service.domain.vocabulary import Intent, MessageKind, MessageStatus
from service.models import Client, InboundMessage, OutboundMessage

bp = Blueprint("api_messages", __name__)
MAX_ITEMS = 1000


def _choice(name: str, options: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in options:
        raise invalid({name: f"must be one of {', '.join(options)}"})
    return value


def _limit() -> int:
    value = query_int("limit")
    if value is not None and not 1 <= value <= MAX_ITEMS:
        raise invalid({"limit": f"must be from 1 to {MAX_ITEMS}"})
    return value or MAX_ITEMS


@bp.get("/messages")
def list_messages() -> dict[str, Any]:
    """Outbound texts and calls, planned ones included, oldest planned time first."""
    client_id, appointment_id = query_int("client_id"), query_int("appointment_id")
    kind, status = _choice("kind", tuple(MessageKind)), _choice("status", tuple(MessageStatus))
    query = scope_clients(
        select(OutboundMessage, Client.timezone).join(
            Client, Client.id == OutboundMessage.client_id
        ),
        current_user(),
    )
    if client_id is not None:
        query = query.where(OutboundMessage.client_id == client_id)
    if appointment_id is not None:
        query = query.where(OutboundMessage.appointment_id == appointment_id)
    if kind is not None:
        query = query.where(OutboundMessage.kind == kind)
    if status is not None:
        query = query.where(OutboundMessage.status == status)
    session = get_session()
    rows = session.execute(
        query.order_by(OutboundMessage.send_at, OutboundMessage.id).limit(_limit())
    ).all()
    _audit_listing(session, "list_messages", [m.client_id for m, _ in rows])
    return {"items": [message_json(m, tz) for m, tz in rows]}


def _audit_listing(session: Session, action: str, client_ids: list[int | None]) -> None:
    """Record which clients' texts a listing showed (message bodies are client records)."""
    shown = sorted({c for c in client_ids if c is not None})
    audit.record(session, current_user(), action, "client", "*", clients=shown)
    session.commit()


@bp.get("/replies")
def list_replies() -> dict[str, Any]:
    """Replies from the caller's clients (texts, and keys pressed during calls), newest
    first."""
    client_id, intent = query_int("client_id"), _choice("intent", tuple(Intent))
    since = query_datetime("since")
    if since is not None and since.tzinfo is None:
        raise invalid({"since": "must carry an offset, like 2027-03-04T09:00:00-05:00"})
    # An outer join: replies from unknown numbers belong to no client, and only an admin
    # (whose scope has no therapist condition) sees them.
    query = scope_clients(
        select(InboundMessage, Client.timezone).outerjoin(
            Client, Client.id == InboundMessage.client_id
        ),
        current_user(),
    )
    if client_id is not None:
        query = query.where(InboundMessage.client_id == client_id)
    if intent is not None:
        query = query.where(InboundMessage.intent == intent)
    if since is not None:
        query = query.where(InboundMessage.received_at >= since)
    session = get_session()
    rows = session.execute(
        query.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(_limit())
    ).all()
    _audit_listing(session, "list_replies", [r.client_id for r, _ in rows])
    fallback = current_settings().practice_timezone
    return {"items": [reply_json(r, tz or fallback) for r, tz in rows]}
