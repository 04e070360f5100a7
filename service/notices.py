"""Notices: the texts that tell a client the practice moved or cancelled a session.

``service.bookings`` queues them, when asked to (the dashboard offers them checked, the API
with ``"notify": true``), after the change is written. They go to every contact of the
client who gets reminders, through ``service.outbox`` like any other text, keyed by the
change's audit entry and the contact, so one change queues one notice per person and the
dispatcher's claim sends each once. Like a planned text, a notice queued inside quiet hours
waits for their end in the client's zone. The dispatcher's last check
(``domain.sending``) drops a notice a later change made untrue: a move notice once the
session moved again or was cancelled, a cancellation once the session is back.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from service import outbox
from service.config import Settings
from service.domain import texts
from service.domain.planning import after_quiet_hours
from service.domain.vocabulary import UPCOMING, AppointmentStatus, MessageKind
from service.models import Appointment, AuditEntry, Client


def _local(at: datetime, client: Client) -> datetime:
    return at.astimezone(ZoneInfo(client.timezone)).replace(tzinfo=None)


def move_text(settings: Settings, client: Client, new_start: datetime, old_start: datetime) -> str:
    """The move notice this client's contacts would get."""
    new, old = _local(new_start, client), _local(old_start, client)
    return texts.move_notice(client.language, settings.practice_name, new, old)


def cancel_text(settings: Settings, client: Client, start: datetime) -> str:
    """The cancellation notice this client's contacts would get."""
    local = _local(start, client)
    phone = settings.practice_phone_shown
    return texts.cancel_notice(client.language, settings.practice_name, local, phone)


def queue(
    session: Session,
    settings: Settings,
    appointment: Appointment,
    kind: MessageKind,
    body: str,
    change_id: int,
    now: datetime,
    actor_id: int | None = None,
) -> list[int]:
    """Queue one notice of this change (``change_id``: its audit entry) to each contact who
    gets reminders, sent at once or when quiet hours end; the ids of those queued."""
    client = appointment.client
    quiet = settings.quiet_hours
    send_at = after_quiet_hours(now, ZoneInfo(client.timezone), quiet[0], quiet[1])
    drafts = [
        outbox.Draft(
            idempotency_key=f"{kind}:{appointment.id}:{contact.id}:{change_id}",
            kind=kind,
            to_phone=contact.phone,
            body=body,
            send_at=send_at,
            client_id=client.id,
            contact_id=contact.id,
            appointment_id=appointment.id,
            # The time the notice tells of: the dispatcher drops it once the session moves on.
            planned_start=appointment.starts_at,
            created_by_id=actor_id,
        )
        for contact in client.contacts
        if contact.reminders
    ]
    return outbox.enqueue(session, drafts, now)


def queue_for_change(
    session: Session,
    settings: Settings,
    appointment: Appointment,
    before: str,
    old_start: datetime,
    change: AuditEntry,
    now: datetime,
) -> list[int]:
    """Queue the notice of a session to come that was just cancelled or moved (its status
    was ``before``, its start ``old_start``); the ids queued (none for other changes)."""
    client = appointment.client
    if appointment.status == AppointmentStatus.CANCELLED:
        if before not in UPCOMING or old_start <= now:
            return []
        kind, body = MessageKind.CANCEL_NOTICE, cancel_text(settings, client, old_start)
    elif appointment.starts_at != old_start and appointment.status in UPCOMING:
        kind, body = (
            MessageKind.MOVE_NOTICE,
            move_text(settings, client, appointment.starts_at, old_start),
        )
    else:
        return []
    return queue(session, settings, appointment, kind, body, change.id, now, change.user_id)
