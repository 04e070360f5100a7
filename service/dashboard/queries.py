"""Reads behind the list pages: one grouped query per kind of fact, never one per row.

Window functions (``row_number() OVER (PARTITION BY ...)``) pick each client's latest rows
in a single statement; SQLite has had them since 3.25 and PostgreSQL for ever.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import consent
from service.domain.vocabulary import PROGRESS, UPCOMING, MessageKind
from service.models import SELF, Appointment, Contact, InboundMessage, OutboundMessage


@dataclass
class PainPoint:
    """One pain score and when it came."""

    at: datetime
    score: int


@dataclass
class Reach:
    """What a client's numbers allow: opted-out or invalid numbers, own and caregivers'."""

    own_phone: str | None = None
    opted_out: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def latest_pain(
    session: Session, client_ids: Sequence[int], per_client: int = 10
) -> dict[int, list[PainPoint]]:
    """Each client's latest pain scores, oldest first, at most ``per_client`` of them."""
    if not client_ids:
        return {}
    m = InboundMessage
    rank = (
        func.row_number()
        .over(partition_by=m.client_id, order_by=(m.received_at.desc(), m.id.desc()))
        .label("rank")
    )
    ranked = (
        select(m.client_id, m.received_at, m.pain_score, rank)
        .where(m.client_id.in_(client_ids), m.pain_score.is_not(None))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.client_id, ranked.c.received_at, ranked.c.pain_score)
        .where(ranked.c.rank <= per_client)
        .order_by(ranked.c.client_id, ranked.c.received_at, ranked.c.rank.desc())
    )
    found: dict[int, list[PainPoint]] = defaultdict(list)
    for client_id, at, score in rows:
        found[client_id].append(PainPoint(at, score))
    return dict(found)


def next_appointments(
    session: Session, client_ids: Sequence[int], now: datetime
) -> dict[int, Appointment]:
    """Each client's next scheduled or confirmed appointment that has not begun."""
    if not client_ids:
        return {}
    a = Appointment
    rank = (
        func.row_number().over(partition_by=a.client_id, order_by=(a.starts_at, a.id)).label("rank")
    )
    ranked = (
        select(a.id, rank)
        .where(a.client_id.in_(client_ids), a.starts_at >= now, a.status.in_(UPCOMING))
        .subquery()
    )
    rows = session.scalars(
        select(Appointment).join(ranked, ranked.c.id == Appointment.id).where(ranked.c.rank == 1)
    )
    return {row.client_id: row for row in rows}


def reach(session: Session, client_ids: Sequence[int]) -> dict[int, Reach]:
    """Each client's own phone and which of its contacts' numbers are opted out or invalid."""
    if not client_ids:
        return {}
    contacts = session.execute(
        select(Contact.client_id, Contact.relation, Contact.phone, Contact.name)
        .where(Contact.client_id.in_(client_ids))
        .order_by(Contact.client_id, Contact.id)
    ).all()
    known = consent.numbers(session, (row.phone for row in contacts))
    found: dict[int, Reach] = {client_id: Reach() for client_id in client_ids}
    for client_id, relation, phone, name in contacts:
        entry = found[client_id]
        if relation == SELF and entry.own_phone is None:
            entry.own_phone = phone
        state = known.get(phone)
        if state is not None and state.opted_out:
            entry.opted_out.append(name)
        if state is not None and state.invalid_at is not None:
            entry.invalid.append(name)
    return found


def reminder_states(session: Session, appointment_ids: Sequence[int]) -> dict[int, str]:
    """For each appointment, how far its reminders got: the furthest state of any of them."""
    if not appointment_ids:
        return {}
    rows = session.execute(
        select(OutboundMessage.appointment_id, OutboundMessage.status).where(
            OutboundMessage.appointment_id.in_(appointment_ids),
            OutboundMessage.kind == MessageKind.REMINDER,
        )
    )
    best: dict[int, str] = {}
    order = PROGRESS
    for appointment_id, status in rows:
        if appointment_id is None:
            continue
        current = best.get(appointment_id)
        if current is None or order.index(status) > order.index(current):
            best[appointment_id] = status
    return best
