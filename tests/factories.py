"""Small builders of database rows for tests that arrange data directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from service import outbox
from service.domain.vocabulary import MessageKind
from service.models import Appointment, Client, Contact, OutboundMessage


def client_with_phone(
    session: Session,
    name: str = "Sam Lee",
    phone: str = "+16175550123",
    *,
    timezone: str = "America/New_York",
    language: str = "en",
    therapist_id: int | None = None,
) -> tuple[Client, Contact]:
    """A client whose own phone gets reminders and check-ins."""
    client = Client(name=name, timezone=timezone, language=language, therapist_id=therapist_id)
    contact = Contact(name=name, relation="self", phone=phone, reminders=True, checkins=True)
    client.contacts.append(contact)
    session.add(client)
    session.flush()
    return client, contact


def appointment(
    session: Session, client: Client, starts_at: datetime, *, status: str = "scheduled"
) -> Appointment:
    """A one-hour one-off appointment."""
    row = Appointment(
        client_id=client.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        status=status,
    )
    session.add(row)
    session.flush()
    return row


def message(
    session: Session,
    client: Client,
    contact: Contact | None,
    *,
    send_at: datetime,
    kind: str = "manual",
    body: str = "Hello from Bright Path",
    key: str | None = None,
    appointment_id: int | None = None,
    to: str | None = None,
    planned_start: datetime | None = None,
) -> OutboundMessage:
    """A planned outbound text, queued as the service queues one."""
    draft = outbox.Draft(
        idempotency_key=key
        or f"test:{kind}:{send_at.timestamp()}:{body}:{to or (contact and contact.phone)}",
        kind=MessageKind(kind),
        to_phone=to or (contact.phone if contact else "+16175550123"),
        body=body,
        send_at=send_at,
        client_id=client.id,
        contact_id=contact.id if contact else None,
        appointment_id=appointment_id,
        planned_start=planned_start,
    )
    message_id = outbox.enqueue_one(session, draft, datetime.now(UTC))
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    return row


def sent(
    session: Session,
    client: Client,
    contact: Contact,
    *,
    kind: str,
    sent_at: datetime,
    appointment_id: int | None = None,
    body: str = "a text",
) -> OutboundMessage:
    """A text we already sent to the contact."""
    row = message(
        session,
        client,
        contact,
        send_at=sent_at,
        kind=kind,
        body=body,
        key=f"sent:{kind}:{contact.id}:{sent_at.timestamp()}",
        appointment_id=appointment_id,
    )
    row.status, row.sent_at, row.provider_sid = "delivered", sent_at, f"SMout{row.id}"
    session.flush()
    return row
