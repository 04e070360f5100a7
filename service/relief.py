"""The database side of relief insight: load scores and sessions, raise the signals, pause texts.

``service.domain.relief`` does the reasoning; this module reads the facts for many clients
in a constant number of statements, and acts on the answers:

- **Gap longer than relief**: an inbox item saying "relief lasts about 3 days; sessions are
  7 days apart". One open item per client; once handled it comes back at most once per
  ``GAP_PERIOD`` while it stays true.
- **Lapsing**: an inbox item once per client and last session; where the practice turns it
  on (``REBOOKING_TEXTS``), one rebooking text through the outbox, at most one per two weeks
  per client, sent after quiet hours, never to an opted-out or invalid number.
- **Not answering**: two check-ins in a row without a reply raise an inbox item, and while
  it is open the client gets no *automatic unprompted* texts: planned check-ins and
  rebooking texts are skipped ("paused: not answering"). Reminders of booked sessions
  still go (a missed reminder costs the client a session), and so do texts staff type
  and the acknowledgements of the client's own replies. Once a therapist marks the item
  handled, the paused check-ins go back to the planner, which sends those still timely,
  and only check-ins sent after that moment count towards a new streak.

Every item carries a ``signal_key`` under a unique constraint, so concurrent clock
processes or repeated ticks raise it once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from service import consent, schedule
from service.config import Settings
from service.domain import relief, sending, texts
from service.domain.planning import after_quiet_hours
from service.models import (
    Alert,
    Appointment,
    AppointmentSeries,
    Client,
    Contact,
    ImportedPainReport,
    InboundMessage,
    OutboundMessage,
)

LIVE = ("scheduled", "confirmed", "completed")
UPCOMING = ("scheduled", "confirmed")
# Only check-ins that reached the phone (as far as we know) can go unanswered; a failed
# delivery raises its own item.
ARRIVED = ("sent", "delivered")
PAUSED = sending.PAUSED
GAP_PERIOD = timedelta(days=28)
REBOOK_PREFIX = "rebook:"
# Everything the estimate may look at: the longest window and the baseline before it.
REACH = relief.LONGEST_WINDOW + relief.BASELINE_REACH + timedelta(days=1)
STREAK_REACH = timedelta(days=30)


@dataclass(frozen=True)
class ScoreRow:
    """A pain score as the client page and the API show it."""

    at: datetime
    pain: int
    appointment_id: int | None
    imported: bool
    note: str | None = None


@dataclass
class SignalCounts:
    """What one pass of the signals did."""

    raised: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rebooking_texts: int = 0
    paused: int = 0
    resumed: int = 0


def _insert(session: Session) -> Any:
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


def scores(
    session: Session, client_ids: Sequence[int], since: datetime
) -> dict[int, list[ScoreRow]]:
    """Texted and imported pain scores since ``since``, oldest first, by client."""
    found: dict[int, list[ScoreRow]] = defaultdict(list)
    if not client_ids:
        return found
    m, p = InboundMessage, ImportedPainReport
    texted = session.execute(
        select(m.client_id, m.received_at, m.pain_score, m.appointment_id).where(
            m.client_id.in_(client_ids), m.pain_score.is_not(None), m.received_at >= since
        )
    )
    for client_id, at, pain, appointment_id in texted:
        if client_id is not None and pain is not None:  # both guaranteed by the query
            found[client_id].append(ScoreRow(at, pain, appointment_id, False))
    imported = session.execute(
        select(p.client_id, p.reported_at, p.pain, p.appointment_id, p.note).where(
            p.client_id.in_(client_ids), p.reported_at >= since
        )
    )
    for client_id, at, pain, appointment_id, note in imported:
        found[client_id].append(ScoreRow(at, pain, appointment_id, True, note))
    for rows in found.values():
        rows.sort(key=lambda r: (r.at, r.imported))
    return found


def sessions(
    session: Session, client_ids: Sequence[int], since: datetime, now: datetime
) -> dict[int, list[relief.SessionFact]]:
    """Sessions that took place (not cancelled, not no-shows) since ``since``, by client."""
    found: dict[int, list[relief.SessionFact]] = defaultdict(list)
    if not client_ids:
        return found
    rows = session.execute(
        select(Appointment.client_id, Appointment.id, Appointment.starts_at)
        .where(
            Appointment.client_id.in_(client_ids),
            Appointment.status.in_(LIVE),
            Appointment.starts_at >= since,
            Appointment.starts_at <= now,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    for client_id, appointment_id, starts_at in rows:
        found[client_id].append(relief.SessionFact(appointment_id, starts_at))
    return found


def estimates(
    session: Session, clients: Sequence[Client], now: datetime
) -> dict[int, relief.Relief]:
    """Each client's relief estimate, in two statements however many clients there are."""
    ids = [c.id for c in clients]
    since = now - REACH
    by_client_scores = scores(session, ids, since)
    by_client_sessions = sessions(session, ids, since, now)
    return {
        client.id: relief.estimate(
            by_client_sessions.get(client.id, []),
            [_domain_score(r) for r in by_client_scores.get(client.id, [])],
            client.timezone,
            now,
        )
        for client in clients
    }


