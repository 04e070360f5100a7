"""Consent for calls, kept per number apart from consent for texts.

A number may get calls only when the client or caregiver agreed to calls (recorded by a
user of the practice, with when), that agreement was not withdrawn, the number has not
stopped calls since (by pressing 9 during a call, or staff), and texts did not find it
invalid (a landline, which texts cannot reach, may still be called). Texts and calls are
separate: STOP (or START) by text never changes what is recorded about calls, and pressing
9 never stops texts. Agreement recorded after a stop starts calls again; withdrawing
forgets the agreement (the audit log keeps its history).

Each change is audited under the entity ``phone`` and the number (the audit log, like
``phone_numbers``, is the record; logs never see it). Nothing here commits: the caller
ends the unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service import audit, consent
from service.domain.provider_errors import explain
from service.models import PhoneNumber, User


def agreed(row: PhoneNumber | None) -> bool:
    """True when the number's owner agreed to calls and has not stopped them since."""
    if row is None or row.voice_consent_at is None:
        return False
    stopped = row.voice_opted_out_at
    return stopped is None or stopped < row.voice_consent_at


# Texts mark a landline invalid (errors 21614 and 30006: it cannot get texts), yet a call
# may reach it: that mark alone does not stop calls.
LANDLINE_REASONS = frozenset(explain(code)[:200] for code in (21614, 30006))


def may_call(row: PhoneNumber | None) -> bool:
    """True when the number of this consent row (None: never seen) may get calls: agreed,
    not stopped since, and not found invalid (but for being a landline)."""
    if not agreed(row) or row is None:
        return False
    return row.invalid_at is None or row.invalid_reason in LANDLINE_REASONS


def stopped_by_caller(row: PhoneNumber | None) -> bool:
    """True when calls to the number were stopped and not agreed to again since."""
    return row is not None and row.voice_opted_out_at is not None and not agreed(row)


def _row(session: Session, phone: str, now: datetime) -> PhoneNumber:
    consent.ensure_number(session, phone, now)
    row = session.get(PhoneNumber, phone, populate_existing=True)
    assert row is not None
    return row


def record_consent(
    session: Session, actor: User | None, phone: str, now: datetime, *, via: str
) -> PhoneNumber:
    """Record that the number's owner agreed to calls, now, as recorded by ``actor``."""
    row = _row(session, phone, now)
    row.voice_consent_at, row.voice_consent_by_id = now, actor.id if actor else None
    audit.record(session, actor, "voice_consent", "phone", phone, via=via)
    return row


def withdraw_consent(
    session: Session, actor: User | None, phone: str, now: datetime, *, via: str
) -> PhoneNumber:
    """Forget the number's agreement to calls: it gets no calls until agreed again."""
    row = _row(session, phone, now)
    row.voice_consent_at, row.voice_consent_by_id = None, None
    audit.record(session, actor, "voice_consent_withdrawn", "phone", phone, via=via)
    return row


def stop_calls(
    session: Session, actor: User | None, phone: str, now: datetime, *, via: str
) -> PhoneNumber:
    """Stop calls to the number (the caller pressed 9, ``actor`` None; or staff); texts
    go on as before."""
    row = _row(session, phone, now)
    row.voice_opted_out_at = now
    audit.record(session, actor, "voice_opt_out", "phone", phone, via=via)
    return row


def may_call_number(session: Session, phone: str) -> bool:
    """True when ``phone`` may get calls now (see ``may_call``)."""
    return may_call(session.get(PhoneNumber, phone))
