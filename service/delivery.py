"""What the provider tells us after a send: status callbacks and permanent errors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import consent
from service.alerts import raise_alert
from service.models import OutboundMessage
from service.sms.gateway import INVALID_NUMBER_CODES, OPTED_OUT_CODES

# Twilio's statuses in the order a text moves through them; a callback may arrive late or
# twice, and a text never moves backwards (a delivered text never goes back to sent).
_RANK = {"queued": 0, "accepted": 0, "scheduled": 0, "sending": 1, "sent": 2}
_FINAL = {"delivered": "delivered", "undelivered": "undelivered", "failed": "failed"}
_OURS_RANK = {"sent": 2, "unknown": 2, "delivered": 3, "undelivered": 3, "failed": 3}


def apply_permanent_error(
    session: Session, message: OutboundMessage, code: int | None, now: datetime
) -> None:
    """Record what a provider error says about the number, and alert the practice."""
    kind = "delivery_failed"
    if code in OPTED_OUT_CODES:
        consent.opt_out(session, message.to_phone, now)
        kind = "opt_out"
    elif code in INVALID_NUMBER_CODES:
        consent.mark_invalid(session, message.to_phone, f"provider error {code}", now)
        kind = "invalid_number"
    raise_alert(
        session,
        kind,
        now,
        client_id=message.client_id,
        phone=message.to_phone,
        outbound_id=message.id,
        detail=f"provider error {code}" if code else "delivery failed",
    )


def _by_sid(session: Session, sid: str) -> OutboundMessage | None:
    return session.scalar(
        select(OutboundMessage).where(OutboundMessage.provider_sid == sid).with_for_update()
    )


def _wait_for_sends_to(session: Session, to_phone: str) -> None:
    """Wait until no send to ``to_phone`` is in flight.

    A dispatcher holds the lock of the text it is sending (on SQLite, the write lock) from
    before the request to Twilio until the sid is recorded; a callback can arrive in
    between. This no-op update queues behind that lock (PostgreSQL re-checks the row once
    it is free, finds it no longer ``sending`` and changes nothing), so that afterwards the
    sid is committed and can be found.
    """
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_phone == to_phone, OutboundMessage.status == "sending")
        .values(status=OutboundMessage.status)
        .execution_options(synchronize_session=False)
    )


def apply_status(
    session: Session,
    sid: str,
    status: str,
    error_code: int | None,
    now: datetime,
    to_phone: str | None = None,
) -> str:
    """Apply one status callback; return what it did (for the log).

    A callback for a sid not recorded yet may belong to a send still in flight to
    ``to_phone``: it waits for that send to be recorded, rather than being dropped.
    """
    message = _by_sid(session, sid)
    if message is None and to_phone:
        session.commit()  # a fresh transaction sees what the dispatcher commits meanwhile
        _wait_for_sends_to(session, to_phone)
        message = _by_sid(session, sid)
    if message is None:
        return "unknown sid"
    current = _OURS_RANK.get(message.status, 0)
    if status in _FINAL:
        if current >= 3:
            return "ignored: already final"
        message.status = _FINAL[status]
        message.error_code = error_code
        message.updated_at = now
        if status != "delivered":
            # Every failed delivery reaches the inbox; opt-out and invalid-number codes
            # also change what we know about the number.
            apply_permanent_error(session, message, error_code, now)
        return f"now {message.status}"
    if status in _RANK and _RANK[status] > current:
        message.status, message.updated_at = "sent", now
        return "now sent"
    return "ignored: out of order"
