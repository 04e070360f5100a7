"""Notices: the texts that tell a client the practice moved or cancelled a session.

``service.bookings`` queues them, when asked to (the dashboard offers them checked, the API
with ``"notify": true``), after the change is written. They go to every contact of the
client who gets reminders, each worded for its reader (the client's own phone "Your
appointment ...", a caregiver greeted and told whose: "Hi Rosa, Maria's appointment ..."),
through ``service.outbox`` like any other text, keyed by the change's audit entry and the
contact, so one change queues one notice per person and the dispatcher's claim sends each
once. Like a planned text, a notice queued inside quiet hours waits for their end in the
client's zone. The dispatcher's last check (``domain.sending``) drops a notice a later
change made untrue: a move notice once the session moved again or was cancelled, a
cancellation once the session is back.

A notice names the time the client was last told of (``told_start``): after A -> B -> C
with B's notice still waiting (quiet hours), C's notice says "was A", because B's is
dropped and the client never heard of B; and a move back to A tells nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import outbox, wording_in_force
from service.config import Settings
from service.domain import texts
from service.domain.quiet import after_quiet_hours
from service.domain.vocabulary import (
    UPCOMING,
    AppointmentStatus,
    MessageKind,
    MessageStatus,
    TextKind,
)
from service.domain.wording import Wording, for_recipient
from service.models import Appointment, AuditEntry, Client, Contact, OutboundMessage


def _local(at: datetime, client: Client) -> datetime:
    return at.astimezone(ZoneInfo(client.timezone)).replace(tzinfo=None)


def _names(client: Client, contact: Contact | None) -> tuple[bool, dict[str, str]]:
    """Whom a notice greets and whose session it is: the client on their own phone (or with
    no contact given, as the dashboard's preview), the caregiver about the client otherwise;
    the same rule as the planner's reminders (``plan_facts.recipient``)."""
    if contact is None or contact.is_own:
        return False, {"recipient": client.name}
    return True, {"recipient": contact.name, "client": client.name}


def _written(
    settings: Settings,
    in_force: Wording | None,
    kind: TextKind,
    client: Client,
    contact: Contact | None,
    **when: str,
) -> tuple[str, int | None]:
    """A notice of this kind worded for ``contact`` (its caregiver variant to a caregiver),
    and its template id."""
    caregiver, names = _names(client, contact)
    values = wording_in_force.values(settings, **names, **when)
    if caregiver:
        kind = for_recipient(kind, values["client_first_name"])
    return (in_force or Wording.shipped()).write(kind, client.language, values)


def move_written(
    settings: Settings,
    client: Client,
    new_start: datetime,
    old_start: datetime,
    contact: Contact | None = None,
    *,
    in_force: Wording | None = None,
) -> tuple[str, int | None]:
    """The move notice ``contact`` gets (the client's own wording when None) in the wording
    in force (the shipped one when None), and its template id."""
    new = texts.format_local(_local(new_start, client), client.language)
    old = texts.format_local(_local(old_start, client), client.language)
    kind = TextKind.MOVE_NOTICE
    return _written(settings, in_force, kind, client, contact, when=new, was=old)


def move_text(
    settings: Settings,
    client: Client,
    new_start: datetime,
    old_start: datetime,
    *,
    in_force: Wording | None = None,
) -> str:
    """The move notice the client's own phone gets, as the dashboard previews it."""
    return move_written(settings, client, new_start, old_start, in_force=in_force)[0]


def cancel_written(
    settings: Settings,
    client: Client,
    start: datetime,
    contact: Contact | None = None,
    *,
    in_force: Wording | None = None,
) -> tuple[str, int | None]:
    """The cancellation notice ``contact`` gets (the client's own wording when None), and
    its template id; its reply hint offers the practice phone when the text still fits one
    segment."""
    when = texts.format_local(_local(start, client), client.language)
    return _written(settings, in_force, TextKind.CANCEL_NOTICE, client, contact, when=when)


def cancel_text(
    settings: Settings, client: Client, start: datetime, *, in_force: Wording | None = None
) -> str:
    """The cancellation notice the client's own phone gets, as the dashboard previews it."""
    return cancel_written(settings, client, start, in_force=in_force)[0]


def told_start(session: Session, appointment_id: int, start: datetime) -> datetime:
    """The start the client last heard of, for a session that starts at ``start`` now: the
    time the earliest move notice still waiting to leave moved it from (that notice and any
    later one will be dropped as untrue), else ``start``."""
    waiting = session.scalars(
        select(OutboundMessage.idempotency_key)
        .where(
            OutboundMessage.appointment_id == appointment_id,
            OutboundMessage.kind == MessageKind.MOVE_NOTICE,
            OutboundMessage.status == MessageStatus.PLANNED,
        )
        .order_by(OutboundMessage.id)
    ).first()
    if waiting is None:
        return start
    change = session.get(AuditEntry, int(waiting.rsplit(":", 1)[1]))
    moved_from = (change.detail or {}).get("moved_from") if change is not None else None
    return datetime.fromisoformat(moved_from) if moved_from else start


def queue(
    session: Session,
    settings: Settings,
    appointment: Appointment,
    kind: MessageKind,
    body: Callable[..., tuple[str, int | None]],
    change_id: int,
    now: datetime,
    actor_id: int | None = None,
) -> list[int]:
    """Queue one notice of this change (``change_id``: its audit entry) to each contact who
    gets reminders, worded for them by ``body`` (a contact and the wording in force: the
    text and its template id), sent at once or when quiet hours end; the ids of those
    queued."""
    client = appointment.client
    in_force = wording_in_force.current(session)
    written = {c.id: body(c, in_force=in_force) for c in client.contacts if c.reminders}
    quiet = settings.quiet_hours
    send_at = after_quiet_hours(now, ZoneInfo(client.timezone), quiet[0], quiet[1])
    drafts = [
        outbox.Draft(
            idempotency_key=f"{kind}:{appointment.id}:{contact.id}:{change_id}",
            kind=kind,
            to_phone=contact.phone,
            body=written[contact.id][0],
            template_id=written[contact.id][1],
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
    told = told_start(session, appointment.id, old_start)
    if appointment.status == AppointmentStatus.CANCELLED:
        if before not in UPCOMING or old_start <= now:
            return []
        kind, body = MessageKind.CANCEL_NOTICE, partial(cancel_written, settings, client, told)
    elif appointment.starts_at not in (old_start, told) and appointment.status in UPCOMING:
        new = appointment.starts_at
        kind, body = MessageKind.MOVE_NOTICE, partial(move_written, settings, client, new, told)
    else:
        return []  # nothing changed that the client knows of
    return queue(session, settings, appointment, kind, body, change.id, now, change.user_id)
