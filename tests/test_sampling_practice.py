"""A simulated practice on the default settings: automatic check-ins give every rhythm a
relief estimate within four sessions, and never ask more than three times a gap.

The real planner plans (series materialized, the clock's re-plan of everyone), every text
due is recorded as delivered at its planned time, and three check-ins in four are answered
(which one of each four goes unanswered differs between clients, so every pattern of a
missed baseline is tried); the real relief estimate reads the result.

"Within four sessions" is read at the start of the fifth: four sessions, each followed by
its gap's check-ins. A twice-weekly client needs all four gaps (two asks a gap, and the
estimate wants six scores); weekly, fortnightly and monthly clients (three asks a gap)
already have one at the start of the fourth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings, outbox, pain, planner
from service.config import settings_of
from service.db import get_db
from service.demo_history import answer, relief_pain
from service.domain import relief, sampling
from service.domain.vocabulary import Intent, MessageKind, MessageStatus
from service.models import Appointment, Client, OutboundMessage
from tests import factories

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 4, 7, 0, tzinfo=NY).astimezone(UTC)  # a Monday morning
# (name, rule, first session local, the largest number of asks a gap may hold)
RHYTHMS = (
    ("weekly", "FREQ=WEEKLY", datetime(2027, 1, 5, 10, 0), 3),
    ("twice weekly", "FREQ=WEEKLY;BYDAY=MO,TH", datetime(2027, 1, 4, 17, 0), 2),
    ("fortnightly", "FREQ=WEEKLY;INTERVAL=2", datetime(2027, 1, 6, 9, 0), 3),
    ("monthly", "FREQ=MONTHLY", datetime(2027, 1, 7, 13, 0), 3),
)
PHASES = range(4)  # which check-in of every four goes unanswered
DAYS = 130  # past the fifth session of the monthly clients
STEP = timedelta(hours=12)
# The practice's settings left to their defaults (empty counts as unset).
DEFAULT_SETTINGS = {"CHECKIN_OFFSETS": "", "REMINDER_OFFSETS": "", "QUIET_HOURS": ""}


def _practice(session: Session, app: Flask) -> dict[int, tuple[str, int, int]]:
    """Sixteen clients, each rhythm four times; by client id: rhythm, missed phase, limit."""
    settings = settings_of(app)
    clients = {}
    for r, (name, rule, first, limit) in enumerate(RHYTHMS):
        for phase in PHASES:
            client, _ = factories.client_with_phone(
                session, f"{name.title()} {phase}", f"+1617555{r}{phase:03d}"
            )
            bookings.start_series(
                session,
                settings,
                None,
                client,
                starts_local=first,
                rrule=rule,
                duration=60,
                ends_at=None,
                now=START,
                via="test",
            )
            clients[client.id] = (name, phase, limit)
    session.commit()
    return clients


def _deliver_and_answer(
    session: Session, app: Flask, clients: dict[int, tuple[str, int, int]], now: datetime
) -> None:
    """Record every text due by ``now`` as delivered; answer three check-ins in four."""
    settings = settings_of(app)
    due = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.status == MessageStatus.PLANNED, OutboundMessage.send_at <= now)
        .order_by(OutboundMessage.send_at, OutboundMessage.id)
    ).all()
    outbox.record_delivered(session, [m.id for m in due], now)
    for message in due:
        if message.kind != MessageKind.CHECKIN or message.client_id is None:
            continue
        session.refresh(message)
        asked_before = session.scalars(
            select(OutboundMessage.id).where(
                OutboundMessage.client_id == message.client_id,
                OutboundMessage.kind == MessageKind.CHECKIN,
                OutboundMessage.status == MessageStatus.DELIVERED,
                OutboundMessage.send_at < message.send_at,
            )
        ).all()
        if len(asked_before) % 4 == clients[message.client_id][1]:
            continue
        client = session.get(Client, message.client_id)
        assert client is not None and message.appointment_id is not None
        session_start = session.get(Appointment, message.appointment_id)
        assert session_start is not None
        day = (
            message.send_at.astimezone(NY).date() - session_start.starts_at.astimezone(NY).date()
        ).days
        score = relief_pain(7, 3, day)  # four points of relief for three days
        answer(session, settings, client, message, str(score), intent=Intent.PAIN, pain=score)


def _simulate(session: Session, app: Flask, clients: dict[int, tuple[str, int, int]]) -> None:
    """Run the planner every ``STEP`` for ``DAYS`` days, as the clock's re-plan of everyone
    does; what fell due in between is delivered first, at its planned time."""
    settings = settings_of(app)
    now = START
    while now < START + timedelta(days=DAYS):
        _deliver_and_answer(session, app, clients, now)
        planner.plan_horizon(session, settings, now, everyone=True)
        session.commit()
        now += STEP


def _sessions(session: Session, client_id: int) -> list[datetime]:
    return list(
        session.scalars(
            select(Appointment.starts_at)
            .where(Appointment.client_id == client_id)
            .order_by(Appointment.starts_at)
        )
    )


def _sent(session: Session, client_id: int, kind: str) -> list[datetime]:
    return sorted(
        at
        for at in session.scalars(
            select(OutboundMessage.sent_at).where(
                OutboundMessage.client_id == client_id,
                OutboundMessage.kind == kind,
                OutboundMessage.status == MessageStatus.DELIVERED,
            )
        )
        if at is not None
    )


def test_default_check_ins_give_every_rhythm_an_estimate_within_four_sessions(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(**DEFAULT_SETTINGS)
    assert settings_of(app).checkin_offsets == sampling.AUTO
    with get_db(app).session() as session:
        clients = _practice(session, app)
        _simulate(session, app, clients)
        found: dict[str, list[str]] = defaultdict(list)
        for client_id, (name, _, limit) in clients.items():
            client = session.get(Client, client_id)
            assert client is not None
            starts = _sessions(session, client_id)
            asked = _sent(session, client_id, MessageKind.CHECKIN)
            reminded = _sent(session, client_id, MessageKind.REMINDER)
            assert len(starts) >= 5, name
            # After four sessions, each followed by its gap: at the fifth's start.
            estimate = pain.estimate(session, client, starts[4])
            found[name].append(estimate.status)
            assert estimate.status != relief.NOT_ENOUGH_DATA, (name, estimate)
            if limit == 3:  # three asks a gap: already at the fourth's start
                early = pain.estimate(session, client, starts[3])
                assert early.status != relief.NOT_ENOUGH_DATA, (name, early)
            for begin, end in pairwise(starts):
                in_gap = [at for at in asked if begin <= at < end]
                assert len(in_gap) <= limit, (name, begin, in_gap)
            local_days = [at.astimezone(NY).date() for at in asked]
            assert len(set(local_days)) == len(local_days), name
            spacing = min(abs(a - r) for a in asked for r in reminded)
            assert spacing >= sampling.REMINDER_SPACING, name
    assert set(found) == {name for name, *_ in RHYTHMS}
