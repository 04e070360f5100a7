"""Pain history as the pages, the API and the signals read it: scores, sessions, estimates.

``service.domain.relief`` does the reasoning; this module reads the facts for many clients
in a constant number of statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain import relief
from service.domain.vocabulary import LIVE
from service.models import Appointment, Client, ImportedPainReport, InboundMessage

# Everything the estimate may look at: the longest window and the baseline before it.
REACH = relief.LONGEST_WINDOW + relief.BASELINE_REACH + timedelta(days=1)


def scores(
    session: Session, client_ids: Sequence[int], since: datetime
) -> dict[int, list[relief.Score]]:
    """Texted and imported pain scores since ``since``, oldest first, by client."""
    found: dict[int, list[relief.Score]] = defaultdict(list)
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
            found[client_id].append(relief.Score(at, pain, appointment_id, False))
    imported = session.execute(
        select(p.client_id, p.reported_at, p.pain, p.appointment_id, p.note).where(
            p.client_id.in_(client_ids), p.reported_at >= since
        )
    )
    for client_id, at, pain, appointment_id, note in imported:
        found[client_id].append(relief.Score(at, pain, appointment_id, True, note))
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
            by_client_scores.get(client.id, []),
            client.timezone,
            now,
        )
        for client in clients
    }


def estimate(session: Session, client: Client, now: datetime) -> relief.Relief:
    """One client's relief estimate."""
    return estimates(session, [client], now)[client.id]


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
