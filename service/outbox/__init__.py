"""The outbox: every outgoing message is created here, and changes status only here.

A message is one text (or, on another channel, one call) to one number. Its row is a state
machine:

    planned --claim--> sending --mark_sent--> sent --settle--> delivered / undelivered / failed
                          |--- retry ---------> planned (later, with back-off)
                          |--- fail ----------> failed (permanent error, or out of tries)
                          |--- mark_unknown --> unknown --mark_sent / resend / give_up-->
                          |                             sent / planned / failed
                          '--- hold_back -----> skipped / cancelled / expired, or planned later
    planned --replan / cancel_planned / skip_planned_to / pause--> skipped / cancelled / ...

Producers (the planner, rebooking, replies, notices, staff texts) all call ``enqueue``, keyed
by an idempotency key under a unique constraint, so two processes queuing the same message
create it once. Every transition is one conditional ``UPDATE`` on the status it expects (and,
for a claimed message, on the claim's token): a process that lost a race changes nothing and
is told so, and nothing ever overwrites what really happened to a message.

This package is the only writer of outgoing-message rows. Its modules: ``claims``, the
dispatcher's transitions (each for one message, and where a batch needs it, for many
messages of one claim in one statement); ``moves``, the two ways every transition changes
rows; and here, everything else. Callers use the names exported here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Dialect, Table, select, update
from sqlalchemy.orm import Session

from service import bulk_rows
from service.db import insert_for
from service.domain import sending
from service.domain.vocabulary import (
    PAUSABLE,
    AlertKind,
    Channel,
    MessageKind,
    MessageStatus,
)
from service.models import Alert, OutboundMessage
from service.outbox.claims import (
    Claimed,
    claim,
    claim_rows,
    claimed,
    claimed_rows,
    fail,
    give_up,
    hold_back,
    hold_back_all,
    hold_writes,
    lock,
    lock_sending,
    mark_sent,
    mark_sent_all,
    mark_unknown,
    postpone_lookup,
    release,
    release_all,
    resend,
    retry,
)
from service.outbox.moves import M, S, bulk, move
from service.plain_sql import PlainStatement

__all__ = [
    "Claimed",
    "Draft",
    "by_sid",
    "call_following",
    "cancel_planned",
    "claim",
    "claim_rows",
    "claimed",
    "claimed_rows",
    "enqueue",
    "enqueue_one",
    "fail",
    "give_up",
    "hold_back",
    "hold_back_all",
    "hold_writes",
    "lock",
    "lock_sending",
    "mark_sent",
    "mark_sent_all",
    "mark_unknown",
    "pause",
    "postpone_lookup",
    "record_answered",
    "record_delivered",
    "release",
    "release_all",
    "replan",
    "resend",
    "resume",
    "retry",
    "settle",
    "skip_planned_to",
    "wait_for_sends_to",
]


@dataclass(frozen=True)
class Draft:
    """A message to queue: who gets what, when, and the key that makes it unique."""

    idempotency_key: str
    kind: MessageKind
    to_phone: str
    body: str
    send_at: datetime
    template_id: int | None = None  # the wording version the body was written with
    client_id: int | None = None
    contact_id: int | None = None
    appointment_id: int | None = None
    planned_start: datetime | None = None
    # The planner records texts it decided against (skipped, expired) as such.
    status: MessageStatus = S.PLANNED
    channel: Channel = Channel.SMS
    created_by_id: int | None = None


def call_following(message: Any, key: str, send_at: datetime) -> Draft:
    """A call that follows ``message`` (a text left unanswered, a call that found no one):
    the same kind, words, wording version, people and session, by phone, under ``key``."""
    return Draft(
        idempotency_key=key,
        kind=MessageKind(message.kind),
        to_phone=message.to_phone,
        body=message.body,
        send_at=send_at,
        template_id=message.template_id,
        client_id=message.client_id,
        contact_id=message.contact_id,
        appointment_id=message.appointment_id,
        planned_start=message.planned_start,
        channel=Channel.VOICE,
    )


def _row(draft: Draft, now: datetime, **overrides: Any) -> dict[str, Any]:
    row = dict(vars(draft))  # a draft's fields are values: no deep copy (``asdict``) needed
    row["idempotency_key"] = row["idempotency_key"][:200]
    row.update({"attempts": 0, "created_at": now, "updated_at": now, **overrides})
    return row


def enqueue(session: Session, drafts: Sequence[Draft], now: datetime) -> list[int]:
    """Queue these messages; the ids of those created (a key already queued is left as is)."""
    if not drafts:
        return []
    rows = [_row(d, now) for d in drafts]
    created = bulk_rows.insert_new(session, M, rows, ["idempotency_key"], [M.id])
    return [int(i) for (i,) in created]


def enqueue_one(session: Session, draft: Draft, now: datetime) -> int | None:
    """Queue one message; its id, or None when its key was already queued."""
    created = enqueue(session, [draft], now)
    return created[0] if created else None


def record_answered(session: Session, draft: Draft, now: datetime) -> None:
    """Record a message already on its way outside the dispatcher (an acknowledgement
    answered in the webhook's own response): created as sent. One INSERT whose result is
    not read, so it can go with the commit (``plain_sql.commit_together``)."""
    connection = session.connection()
    row = _row(draft, now, status=S.SENT, attempts=1, sent_at=now)
    _answered_statement(connection.dialect).execute(connection, row)


# Every column ``record_answered`` sets: a draft's, and what ``_row`` adds for a sent one.
_ANSWERED = (*Draft.__dataclass_fields__, "attempts", "created_at", "updated_at", "sent_at")


@functools.cache
def _answered_statement(dialect: Dialect) -> PlainStatement:
    """``record_answered``'s INSERT, built once per dialect: a reply's acknowledgement is on
    the webhook's hot path."""
    table = cast(Table, M.__table__)
    # ``inline``: no RETURNING of the new id, which nothing reads.
    statement = (
        insert_for(dialect.name, table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .inline()
    )
    return PlainStatement(statement, dialect, _ANSWERED)


# --- what the provider reports after a send ---------------------------------------------

# Twilio's statuses in the order a message moves through them; a report may arrive late or
# twice, and a message never moves backwards (a delivered one never goes back to sent).
_REPORTED_RANK = {"queued": 0, "accepted": 0, "scheduled": 0, "sending": 1, "sent": 2}
_REPORTED_FINAL = {"delivered": S.DELIVERED, "undelivered": S.UNDELIVERED, "failed": S.FAILED}
_OUR_RANK = {S.SENT: 2, S.UNKNOWN: 2, S.DELIVERED: 3, S.UNDELIVERED: 3, S.FAILED: 3}


def by_sid(session: Session, sid: str) -> OutboundMessage | None:
    """The message the provider knows by ``sid``, locked, or None."""
    locked = select(M).where(M.provider_sid == sid).with_for_update()
    return session.scalar(locked.execution_options(populate_existing=True))


def settle(
    session: Session, message: OutboundMessage, reported: str, code: int | None, now: datetime
) -> MessageStatus | None:
    """Apply a status the provider reported; the new status, or None when it changes nothing
    (already final, or out of order)."""
    current = _OUR_RANK.get(S(message.status), 0)
    if reported in _REPORTED_FINAL:
        if current >= 3:
            return None
        status = _REPORTED_FINAL[reported]
        moved = move(session, message.id, [S(message.status)], now, status=status, error_code=code)
    elif _REPORTED_RANK.get(reported, -1) > current:
        status = S.SENT
        moved = move(session, message.id, [S(message.status)], now, status=status)
    else:
        return None
    session.expire(message)
    return status if moved else None


def wait_for_sends_to(session: Session, to_phone: str) -> None:
    """Wait until no send to ``to_phone`` is in flight, and no look-up of one.

    A dispatcher holds the lock of the message it is sending (on SQLite, the write lock)
    from before the request to the provider until the sid is recorded; a report can arrive
    in between. So does the look-up of a message of unknown outcome, from before it reads
    the provider's list until it records the sid found there: a report in between would
    find no sid, and the look-up took the status listed before it. This no-op update
    queues behind that lock (PostgreSQL re-checks the row once it is free, finds it no
    longer ``sending`` or ``unknown`` and changes nothing), so that afterwards the sid is
    committed and can be found. A message of unknown outcome that nobody is looking up is
    not waited for: its look-up takes the status the provider lists then.
    """
    in_flight = M.status.in_([S.SENDING, S.UNKNOWN])
    statement = update(M).where(M.to_phone == to_phone, in_flight)
    session.execute(statement.values(status=M.status).execution_options(synchronize_session=False))


# --- the planner's and the practice's transitions ---------------------------------------
def replan(session: Session, message: OutboundMessage, now: datetime, **values: Any) -> bool:
    """Change a message the planner read, only if it still has the status it was read with.

    A dispatcher may have claimed (or sent) it since: then the planner leaves it alone
    rather than overwrite what really happened.
    """
    moved = move(session, message.id, [S(message.status)], now, **values)
    session.expire(message)
    return moved


def cancel_planned(
    session: Session, appointment_ids: Sequence[int], reason: str, now: datetime
) -> int:
    """Cancel the still-planned messages of these appointments; how many."""
    if not appointment_ids:
        return 0
    planned = [M.appointment_id.in_(appointment_ids), M.status == S.PLANNED]
    return bulk(session, planned, now, status=S.CANCELLED, error_message=reason)


def skip_planned_to(session: Session, phone: str, reason: str, now: datetime) -> int:
    """Skip every message still planned to ``phone`` (it opted out, or cannot be reached)."""
    planned = [M.to_phone == phone, M.status == S.PLANNED]
    return bulk(session, planned, now, status=S.SKIPPED, error_message=reason[:500])


def _not_answering_clients() -> Any:
    return select(Alert.client_id).where(
        Alert.kind == AlertKind.NOT_ANSWERING,
        Alert.handled_at.is_(None),
        Alert.client_id.is_not(None),
    )


def pause(session: Session, now: datetime) -> int:
    """Skip the planned pausable messages of clients who are not answering; how many."""
    pausable = [
        M.status == S.PLANNED,
        M.kind.in_(PAUSABLE),
        M.client_id.in_(_not_answering_clients()),
    ]
    return bulk(session, pausable, now, status=S.SKIPPED, error_message=sending.PAUSED)


def resume(session: Session, now: datetime) -> list[int | None]:
    """Hand paused check-ins back to the planner once their client's item is handled;
    the client of each check-in handed back (the caller re-plans them).

    A skip with no reason is the planner's own, so re-planning sends those still timely and
    expires the rest. Rebooking texts stay skipped: that moment has passed.
    """
    rows = session.execute(
        update(M)
        .where(
            M.status == S.SKIPPED,
            M.error_message == sending.PAUSED,
            M.kind == MessageKind.CHECKIN,
            M.client_id.not_in(_not_answering_clients()),
        )
        .values(error_message=None, updated_at=now)
        .execution_options(synchronize_session=False)
        .returning(M.client_id)
    ).all()
    return [client_id for (client_id,) in rows]


def record_delivered(session: Session, message_ids: Sequence[int], now: datetime) -> None:
    """Record planned messages as delivered at their planned time (the demo's history)."""
    calls = set(
        session.scalars(select(M.id).where(M.id.in_(message_ids), M.channel == Channel.VOICE))
    )
    for i in message_ids:
        sid = f"CAdemo{i:026d}" if i in calls else f"SMdemo{i:026d}"  # Twilio's prefixes
        move(session, i, [S.PLANNED], now, status=S.DELIVERED, sent_at=M.send_at, provider_sid=sid)
