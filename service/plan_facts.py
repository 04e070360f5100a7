"""What the pure planner (``service.domain.planning``) is told: the practice's rules with
the wording in force, and each appointment's facts read from its rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from service import rhythm
from service.config import Settings
from service.domain import planning
from service.domain.vocabulary import AppointmentStatus
from service.domain.wording import Wording
from service.models import SELF, Appointment, Client, Contact


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
) -> planning.AppointmentFacts:
    return planning.AppointmentFacts(
        id=appointment.id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        status=appointment.status,
        timezone=client.timezone,
        language=client.language,
        client_name=client.name,
        recipients=tuple(recipient(c) for c in client.contacts),
        next_start=next_start,
        checkin_offsets=rhythm.own_checkins(client),
        expected_next=expected_next,
    )


def recipient(contact: Contact) -> planning.Recipient:
    """The planner's view of a contact: its number, the kinds it wants, and (a caregiver)
    the name its texts greet."""
    return planning.Recipient(
        contact_id=contact.id,
        phone=contact.phone,
        reminders=contact.reminders,
        checkins=contact.checkins,
        caregiver=contact.relation != SELF,
        name=contact.name,
    )


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