def estimate(session: Session, client: Client, now: datetime) -> relief.Relief:
    """One client's relief estimate."""
    return estimates(session, [client], now)[client.id]


def _domain_score(row: ScoreRow) -> relief.Score:
    return relief.Score(row.at, row.pain, row.appointment_id, row.imported)


def latest_session_before(session: Session, client_id: int, at: datetime) -> int | None:
    """The latest session of the client that began at or before ``at``, if any."""
    found: int | None = session.scalar(
        select(Appointment.id)
        .where(
            Appointment.client_id == client_id,
            Appointment.status.in_(LIVE),
            Appointment.starts_at <= at,
        )
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(1)
    )
    return found


# --- signals ----------------------------------------------------------------------------


def _open_kinds(session: Session, client_ids: Sequence[int]) -> set[tuple[int, str]]:
    """(client, kind) of the open signal items of these clients."""
    rows = session.execute(
        select(Alert.client_id, Alert.kind).where(
            Alert.client_id.in_(client_ids),
            Alert.handled_at.is_(None),
            Alert.kind.in_(("relief_gap", "lapsing", "not_answering")),
        )
    )
    return {(client_id, kind) for client_id, kind in rows if client_id is not None}


def _raise(
    session: Session, kind: str, key: str, client_id: int, detail: str, now: datetime
) -> bool:
    """Insert the item unless one with this key exists; True when this call raised it."""
    statement = (
        _insert(session)(Alert)
        .values(
            kind=kind,
            client_id=client_id,
            detail=detail[:500],
            created_at=now,
            signal_key=key[:100],
        )
        .on_conflict_do_nothing(index_elements=["signal_key"])
        .returning(Alert.id)
    )
    return session.execute(statement).first() is not None


