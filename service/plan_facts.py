"""What the pure planner (``service.domain.planning``) is told: the practice's rules with
the wording in force, and each appointment's facts read from its rows.

A contact on the ``voice`` channel is planned calls only while its number may get calls
(``domain.call_permission``: agreed, not stopped, not found invalid). Otherwise it is
planned texts, as a contact on ``sms`` is: a contact who chose calls is better reminded by
a text it may not answer than not at all, and the roster lets no contact choose calls
without the agreement, so this covers a number found invalid, or stopped or withdrawn
before its contacts were moved to texts (``call_consent.back_to_texts``). Once the number
may be called again, the next re-plan plans calls again. ``sms_then_voice`` is planned
texts; its one call after an unanswered text is ``voice_fallback``'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bulk_rows, rhythm
from service.config import Settings
from service.domain import call_permission, planning, repeats
from service.domain.vocabulary import (
    IN_FLIGHT,
    LEFT,
    AppointmentStatus,
    Channel,
    ChannelPreference,
)
from service.domain.wording import Wording
from service.models import SELF, Appointment, Client, Contact, OutboundMessage, PhoneNumber


def plan_settings(settings: Settings, in_force: Wording | None = None) -> planning.PlanSettings:
    """The planner's view of the practice's settings, with the wording in force (by
    default the shipped wording)."""
    return planning.PlanSettings(
        reminder_offsets=settings.reminder_offsets,
        checkin_offsets=settings.checkin_offsets,
        quiet_start=settings.quiet_hours[0],
        quiet_end=settings.quiet_hours[1],
        practice_name=settings.practice_name,
        wording=in_force or Wording.shipped(),
        plain_names=settings.names_in_texts == "plain_letters",
        practice_phone=settings.practice_phone_shown,
    )


def facts(
    appointment: Appointment,
    client: Client,
    next_start: datetime | None,
    expected_next: datetime | None = None,
    went: tuple[repeats.Went, ...] = (),
    callable_phones: Collection[str] = (),
) -> planning.AppointmentFacts:
    """The appointment's facts; ``callable_phones``: the numbers that may get calls."""
    return planning.AppointmentFacts(
        id=appointment.id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        status=appointment.status,
        timezone=client.timezone,
        language=client.language,
        client_name=client.name,
        recipients=tuple(recipient(c, c.phone in callable_phones) for c in client.contacts),
        next_start=next_start,
        checkin_offsets=rhythm.own_checkins(client),
        expected_next=expected_next,
        went=went,
    )


def recipient(contact: Contact, callable_phone: bool = False) -> planning.Recipient:
    """The planner's view of a contact: its number, the kinds it wants, (a caregiver) the
    name its texts greet, and calls when it chose them and its number may get them."""
    calls = contact.channel == ChannelPreference.VOICE and callable_phone
    return planning.Recipient(
        contact_id=contact.id,
        phone=contact.phone,
        reminders=contact.reminders,
        checkins=contact.checkins,
        caregiver=contact.relation != SELF,
        name=contact.name,
        channel=Channel.VOICE if calls else Channel.SMS,
    )


def callable_phones(session: Session, appointments: Sequence[Appointment]) -> set[str]:
    """The numbers of these appointments' contacts on the voice channel that may get calls
    (one query, none when no contact is on it)."""
    phones = sorted(
        {
            c.phone
            for a in appointments
            for c in a.client.contacts
            if c.channel == ChannelPreference.VOICE
        }
    )
    if not phones:
        return set()
    N = PhoneNumber
    rows = session.execute(
        select(
            N.phone, N.voice_consent_at, N.voice_opted_out_at, N.invalid_at, N.invalid_reason
        ).where(bulk_rows.among(session, N.phone, phones))
    )
    return {
        phone
        for phone, consent_at, stopped_at, invalid_at, reason in rows
        if call_permission.may_call(consent_at, stopped_at, invalid_at is not None, reason)
    }


def next_starts(appointments: Sequence[Appointment]) -> dict[int, datetime | None]:
    """For each appointment, the start of its client's next non-cancelled one after it."""
    by_client: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        if appointment.status != AppointmentStatus.CANCELLED:
            by_client[appointment.client_id].append(appointment)
    following: dict[int, datetime | None] = {}
    for rows in by_client.values():
        rows.sort(key=lambda a: (a.starts_at, a.id))
        for current in rows:
            later = [a.starts_at for a in rows if a.starts_at > current.starts_at]
            following[current.id] = min(later) if later else None
    return following


def went(rows: Iterable[OutboundMessage]) -> dict[int, tuple[repeats.Went, ...]]:
    """For each appointment among these texts' (the planner's, already loaded), its texts
    that left us or may be leaving, to a contact still on file."""
    found: dict[int, list[repeats.Went]] = defaultdict(list)
    for row in rows:
        if row.status not in (*LEFT, *IN_FLIGHT) or row.contact_id is None:
            continue
        if row.appointment_id is None:
            continue
        text = repeats.Went(
            key=row.idempotency_key,
            kind=row.kind,
            contact_id=row.contact_id,
            at=row.sent_at or row.send_at,
            planned_start=row.planned_start,
        )
        found[row.appointment_id].append(text)
    return {appointment: tuple(texts) for appointment, texts in found.items()}
