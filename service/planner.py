"""The planner's database side: materialize series, and keep the outbox equal to the plan.

The pure planner (``service.domain.planning``) says what texts an appointment should have;
this module loads the facts it needs, and reconciles the outbox with its answer, through
``service.outbox``:
- a text the plan wants and the outbox lacks is queued (``outbox.enqueue``: keyed, so two
  processes planning at once queue it once);
- a text still ``planned`` is brought up to what the plan says now (a new time, a new
  status such as ``skipped``), or ``cancelled`` when the plan no longer wants it;
- a text the planner had cancelled or skipped comes back when the plan wants it again (an
  appointment un-cancelled or moved back, a next session that no longer comes first);
- the pure planner is told which texts of each appointment went (read with the rest,
  no extra statement), so that what it plans never repeats them (``domain.repeats``);
- anything already sent, or skipped because the number opted out, is never touched; every
  change is conditional on the status it was read with (``outbox.replan``), so a text a
  dispatcher claimed in the meantime is left to the dispatcher;
- calls follow the same rules (a contact on the voice channel is planned calls, under keys
  of their own: ``plan_facts``); the calls that follow a message rather than the plan (the
  call after an unanswered text, a call made again: ``domain.follow_up_calls``) are not the
  plan's, and are neither read nor changed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service import bulk_rows, outbox, plan_facts, rhythm, series_plan, wording_in_force
from service.config import Settings
from service.domain import planning, sampling
from service.domain.follow_up_calls import FOLLOW_UP_PREFIXES
from service.domain.vocabulary import PLANNED_KINDS, Channel, MessageKind, MessageStatus
from service.models import (
    Appointment,
    Client,
    OutboundMessage,
)
from service.series_plan import materialize as materialize  # the schedule page's fill-in
from service.series_plan import plan_series as plan_series  # a series' edits

PLAN_CHUNK = 1000  # clients re-planned per reconcile in a planning tick
# A set under this key in ``session.info`` holds back ``replan_client``: the clients gather
# there, and whoever set it re-plans them all at once before the transaction ends (an import
# of thousands of clients re-plans them in chunks, not one by one).
REPLAN_LATER = "touchbase.replan_later"


@dataclass
class PlanCounts:
    """What one planning pass did."""

    materialized: int = 0
    planned: int = 0
    updated: int = 0
    cancelled: int = 0

    def add(self, other: PlanCounts) -> None:
        """Add another pass's counts to these."""
        self.materialized += other.materialized
        self.planned += other.planned
        self.updated += other.updated
        self.cancelled += other.cancelled


def lookback(settings: Settings) -> timedelta:
    """How long after an appointment ends it may still need a text: its last check-in, at
    the practice's offsets, a client's own days, or (automatic, which any client may have)
    the day before a next session up to ``sampling.LONGEST_GAP_DAYS`` away; plus the grace
    of a late check-in and a day of margin."""
    fixed = () if isinstance(settings.checkin_offsets, str) else settings.checkin_offsets
    days = max(planning.LAST_CHECKIN_DAY, sampling.LONGEST_GAP_DAYS)
    return max((*fixed, timedelta(days=days))) + timedelta(hours=12) + timedelta(days=1)


def reconcile(
    session: Session, settings: Settings, appointments: Sequence[Appointment], now: datetime
) -> PlanCounts:
    """Make the outbox of these appointments equal to the plan for them at ``now``.

    ``appointments`` must hold every appointment of each client involved from the first
    one considered onwards, so that the next-session rule sees the true next session.
    """
    counts = PlanCounts()
    if not appointments:
        return counts
    following = plan_facts.next_starts(appointments)
    expected = rhythm.expected_for(session, settings.checkin_offsets, appointments, following)
    existing: dict[str, OutboundMessage] = {
        m.idempotency_key: m
        for m in session.scalars(
            select(OutboundMessage).where(
                bulk_rows.among(
                    session, OutboundMessage.appointment_id, [a.id for a in appointments]
                ),
                OutboundMessage.kind.in_(PLANNED_KINDS),
                *(~OutboundMessage.idempotency_key.startswith(p) for p in FOLLOW_UP_PREFIXES),
            )
        )
    }
    went = plan_facts.went(existing.values())
    callable_phones = plan_facts.callable_phones(session, appointments)
    wanted: set[str] = set()
    fresh: list[outbox.Draft] = []
    rules = plan_facts.plan_settings(settings, wording_in_force.current(session))
    for appointment in appointments:
        facts = plan_facts.facts(
            appointment,
            appointment.client,
            following.get(appointment.id),
            expected.get(appointment.id),
            went.get(appointment.id, ()),
            callable_phones,
        )
        for message in planning.plan_appointment(facts, rules, now):
            wanted.add(message.key)
            row = existing.get(message.key)
            if row is None:
                fresh.append(_draft(appointment, message))
            elif _refresh(session, row, message, now):
                counts.updated += 1
    for key, row in existing.items():
        if key not in wanted and row.status == MessageStatus.PLANNED:
            cancelled = outbox.replan(
                session,
                row,
                now,
                status=MessageStatus.CANCELLED,
                error_message="no longer in the plan",
            )
            counts.cancelled += int(cancelled)
    fresh, adopted = _adopt_orphans(session, fresh, now)
    counts.planned += adopted + len(outbox.enqueue(session, fresh, now))
    session.flush()
    return counts


