"""The one call after an unanswered text, for contacts on ``sms_then_voice``.

A reminder or check-in text to such a contact (still at that number) that left us (sent,
delivered, or undelivered: a landline may still take the call) and that no message from the
number answered since is followed by one call, ``VOICE_FALLBACK_AFTER`` after it was sent,
at the first minute calls may ring (``domain.follow_up_calls.fallback_at``), and only when
the number may get calls (``domain.call_permission``), its session is still on at the time
the text named, and (a reminder) the call would ring before the session starts.

The clock runs ``run`` every minute. A call is queued only once it is due, so a reply that
comes while the call waits for call hours means no call is ever queued; one that comes in
the minute between the queuing and the dispatcher's next tick calls it off here first when
this job runs before the dispatcher (``jobs.clock.run_once``), and otherwise the call goes.
Every clock may run this at once: the call's key is the text's id
(``follow_up_calls.fallback_key``) and ``outbox.enqueue`` inserts it with ON CONFLICT DO
NOTHING, so it is made once. A call still planned is called off when a reply comes or the
contact leaves ``sms_then_voice`` (that, at once: ``roster.update_contact``; and the
dispatcher's final check holds back a call whose contact's channel no longer makes it,
``domain.sending.calls_it``). The same run calls off the calls made again (``redial``)
that a message from their number answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Exists, Row, String, cast, exists, literal, select
from sqlalchemy.orm import Session, aliased

from service import outbox, redial
from service.config import Settings
from service.domain import call_permission, follow_up_calls, sending
from service.domain.vocabulary import (
    CALLED_OFF,
    PLANNED_KINDS,
    Channel,
    ChannelPreference,
    MessageKind,
    MessageStatus,
)
from service.models import Appointment, Client, Contact, InboundMessage, OutboundMessage
from service.number_models import PhoneNumber

S = MessageStatus
# Texts that left us: a reply may answer them, and their call may follow.
LEFT_US = (S.SENT, S.DELIVERED, S.UNDELIVERED)
# How far back texts are looked at, beyond VOICE_FALLBACK_AFTER: a check-in's call may wait
# for call hours, and is not made LATE_CHECKIN after its time; a reminder's, before its
# session. A day of margin on top.
LOOK_BACK = follow_up_calls.LATE_CHECKIN + timedelta(days=1)
ANSWERED = sending.ANSWERED
NOT_WANTED = sending.NOT_CALLED_AFTER_TEXT

Text = aliased(OutboundMessage)
Call = aliased(OutboundMessage)


@dataclass
class FallbackCounts:
    """What one run did."""

    queued: int = 0
    called_off: int = 0


def _key_of_text() -> ColumnElement[str]:
    """The SQL of the key a fallback call of ``Text`` has (``follow_up_calls.fallback_key``)."""
    return literal(follow_up_calls.FALLBACK_PREFIX) + cast(Text.id, String)


def _answered_since() -> Exists:
    """A message from the text's number after it was sent."""
    return exists().where(
        InboundMessage.from_phone == Text.to_phone, InboundMessage.received_at > Text.sent_at
    )


def _candidates(session: Session, settings: Settings, now: datetime) -> list[Row[Any]]:
    """The texts whose call may be due: left, unanswered, no call made for them yet."""
    after = settings.voice_fallback_after
    N = PhoneNumber
    statement = (
        select(
            Text,
            Client.timezone,
            Appointment.status,
            Appointment.starts_at,
            N.voice_consent_at,
            N.voice_opted_out_at,
            N.invalid_at,
            N.invalid_reason,
        )
        .join(Contact, Contact.id == Text.contact_id)
        .join(Client, Client.id == Text.client_id)
        .join(Appointment, Appointment.id == Text.appointment_id)
        .join(N, N.phone == Text.to_phone)
        .where(
            Text.channel == Channel.SMS,
            Text.kind.in_(PLANNED_KINDS),
            Text.status.in_(LEFT_US),
            Text.send_at >= now - after - LOOK_BACK,
            Text.sent_at <= now - after,
            Contact.channel == ChannelPreference.SMS_THEN_VOICE,
            Contact.phone == Text.to_phone,
            N.voice_consent_at.is_not(None),
            ~exists().where(Call.idempotency_key == _key_of_text()),
            ~_answered_since(),
        )
        .order_by(Text.id)
    )
    return list(session.execute(statement))


def _draft(row: Row[Any], settings: Settings, now: datetime) -> outbox.Draft | None:
    """The call after this text when it is due now, or None."""
    text, zone, status, starts_at, consent_at, stopped_at, invalid_at, reason = tuple(row)
    if not call_permission.may_call(consent_at, stopped_at, invalid_at is not None, reason):
        return None
    if status in CALLED_OFF or text.planned_start is None:
        return None
    if int(starts_at.timestamp()) != int(text.planned_start.timestamp()):
        return None  # moved since: the text's session is not this one any more
    at = follow_up_calls.fallback_at(
        text.kind,
        text.sent_at,
        settings.voice_fallback_after,
        ZoneInfo(zone),
        settings.quiet_hours,
        starts_at if text.kind == MessageKind.REMINDER else None,
    )
    if at is None or at > now:
        return None
    return outbox.call_following(text, follow_up_calls.fallback_key(text.id), at)


def _call_off(session: Session, now: datetime) -> int:
    """Call off the fallback calls still planned whose text was answered since, or whose
    contact no longer wants texts then a call; how many."""
    contact_channel = select(Contact.channel).where(Contact.id == Call.contact_id).scalar_subquery()
    statement = (
        select(Call, _answered_since())
        .join(Text, _key_of_text() == Call.idempotency_key)
        .where(
            Call.status == S.PLANNED,
            Call.idempotency_key.startswith(follow_up_calls.FALLBACK_PREFIX),
            _answered_since()
            | (contact_channel != ChannelPreference.SMS_THEN_VOICE)
            | Call.contact_id.is_(None),
        )
    )
    called_off = 0
    for call, answered in session.execute(statement).all():
        reason = ANSWERED if answered else NOT_WANTED
        called_off += outbox.replan(session, call, now, status=S.CANCELLED, error_message=reason)
    return called_off


def run(session: Session, settings: Settings, now: datetime) -> FallbackCounts:
    """Call off the fallback calls no longer wanted and the calls made again that a reply
    answered (``redial.call_off_answered``), then queue the fallback calls now due."""
    called_off = _call_off(session, now) + redial.call_off_answered(session, now)
    counts = FallbackCounts(called_off=called_off)
    drafts = [d for row in _candidates(session, settings, now) if (d := _draft(row, settings, now))]
    counts.queued = len(outbox.enqueue(session, drafts, now))
    return counts
