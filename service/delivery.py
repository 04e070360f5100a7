"""What the provider tells us after a send: status reports and permanent errors.

Nothing here commits: the caller (the status webhook, the dispatcher) ends the unit of
work. A report for a sid not recorded yet may belong to a send still in flight; the
webhook then commits, waits for that send (``outbox.wait_for_sends_to``) and applies the
report again, so a report racing its own send is never dropped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service import consent, outbox
from service.alerts import raise_alert
from service.domain.provider_errors import explain
from service.domain.vocabulary import AlertKind, MessageStatus
from service.models import OutboundMessage
from service.sms.gateway import INVALID_NUMBER_CODES, OPTED_OUT_CODES

UNKNOWN_SID = "unknown sid"
# Error 30006 on a text: a landline (or a carrier that takes no texts), which a call may
# still reach; the inbox item says so (issue 18), the number keeps ``explain``'s reason.
LANDLINE = 30006
LANDLINE_WORDS = (
    "This number looks like a landline: it cannot get texts. Calls may reach it — set the "
    "contact to voice with their agreement."
)


def apply_permanent_error(
    session: Session, message: OutboundMessage, code: int | None, now: datetime
) -> None:
    """Record what a provider error says about the number, and alert the practice."""
    apply_to_number(session, message.to_phone, code, now)
    alert_permanent_error(session, message, code, now)


def tells_of_number(code: int | None) -> bool:
    """True when a provider error says something about the number itself."""
    return code in OPTED_OUT_CODES or code in INVALID_NUMBER_CODES


def apply_to_number(session: Session, phone: str, code: int | None, now: datetime) -> None:
    """What a provider error says about the number: it opted out, or it is invalid."""
    if code in OPTED_OUT_CODES:
        consent.opt_out(session, phone, now)
    elif code in INVALID_NUMBER_CODES:
        consent.mark_invalid(session, phone, explain(code), now)


def alert_permanent_error(
    session: Session, message: OutboundMessage, code: int | None, now: datetime
) -> None:
    """Tell the practice a message failed for good, and what that says of its number."""
    kind = AlertKind.DELIVERY_FAILED
    if code in OPTED_OUT_CODES:
        kind = AlertKind.OPT_OUT
    elif code in INVALID_NUMBER_CODES:
        kind = AlertKind.INVALID_NUMBER
    raise_alert(
        session,
        kind,
        now,
        client_id=message.client_id,
        phone=message.to_phone,
        outbound_id=message.id,
        detail=LANDLINE_WORDS if code == LANDLINE else explain(code),
    )


def apply_status(
    session: Session, sid: str, status: str, error_code: int | None, now: datetime
) -> str:
    """Apply one status report; what it did (for the log), ``UNKNOWN_SID`` when no message
    carries that sid (yet)."""
    message = outbox.by_sid(session, sid)
    if message is None:
        return UNKNOWN_SID
    became = outbox.settle(session, message, status, error_code, now)
    if became is None:
        return "ignored: already final or out of order"
    if became in (MessageStatus.UNDELIVERED, MessageStatus.FAILED):
        # Every failed delivery reaches the inbox; opt-out and invalid-number codes also
        # change what we know about the number.
        apply_permanent_error(session, message, error_code, now)
    return f"now {became}"
