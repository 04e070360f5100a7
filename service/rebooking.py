"""Rebooking texts: one friendly text to a client whose sessions are lapsing.

Where the practice turns them on (``REBOOKING_TEXTS``), the lapsing signal queues one text
through the outbox, at most one per two weeks per client, after quiet hours, never to an
opted-out or invalid number, and never while the client is not answering (the pause rule
of ``domain.sending``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import consent, outbox, wording_in_force
from service.config import Settings
from service.domain import relief
from service.domain.quiet import after_quiet_hours
from service.domain.vocabulary import MessageKind, MessageStatus, TextKind
from service.models import Client, Contact, OutboundMessage

KEY_PREFIX = "rebook:"


def rebook(
    session: Session, settings: Settings, client: Client, session_id: int, now: datetime
) -> int:
    """Queue the one rebooking text for this lapse; return 1 if this call queued it.

    It goes to the client's own number (else the first contact that gets reminders), never
    to an opted-out or invalid one, after quiet hours, and not within two weeks of another.
    """
    contact = _rebooking_contact(session, client)
    if contact is None:
        return 0
    latest = session.scalar(
        select(func.max(OutboundMessage.created_at)).where(
            OutboundMessage.client_id == client.id,
            OutboundMessage.idempotency_key.startswith(KEY_PREFIX),
            OutboundMessage.status != MessageStatus.CANCELLED,
        )
    )
    if not relief.may_rebook(latest, now):
        return 0
    quiet_start, quiet_end = settings.quiet_hours
    send_at = after_quiet_hours(now, ZoneInfo(client.timezone), quiet_start, quiet_end)
    values = wording_in_force.values(settings, recipient=client.name)
    in_force = wording_in_force.current(session)
    body, template_id = in_force.write(TextKind.REBOOKING, client.language, values)
    draft = outbox.Draft(
        idempotency_key=f"{KEY_PREFIX}{client.id}:{session_id}:lapsing",
        kind=MessageKind.NUDGE,
        to_phone=contact.phone,
        body=body,
        template_id=template_id,
        send_at=send_at.astimezone(UTC),
        client_id=client.id,
        contact_id=contact.id,
    )
    return 1 if outbox.enqueue_one(session, draft, now) is not None else 0


def _rebooking_contact(session: Session, client: Client) -> Contact | None:
    """The client's own number if it gets reminders, else the first contact that does;
    None when that number opted out or is invalid."""
    wanted = [c for c in client.contacts_own_first if c.reminders]
    if not wanted:
        return None
    known = consent.numbers(session, [wanted[0].phone]).get(wanted[0].phone)
    if known is not None and (known.opted_out or known.invalid_at is not None):
        return None
    return wanted[0]
