"""Which sessions a time would overlap: the same client's, or its therapist's.

Read only; ``service.bookings`` turns what it finds into a warning to confirm. Only
sessions that exist are seen: occurrences of a series beyond the planning horizon are
materialized when the schedule is looked at, not here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.domain.vocabulary import LIVE
from service.models import Appointment, Client


def overlapping(
    session: Session, client: Client, start: datetime, end: datetime, but: int | None = None
) -> list[Appointment]:
    """The live sessions of this client, or of its therapist's clients, that overlap
    [start, end), ``but`` the one being moved; soonest first."""
    same = Appointment.client_id == client.id
    if client.therapist_id is not None:
        same = or_(same, Client.therapist_id == client.therapist_id)
    query = (
        select(Appointment)
        .join(Client, Client.id == Appointment.client_id)
        .where(same, Appointment.status.in_(LIVE))
        .where(Appointment.starts_at < end, Appointment.ends_at > start)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if but is not None:
        query = query.where(Appointment.id != but)
    return list(session.scalars(query))
