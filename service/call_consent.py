"""Consent for calls, kept per number apart from consent for texts.

A number may get calls only when the client or caregiver agreed to calls (recorded by a
user of the practice, with when), that agreement was not withdrawn, the number has not
stopped calls since (by pressing 9 during a call, or staff), and texts did not find it
invalid (a landline, which texts cannot reach, may still be called). Texts and calls are
separate: STOP (or START) by text never changes what is recorded about calls, and pressing
9 never stops texts. Agreement recorded after a stop starts calls again; withdrawing
forgets the agreement (the audit log keeps its history). The rules themselves are
``domain.call_permission``'s, which the dispatcher's final check and the planner read too.

Withdrawing or stopping calls also gives texts to every contact of the number (any
client's) whose channel is ``voice``, so that none is left on a channel that can never
reach it, and skips at once every call still planned to the number that follows another
message (the call after an unanswered text, ``voice_fallback``; a call made again,
``redial``) with the dispatcher's reason ("calls not agreed", "calls stopped"): no re-plan
reaches those, and they would otherwise wait, planned, for the dispatcher's final check.
The planner's own calls are cancelled by the re-plan of the contacts moved to texts (see
``back_to_texts``). A change of the agreement locks the number's row first
(``lock_number``), and the skip runs under that lock, in the same transaction.

Each change is audited under the entity ``phone`` and the number (the audit log, like
``phone_numbers``, is the record; logs never see it). Nothing here commits: the caller
ends the unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import audit, consent, planner
from service.config import Settings
from service.domain import call_permission
from service.domain.vocabulary import ChannelPreference
from service.models import Contact, PhoneNumber, User
from service.outbox.channels import skip_follow_up_calls


def agreed(row: PhoneNumber | None) -> bool:
    """True when the number's owner agreed to calls and has not stopped them since."""
    return row is not None and call_permission.agreed(row.voice_consent_at, row.voice_opted_out_at)


def may_call(row: PhoneNumber | None) -> bool:
    """True when the number of this consent row (None: never seen) may get calls: agreed,
    not stopped since, and not found invalid (but for being a landline)."""
    if row is None:
        return False
    return call_permission.may_call(
        row.voice_consent_at, row.voice_opted_out_at, row.invalid_at is not None, row.invalid_reason
    )


def stopped_by_caller(row: PhoneNumber | None) -> bool:
    """True when calls to the number were stopped and not agreed to again since."""
    return row is not None and row.voice_opted_out_at is not None and not agreed(row)


def lock_number(
    session: Session, phone: str, now: datetime, *, exclusive: bool = True
) -> PhoneNumber:
    """The number's consent row, created if missing, read fresh and locked until the
    transaction ends: exclusively to change it, shared to judge it (a change then waits
    for the judging transaction, and a judgement made after a change sees it). SQLite has
    no row locks: creating the row takes its single write lock."""
    consent.ensure_number(session, phone, now)
    statement = select(PhoneNumber).where(PhoneNumber.phone == phone)
    locked = statement.with_for_update(read=not exclusive)
    return session.scalars(locked.execution_options(populate_existing=True)).one()


def record_consent(
    session: Session, actor: User | None, phone: str, now: datetime, *, via: str
) -> PhoneNumber:
    """Record that the number's owner agreed to calls, now, as recorded by ``actor``."""
    row = lock_number(session, phone, now)
    row.voice_consent_at, row.voice_consent_by_id = now, actor.id if actor else None
    audit.record(session, actor, "voice_consent", "phone", phone, via=via)
    return row


def withdraw_consent(
    session: Session,
    actor: User | None,
    phone: str,
    now: datetime,
    *,
    via: str,
    settings: Settings | None = None,
) -> PhoneNumber:
    """Forget the number's agreement to calls: it gets no calls until agreed again, its
    contacts called only by phone get texts instead (``back_to_texts``), and the calls
    planned to follow other messages are skipped ("calls not agreed")."""
    row = lock_number(session, phone, now)
    row.voice_consent_at, row.voice_consent_by_id = None, None
    audit.record(session, actor, "voice_consent_withdrawn", "phone", phone, via=via)
    _calls_ended(session, actor, phone, now, call_permission.NOT_AGREED, via, settings)
    return row


def stop_calls(
    session: Session,
    actor: User | None,
    phone: str,
    now: datetime,
    *,
    via: str,
    settings: Settings | None = None,
) -> PhoneNumber:
    """Stop calls to the number (the caller pressed 9, ``actor`` None; or staff); texts
    go on as before, its contacts called only by phone get texts instead
    (``back_to_texts``), and the calls planned to follow other messages are skipped
    ("calls stopped")."""
    row = lock_number(session, phone, now)
    row.voice_opted_out_at = now
    audit.record(session, actor, "voice_opt_out", "phone", phone, via=via)
    _calls_ended(session, actor, phone, now, call_permission.STOPPED, via, settings)
    return row


def _calls_ended(
    session: Session,
    actor: User | None,
    phone: str,
    now: datetime,
    why: str,
    via: str,
    settings: Settings | None,
) -> None:
    """What follows when a (locked) number may no longer get calls, for ``why``: its
    contacts called only by phone get texts (``back_to_texts``), and the calls planned to
    follow other messages are skipped."""
    back_to_texts(session, actor, phone, now, via=via, settings=settings)
    skip_follow_up_calls(session, phone, why, now)


def back_to_texts(
    session: Session,
    actor: User | None,
    phone: str,
    now: datetime,
    *,
    via: str,
    settings: Settings | None = None,
) -> list[int]:
    """Give every contact of ``phone`` whose channel is ``voice`` texts instead, whichever
    client it is of, each audited as a change of the contact's channel; the ids of the
    contacts moved. Called with the number locked (``lock_number``), so a contact given
    the voice channel meanwhile (the roster judges the agreement under a shared lock of
    the number) is either seen here or refused there.

    ``sms_then_voice`` stays: it texts first, and its call is planned only while the
    number may get calls. With ``settings`` the clients concerned are re-planned at once
    (their planned calls become texts); without, the dispatcher skips their calls and the
    planner's hourly pass of everyone plans the texts.
    """
    session.flush()  # a channel just set on a loaded contact is seen by the update
    moved = session.execute(
        update(Contact)
        .where(Contact.phone == phone, Contact.channel == ChannelPreference.VOICE)
        .values(channel=ChannelPreference.SMS)
        .returning(Contact.id, Contact.client_id)
    ).all()
    for contact_id, client_id in sorted(moved):
        audit.record(
            session,
            actor,
            "update_contact",
            "client",
            client_id,
            contact_id=contact_id,
            fields=["channel"],
            via=via,
        )
    if settings is not None:
        for client_id in sorted({client_id for _, client_id in moved}):
            planner.replan_client(session, settings, client_id, now)
    return [contact_id for contact_id, _ in sorted(moved)]


def may_call_number(session: Session, phone: str) -> bool:
    """True when ``phone`` may get calls now (see ``may_call``)."""
    return may_call(session.get(PhoneNumber, phone))