def active_clients(session: Session, now: datetime) -> list[Client]:
    """Clients with a session in the estimate's reach: the ones the signals look at."""
    ids = select(Appointment.client_id).where(
        Appointment.starts_at >= now - REACH,
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
        found = estimates(session, clients, now)
        open_kinds = _open_kinds(session, ids)
        _gap_signals(session, clients, found, open_kinds, now, counts)
        zones = {c.id: c.timezone for c in clients}
        _answer_signals(session, zones, open_kinds, now, counts)
        _lapse_signals(session, settings, clients, found, open_kinds, now, counts)
    counts.paused = pause(session, now)
    counts.resumed = resume(session, settings, now)
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
        if not relief.gap_longer_than_relief(estimate) or (client.id, "relief_gap") in open_kinds:
            continue
        detail = relief.gap_sentence(estimate).capitalize()
        if _raise(
            session, "relief_gap", f"relief_gap:{client.id}:{period}", client.id, detail, now
        ):
            counts.raised["relief_gap"] += 1


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
            .where(Alert.client_id.in_(ids), Alert.kind == "not_answering")
            .group_by(Alert.client_id)
        ).all()
    )
    asked: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for client_id, sent_at, message_id in session.execute(
        select(OutboundMessage.client_id, OutboundMessage.sent_at, OutboundMessage.id).where(
            OutboundMessage.client_id.in_(ids),
            OutboundMessage.kind == "checkin",
            OutboundMessage.status.in_(ARRIVED),
            OutboundMessage.sent_at >= since,
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
    for client_id, sent in asked.items():
        if (client_id, "not_answering") in open_kinds:
            continue
        streak = relief.unanswered_streak([at for at, _ in sent], replied[client_id], now)
        if streak < relief.UNANSWERED_LIMIT:
            continue
        last_id = max(sent)[1]
        asks = relief.asks([at for at, _ in sent])[-streak:]
        days = ", ".join(_day(at, zones[client_id]) for at in asks)
        detail = (
            f"{streak} check-ins in a row without a reply ({days}); check-ins and rebooking "
            "texts are paused until this is marked handled"
        )
        key = f"not_answering:{client_id}:{last_id}"
        if _raise(session, "not_answering", key, client_id, detail, now):
            counts.raised["not_answering"] += 1
            open_kinds.add((client_id, "not_answering"))


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
    ids = [c.id for c in clients]
    last = {
        client_id: (appointment_id, starts_at)
        for client_id, appointment_id, starts_at in session.execute(
            select(Appointment.client_id, Appointment.id, Appointment.starts_at)
            .where(
                Appointment.client_id.in_(ids),
                Appointment.status.in_(LIVE),
                Appointment.starts_at >= now - REACH,
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
    for client in clients:
        if client.id not in last:
            continue
        session_id, last_start = last[client.id]
        gap = found[client.id].usual_gap_days
        if not relief.lapsing(last_start, gap, upcoming.get(client.id), client.id in running, now):
            continue
        detail = (
            f"Last session {_day(last_start, client.timezone)}; usually every "
            f"{round(gap or 0)} days; nothing booked within that"
        )
        if _raise(session, "lapsing", f"lapsing:{client.id}:{session_id}", client.id, detail, now):
            counts.raised["lapsing"] += 1
        paused = (client.id, "not_answering") in open_kinds
        if settings.rebooking_texts and not paused:
            counts.rebooking_texts += rebook(session, settings, client, session_id, now)


def _day(at: datetime, timezone: str) -> str:
    """A local date as the inbox writes it: "Mon Nov 16"."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a %b} {local.day}"


def rebook(
    session: Session, settings: Settings, client: Client, session_id: int, now: datetime
) -> int:
    """Queue the one rebooking text for this lapse; return 1 if this call queued it.

    It goes to the client's own number (else the first contact that gets reminders), never
    to an opted-out or invalid one, after quiet hours, and not within two weeks of another.
    """
    contact = _rebooking_contact(session, client)
    if contact is None:
        return 0
    latest = session.scalar(
        select(func.max(OutboundMessage.created_at)).where(
            OutboundMessage.client_id == client.id,
            OutboundMessage.idempotency_key.startswith(REBOOK_PREFIX),
            OutboundMessage.status.not_in(("cancelled",)),
        )
    )
    if not relief.may_rebook(latest, now):
        return 0
    quiet_start, quiet_end = settings.quiet_hours
    send_at = after_quiet_hours(now, ZoneInfo(client.timezone), quiet_start, quiet_end)
    body = texts.rebooking(
        client.language,
        settings.practice_name,
        texts.first_name(client.name),
        settings.practice_phone or "",
    )
    statement = (
        _insert(session)(OutboundMessage)
        .values(
            idempotency_key=f"{REBOOK_PREFIX}{client.id}:{session_id}:lapsing",
            client_id=client.id,
            contact_id=contact.id,
            appointment_id=None,
            to_phone=contact.phone,
            kind="nudge",
            body=body,
            send_at=send_at.astimezone(UTC),
            status="planned",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboundMessage.id)
    )
    return 1 if session.execute(statement).first() is not None else 0


def _rebooking_contact(session: Session, client: Client) -> Contact | None:
    """The client's own number if it gets reminders, else the first contact that does;
    None when that number opted out or is invalid."""
    wanted = sorted(
        (c for c in client.contacts if c.reminders), key=lambda c: (c.relation != "self", c.id)
    )
    if not wanted:
        return None
    known = consent.numbers(session, [wanted[0].phone]).get(wanted[0].phone)
    if known is not None and (known.opted_out or known.invalid_at is not None):
        return None
    return wanted[0]


def _not_answering_clients() -> Any:
    return select(Alert.client_id).where(
        Alert.kind == "not_answering", Alert.handled_at.is_(None), Alert.client_id.is_not(None)
    )


def pause(session: Session, now: datetime) -> int:
    """Skip the planned check-ins and rebooking texts of clients not answering."""
    result = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.status == "planned",
            OutboundMessage.kind.in_(sending.PAUSABLE),
            OutboundMessage.client_id.in_(_not_answering_clients()),
        )
        .values(status="skipped", error_message=PAUSED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def resume(session: Session, settings: Settings, now: datetime) -> int:
    """Hand paused check-ins back to the planner once nobody's item is open any more, and
    re-plan those clients at once.

    A skip with no reason is the planner's own, so re-planning sends those still timely
    and expires the rest. Rebooking texts stay skipped: that moment has passed.
    """
    result = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.status == "skipped",
            OutboundMessage.error_message == PAUSED,
            OutboundMessage.kind == "checkin",
            OutboundMessage.client_id.not_in(_not_answering_clients()),
        )
        .values(error_message=None, updated_at=now)
        .execution_options(synchronize_session=False)
        .returning(OutboundMessage.client_id)
    )
    rows = result.all()
    for client_id in sorted({client_id for (client_id,) in rows if client_id is not None}):
        schedule.replan_client(session, settings, client_id, now)
    return len(rows)
