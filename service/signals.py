"""Relief signals: the inbox items the clock raises from pain history and replies.

``service.domain.relief`` does the reasoning; this module reads the facts for many clients
in a constant number of statements (``service.pain``), and acts on the answers:

- **Gap longer than relief**: an inbox item saying "relief lasts about 3 days; sessions are
  7 days apart". One open item per client; once handled it comes back at most once per
  ``GAP_PERIOD`` while it stays true.
- **Lapsing**: an inbox item once per client and last session, and where the practice
  turns it on, one rebooking text (``service.rebooking``).
- **Not answering**: two check-ins in a row without a reply raise an inbox item, and while
  it is open the client's unprompted texts wait (``domain.sending.is_paused``; the outbox
  skips them as "paused: not answering"). Once a therapist marks the item handled, the
  paused check-ins go back to the planner, which sends those still timely, and only
  check-ins sent after that moment count towards a new streak.

Every item carries a ``signal_key`` under a unique constraint, so concurrent clock
processes or repeated ticks raise it once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from service import outbox, pain, planner, rebooking
from service.alerts import raise_signal
from service.config import Settings
from service.db import lock_all
from service.domain import relief, sending
from service.domain.follow_up_calls import FOLLOW_UP_PREFIXES
from service.domain.vocabulary import (
    ARRIVED,
    LIVE,
    SIGNALS,
    UPCOMING,
    AlertKind,
    MessageKind,
)
from service.models import (
    Alert,
    Appointment,
    AppointmentSeries,
    Client,
    InboundMessage,
    OutboundMessage,
)

GAP_PERIOD = timedelta(days=28)
STREAK_REACH = timedelta(days=30)


@dataclass
class SignalCounts:
    """What one pass of the signals did."""

    raised: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rebooking_texts: int = 0
    paused: int = 0
    resumed: int = 0


def _open_kinds(session: Session, client_ids: Sequence[int]) -> set[tuple[int, str]]:
    """(client, kind) of the open signal items of these clients."""
    rows = session.execute(
        select(Alert.client_id, Alert.kind).where(
            Alert.client_id.in_(client_ids),
            Alert.handled_at.is_(None),
            Alert.kind.in_(SIGNALS),
        )
    )
    return {(client_id, kind) for client_id, kind in rows if client_id is not None}


def active_clients(session: Session, now: datetime) -> list[Client]:
    """Clients with a session in the estimate's reach: the ones the signals look at."""
    ids = select(Appointment.client_id).where(
        Appointment.starts_at >= now - pain.REACH,
        Appointment.starts_at <= now,
        Appointment.status.in_(LIVE),
    )
    query = select(Client).where(Client.id.in_(ids)).options(selectinload(Client.contacts))
    return list(session.scalars(query.order_by(Client.id)))


def run_signals(session: Session, settings: Settings, now: datetime) -> SignalCounts:
    """Raise the gap, lapsing and not-answering items, send rebooking texts, pause and resume.

    The caller commits. Safe to run in several processes at once: items and texts are
    inserted under unique keys, and pausing is one conditional statement.
    """
    counts = SignalCounts()
    clients = active_clients(session, now)
    ids = [c.id for c in clients]
    if ids:
        found = pain.estimates(session, clients, now)
        open_kinds = _open_kinds(session, ids)
        _gap_signals(session, clients, found, open_kinds, now, counts)
        zones = {c.id: c.timezone for c in clients}
        _answer_signals(session, zones, open_kinds, now, counts)
        _lapse_signals(session, settings, clients, found, open_kinds, now, counts)
    counts.paused = outbox.pause(session, now)
    resumed = outbox.resume(session, now)
    counts.resumed = len(resumed)
    # A skip with no reason is the planner's own: re-planning sends the check-ins still
    # timely and expires the rest.
    planner.replan_clients(session, settings, {c for c in resumed if c is not None}, now)
    return counts


