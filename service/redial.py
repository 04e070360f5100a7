"""Calling again after a reminder or check-in call ended busy, unanswered, or on an
answering machine.

When a call's final status arrives (the voice status webhook), ``plan_retry`` queues the
next call the rules allow (``domain.call_retries.next_call``: busy or no answer, at most two
more, 30 minutes apart; a machine on a check-in, one more 2 hours later; never more than
four calls for one message; inside call hours), as a new outbox row under a key made of the
ended call's id and its outcome (``domain.follow_up_calls.retry_key``). The outcomes of the
message's earlier calls are read back along those keys.

One call is made again at most once: the ended call's row is locked while its retry is
decided (``outbox.channels.lock_call``), and a retry already queued for it ends the matter,
so a status report delivered twice, or two reports at once, queue one call. No call is
made again to a number that may no longer get calls (``domain.call_permission``), for a
contact removed or no longer called, or for a session called off, moved, (a reminder)
confirmed already, or (a reminder) begun by the time the call would ring: the dispatcher's
final check would hold most of these back anyway, but then it would never have been a call
worth queuing.

A call made again is for a client we could not reach; one who has since written to us (a
"C" by text after the busy call, a pain score) has been reached, and a call asking again
would ring for nothing. ``call_off_answered`` (run every minute with the calls after an
unanswered text, ``voice_fallback.run``) cancels, with the fallback's reason, every call
made again still planned whose number sent any message after the call it follows was
placed. As with the fallback, a reply in the last minute before the call rings may not
reach it in time.

``quiet`` is the practice's quiet hours (``Settings.quiet_hours``); a call rings only
outside them and within call hours. Nothing here commits: the caller ends the unit of work.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import outbox
from service.domain import call_permission, follow_up_calls, sending
from service.domain.call_retries import Outcome, next_call
from service.domain.vocabulary import (
    CALLED_OFF,
    PLANNED_KINDS,
    AppointmentStatus,
    Channel,
    MessageKind,
    MessageStatus,
)
from service.models import Appointment, Contact, InboundMessage, OutboundMessage, PhoneNumber
from service.outbox.channels import lock_call

NO_QUIET_HOURS = (time(0, 0), time(0, 0))
# Contacts whose channel calls: a call of theirs may be made again.
CALLED = sending.RETRY_CALLS
M = OutboundMessage


def earlier_outcomes(session: Session, call: OutboundMessage) -> list[Outcome]:
    """How the calls made for the same message before ``call`` ended, oldest first."""
    outcomes: list[Outcome] = []
    key = call.idempotency_key
    for _ in range(follow_up_calls.MAX_CHAIN):
        followed = follow_up_calls.retried_after(key)
        if followed is None:
            break
        earlier_id, outcome = followed
        outcomes.insert(0, outcome)
        earlier = session.scalar(
            select(OutboundMessage.idempotency_key).where(OutboundMessage.id == earlier_id)
        )
        if earlier is None:
            break
        key = earlier
    return outcomes


def _still_wanted(session: Session, call: OutboundMessage) -> Appointment | None:
    """The session a reminder or check-in call was for, when a call for it may still be
    made: the number may get calls, the contact is still called there, and the session is
    still on at the call's time; None otherwise."""
    number = session.get(PhoneNumber, call.to_phone)
    if number is None or not call_permission.may_call(
        number.voice_consent_at,
        number.voice_opted_out_at,
        number.invalid_at is not None,
        number.invalid_reason,
    ):
        return None
    contact = session.get(Contact, call.contact_id) if call.contact_id else None
    if contact is None or contact.phone != call.to_phone or contact.channel not in CALLED:
        return None
    appointment = session.get(Appointment, call.appointment_id) if call.appointment_id else None
    if appointment is None or appointment.status in CALLED_OFF or call.planned_start is None:
        return None
    if call.kind == MessageKind.REMINDER and appointment.status == AppointmentStatus.CONFIRMED:
        return None  # nothing left to ask: the reminder's call asks for a confirmation
    moved = int(call.planned_start.timestamp()) != int(appointment.starts_at.timestamp())
    return None if moved else appointment


def plan_retry(
    session: Session,
    message_id: int,
    outcome: Outcome,
    ended_at: datetime,
    now: datetime,
    *,
    quiet: tuple[time, time] = NO_QUIET_HOURS,
) -> int | None:
    """Queue the call that follows reminder or check-in call ``message_id``, ended at
    ``ended_at`` with ``outcome``, when the rules allow one; its id, or None (no call, or
    one already queued)."""
    call = lock_call(session, message_id, now)
    if call is None or call.kind not in PLANNED_KINDS:
        return None
    queued = select(OutboundMessage.id).where(
        OutboundMessage.idempotency_key.startswith(follow_up_calls.retries_of(call.id))
    )
    if session.scalar(queued.limit(1)) is not None:
        return None
    appointment = _still_wanted(session, call)
    if appointment is None:
        return None
    at = next_call(
        call.kind,
        outcome,
        ended_at,
        ZoneInfo(appointment.client.timezone),
        quiet,
        earlier=earlier_outcomes(session, call),
        not_after=appointment.starts_at if call.kind == MessageKind.REMINDER else None,
    )
    if at is None:
        return None
    draft = outbox.call_following(call, follow_up_calls.retry_key(call.id, outcome), at)
    return outbox.enqueue_one(session, draft, now)


def call_off_answered(session: Session, now: datetime) -> int:
    """Cancel the calls made again still planned whose number sent us a message (a text, or
    keys pressed in a call) after the call they follow was placed; how many."""
    planned = select(M).where(
        M.status == MessageStatus.PLANNED,
        M.channel == Channel.VOICE,
        M.idempotency_key.startswith(follow_up_calls.RETRY_PREFIX),
    )
    redials = list(session.scalars(planned))
    follows = {
        r.id: f[0] for r in redials if (f := follow_up_calls.retried_after(r.idempotency_key))
    }
    if not follows:
        return 0
    placed_at = func.coalesce(M.sent_at, M.claimed_at, M.send_at)
    ended = select(M.id, placed_at).where(M.id.in_(sorted(set(follows.values()))))
    placed = {r[0]: r[1] for r in session.execute(ended)}
    heard_last = (
        select(InboundMessage.from_phone, func.max(InboundMessage.received_at))
        .where(InboundMessage.from_phone.in_(sorted({r.to_phone for r in redials})))
        .group_by(InboundMessage.from_phone)
    )
    latest = {r[0]: r[1] for r in session.execute(heard_last)}
    called_off = 0
    for call in redials:
        since, heard = placed.get(follows.get(call.id, 0)), latest.get(call.to_phone)
        if since is not None and heard is not None and heard > since:
            cancelled = MessageStatus.CANCELLED
            called_off += outbox.replan(
                session, call, now, status=cancelled, error_message=sending.ANSWERED
            )
    return called_off
