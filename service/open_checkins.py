"""A check-in still waiting for its score behind a later text to the same phone.

The day-before check-in and a same-day reminder are planned at least 4 hours apart, the
check-in first when the session is late in the day; a client who answers the check-in
after the reminder arrived answers the latest text, the reminder. Such a score still
belongs to the check-in (it is the baseline before the session), so the reply service asks
here whether one is open and the understanding reads the reply with that in mind.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.relief import REPLY_WINDOW
from service.domain.vocabulary import LEFT, MessageKind
from service.models import InboundMessage, OutboundMessage
from service.reply_reads import Sent


def open_checkin(session: Session, latest: Sent, now: datetime) -> OutboundMessage | None:
    """The newest check-in to ``latest``'s phone about its client, sent no later than it and
    within the check-in's answer window (``relief.REPLY_WINDOW``), with no score recorded
    for it yet; None when there is none."""
    if latest.sent_at is None:
        return None
    scored = select(InboundMessage.id).where(
        InboundMessage.answers_message_id == OutboundMessage.id,
        InboundMessage.pain_score.is_not(None),
    )
    found: OutboundMessage | None = session.scalar(
        select(OutboundMessage)
        .where(
            OutboundMessage.to_phone == latest.to_phone,
            OutboundMessage.client_id == latest.client_id,
            OutboundMessage.kind == MessageKind.CHECKIN,
            OutboundMessage.status.in_(LEFT),
            OutboundMessage.sent_at >= now - REPLY_WINDOW,
            OutboundMessage.sent_at <= latest.sent_at,
            OutboundMessage.id != latest.id,
            ~scored.exists(),
        )
        .order_by(OutboundMessage.sent_at.desc(), OutboundMessage.id.desc())
        .limit(1)
    )
    return found
