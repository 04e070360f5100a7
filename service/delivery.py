"""What the provider tells us after a send (a text or a call): status reports and permanent
errors.

Nothing here commits: the caller (the status webhook, the dispatcher) ends the unit of
work. A report for a sid not recorded yet may belong to a send still in flight; the
webhook then commits, waits for that send (``outbox.wait_for_sends_to``) and applies the
report again, so a report racing its own send is never dropped.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy.orm import Session

from service import consent, outbox, redial
from service.alerts import raise_alert
from service.domain.call_retries import Outcome, outcome_of
from service.domain.provider_errors import explain
from service.domain.vocabulary import AlertKind, MessageKind, MessageStatus
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


# How a call that ended is recorded on its outbox row (``call_retries.outcome_of`` reads
# Twilio's CallStatus and AnsweredBy): a person answered, or a machine took a reminder's
# short message, "delivered"; a machine on a check-in (nothing is left), busy or no answer,
# "undelivered" (no inbox item: a new call may follow); a failure (a bad number, a fax, a
# cancelled call), "failed", which reaches the inbox as a text's failure does.
CALL_ENDS = frozenset(["completed", "busy", "no-answer", "failed", "canceled"])
_CALL_RECORDED: dict[Outcome, str] = {
    "answered": "delivered",
    "busy": "undelivered",
    "no_answer": "undelivered",
    "failed": "failed",
}


def apply_call_status(
    session: Session,
    sid: str,
    call_status: str,
    answered_by: str,
    error_code: int | None,
    now: datetime,
    quiet: tuple[time, time],
) -> str:
    """Apply the status report of a call; what it did (for the log), ``UNKNOWN_SID`` when no
    message carries that call sid (yet). Reports of a call not ended yet change nothing.
    A call that rang out, found the line busy or a machine is followed by the call the
    retry rules allow (``redial.plan_retry``, outside ``quiet`` hours), once."""
    if call_status not in CALL_ENDS:
        return "ignored: the call has not ended"
    message = outbox.by_sid(session, sid)
    if message is None:
        return UNKNOWN_SID
    outcome = outcome_of(call_status, answered_by)
    if outcome == "machine":
        recorded = "delivered" if message.kind == MessageKind.REMINDER else "undelivered"
    else:
        recorded = _CALL_RECORDED[outcome]
    became = outbox.settle(session, message, recorded, error_code, now)
    if became is None:
        return f"{outcome}: ignored, already final"
    if outcome in ("busy", "no_answer", "machine"):
        redial.plan_retry(session, message.id, outcome, now, now, quiet=quiet)
    if became == MessageStatus.FAILED:
        apply_permanent_error(session, message, error_code, now)
    return f"{outcome}: now {became}"
