"""The dispatcher's transitions: claim due messages, then record what became of each.

Each takes the claim's token and changes a message only while that claim still holds it in
the status the transition expects; the batch forms (``*_all``) change many messages of one
claim in one statement, and the one-message forms are the same transition for one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Table, and_, any_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from service.domain import sending
from service.domain.vocabulary import IN_FLIGHT, Channel, MessageStatus
from service.models import OutboundMessage
from service.outbox.moves import M, S, bulk, move_all


class Claimed(NamedTuple):
    """A claimed message as the claim found it: what the final check and the send need.

    None of it changes while the claim holds: the planner and the practice only change
    planned messages.
    """

    id: int
    status: MessageStatus
    send_at: datetime
    kind: str
    channel: str
    to_phone: str
    body: str
    client_id: int | None
    contact_id: int | None
    appointment_id: int | None
    planned_start: datetime | None
    key: str  # its idempotency key: a call that follows another message names it there


_CLAIMED = (
    M.id,
    M.status,
    M.send_at,
    M.kind,
    M.channel,
    M.to_phone,
    M.body,
    M.client_id,
    M.contact_id,
    M.appointment_id,
    M.planned_start,
    M.idempotency_key,
)


def claim_rows(
    session: Session, token: str, now: datetime, lease: timedelta, limit: int, calls: int = 0
) -> list[Claimed]:
    """Atomically take up to ``limit`` due messages, oldest first; with ``calls``, up to
    ``limit`` texts and besides them up to ``calls`` calls, each picked apart, so a backlog
    of calls (placed at VOICE_MAX_PER_SECOND) never fills a claim in place of due texts.

    A planned one becomes ``sending``; one whose claim's lease ran out while ``sending`` or
    ``unknown`` becomes ``unknown``: its dispatcher died mid-send and it may have left, so
    it is looked up at the provider, never resent blindly. On PostgreSQL ``FOR UPDATE SKIP
    LOCKED`` lets concurrent dispatchers take disjoint rows (and skip the rows a running
    batch holds); SQLite runs the statement under its single writer lock.

    On PostgreSQL the ids are picked once, as an array (an init plan): written as ``id IN
    (SELECT ... LIMIT n)``, a table without statistics yet (a freshly filled outbox) could
    be planned as a nested loop that runs the pick once per row, each time with its own
    limit, and one claim would take every due text.
    """
    due = or_(
        and_(M.status == S.PLANNED, M.send_at <= now),
        and_(M.status.in_(IN_FLIGHT), M.lease_until <= now),
    )
    picks = [select(M.id).where(due).order_by(M.send_at, M.id).limit(limit)]
    if calls:
        voice = M.channel == Channel.VOICE
        picks = [picks[0].where(~voice), picks[0].where(voice).limit(calls)]
    if session.get_bind().dialect.name == "postgresql":
        arrays = [func.array(p.with_for_update(skip_locked=True).scalar_subquery()) for p in picks]
        chosen = M.id == any_(arrays[0] if len(arrays) == 1 else func.array_cat(*arrays))
    else:
        chosen = or_(*(M.id.in_(p.scalar_subquery()) for p in picks))
    planned = M.status == S.PLANNED
    statement = (
        update(M)
        .where(chosen, due)
        .values(
            status=case((planned, S.SENDING), else_=S.UNKNOWN),
            attempts=case((planned, M.attempts + 1), else_=M.attempts),
            claim_token=token,
            # Keep the first claim's time: an unknown outcome is looked up from there.
            claimed_at=case((planned, now), else_=M.claimed_at),
            lease_until=now + lease,
            updated_at=now,
        )
        .returning(*_CLAIMED)
        .execution_options(synchronize_session=False)
    )
    rows = sorted(session.execute(statement), key=lambda r: (r[2], r[0]))
    return [Claimed._make((int(r[0]), S(r[1]), *r[2:])) for r in rows]


def claim(
    session: Session, token: str, now: datetime, lease: timedelta, limit: int
) -> list[tuple[int, MessageStatus]]:
    """``claim_rows``, as (id, status) pairs."""
    return [(c.id, c.status) for c in claim_rows(session, token, now, lease, limit)]


def claimed(session: Session, message_id: int, token: str) -> OutboundMessage | None:
    """The message if this claim still holds it (a plain read, no lock)."""
    message = session.get(M, message_id, populate_existing=True)
    return message if message is not None and message.claim_token == token else None


def claimed_rows(session: Session, message_ids: Iterable[int], token: str) -> list[Claimed]:
    """Those of these messages this claim still holds, as the claim found them (a plain
    read, no lock), oldest first."""
    rows = session.execute(
        select(*_CLAIMED)
        .where(M.id.in_(list(message_ids)), M.claim_token == token)
        .order_by(M.send_at, M.id)
    )
    return [Claimed._make((int(r[0]), S(r[1]), *r[2:])) for r in rows]


def hold_writes(session: Session, message_ids: Sequence[int], now: datetime) -> None:
    """Take SQLite's single write lock now, by touching the messages.

    SQLite has no row locks: the lock held until the outcome is recorded is the one write
    lock, so no cancellation or opt-out can commit between the final check and the record.
    """
    bulk(session, [M.id.in_(list(message_ids))], now)


def lock(session: Session, message_id: int, token: str) -> OutboundMessage | None:
    """Lock the message's row until the transaction ends; None when the claim was lost."""
    locked = select(M).where(M.id == message_id).with_for_update()
    message = session.scalar(locked.execution_options(populate_existing=True))
    return message if message is not None and message.claim_token == token else None


