"""The outbox's transitions for one channel of a number: texts and calls to one number are
stopped apart (STOP by text stops texts, not calls; a number texts cannot reach as a
landline may still be called: ``domain.call_permission``; calls withdrawn or stopped skip
the calls that follow another message, not texts; a contact moved off the channel that
makes a follow-up call calls it off); and the lock a call is held by while
the call that follows it is decided (``service.redial``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.domain import sending
from service.domain.follow_up_calls import FOLLOW_UP_PREFIXES
from service.domain.vocabulary import Channel
from service.models import OutboundMessage
from service.outbox.claims import hold_writes
from service.outbox.moves import M, S, bulk


def skip_planned_on(
    session: Session, phone: str, channel: Channel, reason: str, now: datetime
) -> int:
    """Skip the messages of ``channel`` still planned to ``phone``; how many."""
    planned = [M.to_phone == phone, M.channel == channel, M.status == S.PLANNED]
    return bulk(session, planned, now, status=S.SKIPPED, error_message=reason[:500])


def skip_follow_up_calls(session: Session, phone: str, reason: str, now: datetime) -> int:
    """Skip the calls still planned to ``phone`` that follow another message (the call after
    an unanswered text, a call made again: ``domain.follow_up_calls``); how many.

    These are the calls no re-plan reaches: the planner leaves their keys alone. Its own
    calls are the planner's to call off (cancelled when their contact goes back to texts,
    and so planned again if calls are agreed again; a skip with a reason would keep them
    skipped for good)."""
    follow_ups = or_(*(M.idempotency_key.startswith(p) for p in FOLLOW_UP_PREFIXES))
    planned = [M.to_phone == phone, M.channel == Channel.VOICE, M.status == S.PLANNED, follow_ups]
    return bulk(session, planned, now, status=S.SKIPPED, error_message=reason[:500])


def cancel_follow_up_calls_of(
    session: Session, contact_id: int, channel: str, now: datetime
) -> int:
    """Cancel the calls still planned to contact ``contact_id``, now on ``channel``, that
    follow another message and that channel no longer makes (``sending.calls_it``: off
    calls, none; on ``voice``, no call after an unanswered text), each with the reason the
    dispatcher's final check would give (``sending.not_called``); how many.

    Like ``skip_follow_up_calls``, these are the calls no re-plan reaches; the planner's
    own calls are re-planned by the change of channel itself."""
    cancelled = 0
    for prefix in FOLLOW_UP_PREFIXES:
        if sending.calls_it(prefix, channel):
            continue
        planned = [
            M.contact_id == contact_id,
            M.channel == Channel.VOICE,
            M.status == S.PLANNED,
            M.idempotency_key.startswith(prefix),
        ]
        reason = sending.not_called(prefix)
        cancelled += bulk(session, planned, now, status=S.CANCELLED, error_message=reason)
    return cancelled


def lock_call(session: Session, message_id: int, now: datetime) -> OutboundMessage | None:
    """The call ``message_id``, read fresh and locked until the transaction ends (two
    reports of its end take turns; SQLite: its single write lock); None when it is gone or
    is no call."""
    if session.get_bind().dialect.name == "sqlite":
        hold_writes(session, [message_id], now)
    locked = select(M).where(M.id == message_id, M.channel == Channel.VOICE).with_for_update()
    return session.scalar(locked.execution_options(populate_existing=True))
