"""The outbox's transitions for one channel of a number: texts and calls to one number are
stopped apart (STOP by text stops texts, not calls; a number texts cannot reach as a
landline may still be called: ``domain.call_permission``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.domain.vocabulary import Channel
from service.outbox.moves import M, S, bulk


def skip_planned_on(
    session: Session, phone: str, channel: Channel, reason: str, now: datetime
) -> int:
    """Skip the messages of ``channel`` still planned to ``phone``; how many."""
    planned = [M.to_phone == phone, M.channel == channel, M.status == S.PLANNED]
    return bulk(session, planned, now, status=S.SKIPPED, error_message=reason[:500])