def lock_sending(session: Session, message_ids: Sequence[int], token: str) -> set[int]:
    """Lock, in id order, those of these messages this claim still holds as ``sending``,
    until the transaction ends; their ids (a message lost to another claim drops out)."""
    locked = (
        select(M.id)
        .where(M.id.in_(sorted(message_ids)), M.claim_token == token, M.status == S.SENDING)
        .order_by(M.id)
        .with_for_update()
    )
    return set(session.scalars(locked))


def _step(
    session: Session,
    message: OutboundMessage,
    expected: Iterable[MessageStatus],
    now: datetime,
    *,
    unclaim: bool = True,
    **values: Any,
) -> bool:
    """Move a claimed message on, if its claim still holds it in an expected status."""
    return (
        _step_all(session, [message.id], message.claim_token, expected, now, unclaim, values) == 1
    )


def _step_all(
    session: Session,
    message_ids: Sequence[int],
    token: str | None,
    expected: Iterable[MessageStatus],
    now: datetime,
    unclaim: bool,
    values: dict[str, Any],
) -> int:
    if unclaim:  # done with them: the claim and its lease end
        values = {**values, "claim_token": None, "lease_until": None}
    return move_all(session, message_ids, expected, now, token, **values)


def release(session: Session, message: OutboundMessage, now: datetime) -> bool:
    """Give a claimed message that was not started back to the queue (on shutdown)."""
    return release_all(session, [message.id], message.claim_token, now) == 1


def release_all(
    session: Session, message_ids: Sequence[int], token: str | None, now: datetime
) -> int:
    """Give claimed messages that were not started back to the queue; how many."""
    values = {"status": S.PLANNED, "attempts": M.attempts - 1}
    return _step_all(session, message_ids, token, [S.SENDING], now, True, values)


def hold_back(
    session: Session, message: OutboundMessage, decision: sending.Decision, now: datetime
) -> bool:
    """Record the final check's "not now" (deferred past quiet hours) or "never"."""
    return hold_back_all(session, [message.id], message.claim_token, decision, now) == 1