def _gap_signals(
    session: Session,
    clients: Sequence[Client],
    found: dict[int, relief.Relief],
    open_kinds: set[tuple[int, str]],
    now: datetime,
    counts: SignalCounts,
) -> None:
    """One open "gap longer than relief" item per client, again once a period when handled."""
    period = int(now.timestamp() // GAP_PERIOD.total_seconds())
    for client in clients:
        estimate = found[client.id]
        if (
            not relief.gap_longer_than_relief(estimate)
            or (client.id, AlertKind.RELIEF_GAP) in open_kinds
        ):
            continue
        detail = relief.gap_sentence(estimate).capitalize()
        if raise_signal(
            session,
            AlertKind.RELIEF_GAP,
            f"relief_gap:{client.id}:{period}",
            client.id,
            detail,
            now,
        ):
            counts.raised[AlertKind.RELIEF_GAP] += 1


def _answer_signals(
    session: Session,
    zones: dict[int, str],
    open_kinds: set[tuple[int, str]],
    now: datetime,
    counts: SignalCounts,
) -> None:
    """A "not answering" item for each client whose last two check-ins went unanswered."""
    ids = list(zones)
    since = now - STREAK_REACH
    handled = dict(
        session.execute(
            select(Alert.client_id, func.max(Alert.handled_at))
            .where(Alert.client_id.in_(ids), Alert.kind == AlertKind.NOT_ANSWERING)
            .group_by(Alert.client_id)
        ).all()
    )
    asked: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for client_id, sent_at, message_id in session.execute(
        select(OutboundMessage.client_id, OutboundMessage.sent_at, OutboundMessage.id).where(
            OutboundMessage.client_id.in_(ids),
            OutboundMessage.kind == MessageKind.CHECKIN,
            OutboundMessage.status.in_(ARRIVED),
            OutboundMessage.sent_at >= since,
            # A call that follows a check-in (its text unanswered, or its call not picked
            # up) asks the same question again: the reply window is the first ask's.
            *(~OutboundMessage.idempotency_key.startswith(p) for p in FOLLOW_UP_PREFIXES),
        )
    ):
        after = handled.get(client_id)
        if client_id is None or sent_at is None:
            continue  # neither happens: the query asks for both
        if after is None or sent_at > after:
            asked[client_id].append((sent_at, message_id))
    replied: dict[int, list[datetime]] = defaultdict(list)
    for client_id, received_at in session.execute(
        select(InboundMessage.client_id, InboundMessage.received_at).where(
            InboundMessage.client_id.in_(list(asked)), InboundMessage.received_at >= since
        )
    ):
        if client_id is not None:
            replied[client_id].append(received_at)
    streaks = {
        client_id: streak
        for client_id, sent in asked.items()
        if (client_id, AlertKind.NOT_ANSWERING) not in open_kinds
        and (streak := relief.unanswered_streak([at for at, _ in sent], replied[client_id], now))
        >= relief.UNANSWERED_LIMIT
    }
    _raise_not_answering(session, streaks, asked, zones, open_kinds, now, counts)


def _raise_not_answering(
    session: Session,
    streaks: dict[int, int],
    asked: dict[int, list[tuple[datetime, int]]],
    zones: dict[int, str],
    open_kinds: set[tuple[int, str]],
    now: datetime,
    counts: SignalCounts,
) -> None:
    """Raise the "not answering" item of each client with a long enough streak.

    The pause holds back texts from the moment the item commits: the clients are locked
    first (in id order), so a dispatcher's batch that share-locked them finishes its sends
    before the item counts, and one that comes later reads it (``service.dispatch_batch``).
    """
    lock_all(session, Client, streaks)
    for client_id, streak in streaks.items():
        sent = asked[client_id]
        last_id = max(sent)[1]
        asks = relief.asks([at for at, _ in sent])[-streak:]
        days = ", ".join(_day(at, zones[client_id]) for at in asks)
        detail = (
            f"{streak} check-ins in a row without a reply ({days}); check-ins and rebooking "
            "texts are paused until this is marked handled"
        )
        key = f"not_answering:{client_id}:{last_id}"
        if raise_signal(session, AlertKind.NOT_ANSWERING, key, client_id, detail, now):
            counts.raised[AlertKind.NOT_ANSWERING] += 1
            open_kinds.add((client_id, AlertKind.NOT_ANSWERING))


def _lapse_signals(
    session: Session,
    settings: Settings,
    clients: Sequence[Client],
    found: dict[int, relief.Relief],
    open_kinds: set[tuple[int, str]],
    now: datetime,
    counts: SignalCounts,
) -> None:
    """A "lapsing" item per client and last session, and the rebooking text where wanted."""
    last, upcoming, running = _lapse_facts(session, [c.id for c in clients], now)
    for client in clients:
        if client.id not in last:
            continue
        session_id, last_start = last[client.id]
        gap = found[client.id].usual_gap_days
        if not relief.lapsing(last_start, gap, upcoming.get(client.id), client.id in running, now):
            continue
        detail = (
            f"Last session {_day(last_start, client.timezone)}; usually every "
            f"{relief.days_text(gap)}; nothing booked within that"
        )
        if raise_signal(
            session, AlertKind.LAPSING, f"lapsing:{client.id}:{session_id}", client.id, detail, now
        ):
            counts.raised[AlertKind.LAPSING] += 1
        not_answering = (client.id, AlertKind.NOT_ANSWERING) in open_kinds
        if settings.rebooking_texts and not sending.is_paused(MessageKind.NUDGE, not_answering):
            counts.rebooking_texts += rebooking.rebook(session, settings, client, session_id, now)


def _lapse_facts(
    session: Session, ids: Sequence[int], now: datetime
) -> tuple[dict[int, tuple[int, datetime]], dict[int, datetime], set[int]]:
    """Each client's last session (id, start), next booked start, and whether a series of
    theirs still runs."""
    last = {
        client_id: (appointment_id, starts_at)
        for client_id, appointment_id, starts_at in session.execute(
            select(Appointment.client_id, Appointment.id, Appointment.starts_at)
            .where(
                Appointment.client_id.in_(ids),
                Appointment.status.in_(LIVE),
                Appointment.starts_at >= now - pain.REACH,
                Appointment.starts_at <= now,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    }
    upcoming = dict(
        session.execute(
            select(Appointment.client_id, func.min(Appointment.starts_at))
            .where(
                Appointment.client_id.in_(ids),
                Appointment.status.in_(UPCOMING),
                Appointment.starts_at > now,
            )
            .group_by(Appointment.client_id)
        ).all()
    )
    running = set(
        session.scalars(
            select(AppointmentSeries.client_id).where(
                AppointmentSeries.client_id.in_(ids),
                (AppointmentSeries.ends_at.is_(None)) | (AppointmentSeries.ends_at > now),
            )
        )
    )
    return last, upcoming, running


def _day(at: datetime, timezone: str) -> str:
    """A local date as the inbox writes it: "Mon Nov 16"."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a %b} {local.day}"
