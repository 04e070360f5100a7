"""The outbox's transitions for one channel of a number: texts and calls to one number are
stopped apart (STOP by text stops texts, not calls; a number texts cannot reach as a
landline may still be called: ``domain.call_permission``); and the lock a call is held by
while the call that follows it is decided (``service.redial``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def lock_call(session: Session, message_id: int, now: datetime) -> OutboundMessage | None:
    """The call ``message_id``, read fresh and locked until the transaction ends (two
    reports of its end take turns; SQLite: its single write lock); None when it is gone or
    is no call."""
    if session.get_bind().dialect.name == "sqlite":
        hold_writes(session, [message_id], now)
    locked = select(M).where(M.id == message_id, M.channel == Channel.VOICE).with_for_update()
    return session.scalar(locked.execution_options(populate_existing=True))
