"""JSON shapes of the API; times carry the client's local offset."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from service import call_consent
from service.domain import calendar_names, series_words
from service.domain.sampling import AUTO
from service.models import (
    Appointment,
    AppointmentSeries,
    Client,
    Contact,
    InboundMessage,
    OutboundMessage,
    PhoneNumber,
)


def local_iso(at: datetime | None, tz: str) -> str | None:
    """An instant as an RFC 3339 date-time at the offset of the zone ``tz``."""
    if at is None:
        return None
    local = at.astimezone(ZoneInfo(tz))
    offset = local.utcoffset() or timedelta(0)
    if offset.total_seconds() % 60:
        # Local mean time (Monrovia until 1972: -00:44:30) has seconds that RFC 3339 offsets
        # cannot carry: the same instant at the nearest whole-minute offset instead.
        local = at.astimezone(timezone(timedelta(minutes=round(offset.total_seconds() / 60))))
    return local.isoformat()


def contact_json(contact: Contact, consent: Mapping[str, PhoneNumber]) -> dict[str, Any]:
    """A contact with its number's consent state: for texts (``opted_out``) and, apart, for
    calls (``voice_consent``, since ``voice_consent_at``; ``calls_stopped`` by the number)."""
    row, tz = consent.get(contact.phone), contact.client.timezone
    return {
        "id": contact.id,
        "client_id": contact.client_id,
        "name": contact.name,
        "relation": contact.relation,
        "phone": contact.phone,
        "reminders": contact.reminders,
        "checkins": contact.checkins,
        "channel": contact.channel,
        "opted_out": bool(row and row.opted_out),
        "invalid": bool(row and row.invalid_at),
        "voice_consent": call_consent.agreed(row),
        "voice_consent_at": local_iso(row.voice_consent_at, tz) if row else None,
        "calls_stopped": call_consent.stopped_by_caller(row),
    }


def client_json(client: Client, consent: Mapping[str, PhoneNumber]) -> dict[str, Any]:
    """A client with its contacts; ``opted_out`` is about the client's own number.
    ``calendar_name`` is the one saved (null: the default), ``calendar_name_in_use`` the
    one calendar feeds are matched by (the saved one, else first name and last initial)."""
    own = client.own_contact
    row = consent.get(own.phone) if own else None
    return {
        "id": client.id,
        "name": client.name,
        "phone": own.phone if own else None,
        "timezone": client.timezone,
        "language": client.language,
        "therapist_id": client.therapist_id,
        "notes": client.notes,
        "checkin_days": _checkin_days(client.checkin_days),
        "calendar_name": client.calendar_name,
        "calendar_name_in_use": calendar_names.name_in_use(client.calendar_name, client.name),
        "opted_out": bool(row and row.opted_out),
        "contacts": [contact_json(c, consent) for c in client.contacts],
    }


def series_json(
    series: AppointmentSeries, upcoming: list[datetime], language: str = "en"
) -> dict[str, Any]:
    """A series with the next starts of its occurrences and its rule in words."""
    tz = series.timezone
    summary = series_words.summary(
        series.rrule,
        series.starts_local,
        series.duration_minutes,
        last_day=series_words.last_day(series.ends_at, tz),
        timezone=tz,
        language=language,
    )
    return {
        "id": series.id,
        "client_id": series.client_id,
        "rrule": series.rrule,
        "summary": summary,
        "starts_at": series.starts_local.isoformat(timespec="minutes"),
        "duration_minutes": series.duration_minutes,
        "timezone": tz,
        "ends_at": local_iso(series.ends_at, tz),
        "next": [local_iso(at, tz) for at in upcoming],
    }


def appointment_json(appointment: Appointment, tz: str) -> dict[str, Any]:
    """One appointment in the client's local time."""
    return {
        "id": appointment.id,
        "client_id": appointment.client_id,
        "series_id": appointment.series_id,
        "starts_at": local_iso(appointment.starts_at, tz),
        "ends_at": local_iso(appointment.ends_at, tz),
        "status": appointment.status,
    }


def message_json(message: OutboundMessage, tz: str) -> dict[str, Any]:
    """One outbound message, planned or sent: a text, or a call (``channel`` "voice")."""
    return {
        "id": message.id,
        "client_id": message.client_id,
        "contact_id": message.contact_id,
        "to": message.to_phone,
        "channel": message.channel,
        "kind": message.kind,
        "appointment_id": message.appointment_id,
        "send_at": local_iso(message.send_at, tz),
        "sent_at": local_iso(message.sent_at, tz),
        "status": message.status,
        "body": message.body,
        "template_id": message.template_id,
        "provider_sid": message.provider_sid,
        "error_code": message.error_code,
    }


def reply_json(reply: InboundMessage, tz: str) -> dict[str, Any]:
    """One reply from a client's phone: a text (``channel`` "sms"), or keys pressed during
    a call ("voice", the digits as the body)."""
    return {
        "id": reply.id,
        "client_id": reply.client_id,
        "contact_id": reply.contact_id,
        "from": reply.from_phone,
        "channel": reply.channel,
        "body": reply.body,
        "received_at": local_iso(reply.received_at, tz),
        "intent": reply.intent,
        "pain": reply.pain_score,
        "note": reply.note,
        "appointment_id": reply.appointment_id,
        "message_id": reply.answers_message_id,
        "provider_sid": reply.provider_sid,
    }


def _checkin_days(stored: str | None) -> list[int] | str | None:
    """A client's check-in days as the API gives them: ``[1, 3, 5]``, ``"auto"`` or null."""
    if stored is None or stored == AUTO:
        return stored
    return [int(d) for d in stored.split(",")]