def _adopt_orphans(
    session: Session, fresh: list[outbox.Draft], now: datetime
) -> tuple[list[outbox.Draft], int]:
    """Give each draft whose key a cancelled text of a deleted appointment holds that row
    back; the drafts still to queue, and how many were given back.

    A key holds its appointment's id, and SQLite hands the ids of deleted rows out again:
    an occurrence removed (a series ended or edited) and made again (restored, edited back)
    gets its old id, and its texts would otherwise stay cancelled under their old keys.
    """
    drafts = {d.idempotency_key: d for d in fresh}
    if not drafts:
        return fresh, 0
    orphans = session.scalars(
        select(OutboundMessage).where(
            bulk_rows.among(session, OutboundMessage.idempotency_key, list(drafts)),
            OutboundMessage.appointment_id.is_(None),
            OutboundMessage.status == MessageStatus.CANCELLED,
        )
    ).all()
    adopted = 0
    for row in orphans:
        draft = drafts.pop(row.idempotency_key)
        adopted += outbox.replan(
            session,
            row,
            now,
            **{k: getattr(draft, k) for k in ADOPTED_FIELDS},
            error_message=None,
        )
    return list(drafts.values()), adopted


# What a given-back text takes from its new draft (the key and the kind are the same).
ADOPTED_FIELDS = (
    "status",
    "send_at",
    "body",
    "template_id",
    "to_phone",
    "client_id",
    "contact_id",
    "appointment_id",
    "planned_start",
)


def _draft(appointment: Appointment, message: planning.PlannedMessage) -> outbox.Draft:
    return outbox.Draft(
        idempotency_key=message.key,
        kind=MessageKind(message.kind),
        to_phone=message.to,
        body=message.body,
        template_id=message.template_id,
        send_at=message.send_at,
        client_id=appointment.client_id,
        contact_id=message.contact_id,
        appointment_id=appointment.id,
        planned_start=message.planned_start,
        status=MessageStatus(message.status),
        channel=Channel(message.channel),
    )


def _refresh(
    session: Session, row: OutboundMessage, message: planning.PlannedMessage, now: datetime
) -> bool:
    """Bring a row the dispatcher has not taken up to date with the plan; True if changed."""
    if not _planners(row):
        return False
    new = (message.status, message.send_at, message.body, message.to, message.template_id)
    if (row.status, row.send_at, row.body, row.to_phone, row.template_id) == new:
        return False
    return outbox.replan(
        session,
        row,
        now,
        status=message.status,
        send_at=message.send_at,
        body=message.body,
        template_id=message.template_id,
        to_phone=message.to,
        error_message=None,  # a state the planner chose carries no outside reason
    )


def _planners(row: OutboundMessage) -> bool:
    """True when the row's state is the planner's to change.

    That is a text still planned, one the planner skipped or expired itself (no reason
    recorded), or a cancelled one (its appointment may be live again). Anything sent, and
    anything skipped because the number opted out or is invalid, is left alone.
    """
    if row.status in (MessageStatus.PLANNED, MessageStatus.CANCELLED):
        return True
    return (
        row.status in (MessageStatus.SKIPPED, MessageStatus.EXPIRED) and row.error_message is None
    )


def _client_appointments(
    session: Session, client_ids: Iterable[int], since: datetime
) -> list[Appointment]:
    ids = sorted(set(client_ids))
    if not ids:
        return []
    query = (
        select(Appointment)
        .where(bulk_rows.among(session, Appointment.client_id, ids), Appointment.ends_at >= since)
        .options(selectinload(Appointment.client).selectinload(Client.contacts))
        .order_by(Appointment.client_id, Appointment.starts_at, Appointment.id)
    )
    return list(session.scalars(query))


def replan_client(
    session: Session, settings: Settings, client_id: int, now: datetime
) -> PlanCounts:
    """Re-plan every appointment of one client that may still need a text (or, while
    ``REPLAN_LATER`` holds re-plans back, note the client for later)."""
    later = session.info.get(REPLAN_LATER)
    if later is not None:
        later.add(client_id)
        return PlanCounts()
    session.flush()
    # Plan from what the database now holds, not from collections loaded before the edit.
    session.expire_all()
    appointments = _client_appointments(session, [client_id], now - lookback(settings))
    return reconcile(session, settings, appointments, now)


def replan_clients(
    session: Session,
    settings: Settings,
    client_ids: Iterable[int],
    now: datetime,
    *,
    since: datetime | None = None,
) -> PlanCounts:
    """Re-plan these clients' appointments that end after ``since`` (by default, as far
    back as ``settings``' check-ins reach), a bounded chunk at a time."""
    counts = PlanCounts()
    ids = sorted(set(client_ids))
    since = since or now - lookback(settings)
    for first in range(0, len(ids), PLAN_CHUNK):
        chunk = ids[first : first + PLAN_CHUNK]
        counts.add(reconcile(session, settings, _client_appointments(session, chunk, since), now))
    return counts


def plan_horizon(
    session: Session, settings: Settings, now: datetime, *, everyone: bool = False
) -> PlanCounts:
    """Materialize the series due up to the horizon, then re-plan the clients that got new
    occurrences, or (``everyone``) every client that may still need a text.

    A series is due when its next occurrence not yet materialized (``next_start``) falls
    before the horizon, or it was never planned: one indexed query, which finds nothing on
    most ticks. Every edit re-plans its client at once, so a tick only has new occurrences
    to plan; re-planning everyone now and then (the clock does it hourly, and when it
    starts) is the net under that, and applies changed settings (offsets, quiet hours) to
    planned texts.
    """
    counts = PlanCounts()
    horizon = now + timedelta(days=settings.planning_horizon_days)
    created = series_plan.plan_due(session, now, horizon)
    counts.materialized = len(created)
    grown = {client_id for _, client_id in created}
    since = now - lookback(settings)
    client_ids = (
        session.scalars(
            select(Appointment.client_id).where(Appointment.ends_at >= since).distinct()
        )
        if everyone
        else grown
    )
    counts.add(replan_clients(session, settings, client_ids, now))
    return counts