def hold_back_all(
    session: Session,
    message_ids: Sequence[int],
    token: str | None,
    decision: sending.Decision,
    now: datetime,
) -> int:
    """``hold_back`` for messages of one claim that got the same decision; how many."""
    if decision.action == "defer" and decision.until is not None:
        # Nothing was attempted: waiting is not a try.
        values: dict[str, Any] = {
            "status": S.PLANNED,
            "send_at": decision.until,
            "attempts": M.attempts - 1,
        }
    else:
        values = {"status": S(decision.action)}
    values["error_message"] = decision.reason
    return _step_all(session, message_ids, token, [S.SENDING], now, True, values)


def mark_sent(
    session: Session, message: OutboundMessage, sid: str, now: datetime, *, delivered: bool
) -> bool:
    """The provider accepted the message (a simulated gateway delivers at once)."""
    return mark_sent_all(session, message.claim_token, {message.id: sid}, now, delivered) == 1


def mark_sent_all(
    session: Session, token: str | None, sids: Mapping[int, str], now: datetime, delivered: bool
) -> int:
    """``mark_sent`` for messages of one claim, each with its sid, in one statement."""
    table: Table = M.__table__  # type: ignore[assignment]
    # No IN (...): an executemany takes only plain parameters.
    in_flight = or_(*(table.c.status == status for status in IN_FLIGHT))
    conditions = [table.c.id == bindparam("sent_id"), in_flight]
    if token is not None:
        conditions.append(table.c.claim_token == token)
    statement = (
        update(table)
        .where(*conditions)
        .values(
            status=S.DELIVERED if delivered else S.SENT,
            provider_sid=bindparam("sent_sid"),
            sent_at=now,
            claim_token=None,
            lease_until=None,
            updated_at=now,
            **_error(None, ""),
        )
    )
    rows = [{"sent_id": i, "sent_sid": sid} for i, sid in sids.items()]
    result = session.execute(statement, rows)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _error(code: int | None, error: str) -> dict[str, Any]:
    return {"error_code": code, "error_message": error[:500] or None}


def mark_unknown(
    session: Session,
    message: OutboundMessage,
    code: int | None,
    error: str,
    now: datetime,
    look_up_at: datetime,
) -> bool:
    """The request may have reached the provider: look it up at ``look_up_at`` (the claim
    stays, its lease shortened)."""
    values = {"status": S.UNKNOWN, "lease_until": look_up_at, **_error(code, error)}
    return _step(session, message, [S.SENDING], now, unclaim=False, **values)


def retry(
    session: Session,
    message: OutboundMessage,
    code: int | None,
    error: str,
    now: datetime,
    send_at: datetime,
) -> bool:
    """A transient error: plan the message again for ``send_at``."""
    values = {"status": S.PLANNED, "send_at": send_at, **_error(code, error)}
    return _step(session, message, [S.SENDING], now, **values)


def fail(
    session: Session, message: OutboundMessage, code: int | None, error: str, now: datetime
) -> bool:
    """A permanent error, or the last try: the message will not be sent."""
    return _step(session, message, [S.SENDING], now, status=S.FAILED, **_error(code, error))


def postpone_lookup(
    session: Session, message: OutboundMessage, error: str, now: datetime, until: datetime
) -> bool:
    """The provider could not be asked about an unknown message: ask again at ``until``."""
    values = {"lease_until": until, "error_message": f"lookup failed: {error}"[:500]}
    return _step(session, message, [S.UNKNOWN], now, unclaim=False, **values)


def resend(session: Session, message: OutboundMessage, now: datetime) -> bool:
    """An unknown message never reached the provider: plan it again, now."""
    return _step(session, message, [S.UNKNOWN], now, status=S.PLANNED, send_at=now)


def give_up(session: Session, message: OutboundMessage, error: str, now: datetime) -> bool:
    """An unknown message never reached the provider and has had its tries: not sent."""
    return _step(session, message, [S.UNKNOWN], now, status=S.FAILED, **_error(None, error))
