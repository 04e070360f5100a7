"""Relief insight: import pain history, and read the relief curve of a client."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint
from sqlalchemy.orm import Session

from service import audit, pain
from service.access import client_for
from service.api.errors import not_found
from service.api.inputs import Fields, json_body
from service.api.serialize import local_iso
from service.api.tokens import current_user
from service.db import get_session, utcnow
from service.domain import recurrence
from service.domain.vocabulary import CALLED_OFF
from service.models import Appointment, Client, ImportedPainReport
from service.values import MAX_ID

bp = Blueprint("api_relief", __name__)

REPORT_FIELDS = {"reported_at", "pain", "appointment_id", "note"}


def _visible_client(session: Session, client_id: int) -> Client:
    client = client_for(session, current_user(), client_id)
    if client is None:
        raise not_found("client")
    return client


def _reported_at(fields: Fields, client: Client, now: datetime) -> datetime | None:
    """When the score was given: with an offset an instant, without it local; not future."""
    value = fields.local_or_aware("reported_at", required=True)
    if value is None:
        return None
    value = value.replace(microsecond=0)
    at = value if value.tzinfo is not None else recurrence.to_utc(value, ZoneInfo(client.timezone))
    if at > now:
        fields.errors["reported_at"] = "must not be in the future"
        return None
    return at


def _appointment(
    session: Session, fields: Fields, client: Client, at: datetime | None
) -> int | None:
    """The session the score describes: the one named, else the latest begun before it."""
    wanted = fields.integer("appointment_id", low=1, high=MAX_ID)
    if wanted is None:
        return pain.latest_session_before(session, client.id, at) if at is not None else None
    appointment = session.get(Appointment, wanted)
    if appointment is None or appointment.client_id != client.id:
        fields.errors["appointment_id"] = "no such appointment of this client"
        return None
    if appointment.status in CALLED_OFF:
        fields.errors["appointment_id"] = "that appointment did not take place"
        return None
    return appointment.id


def report_json(report: ImportedPainReport, tz: str) -> dict[str, Any]:
    """An imported score, marked as imported."""
    return {
        "id": report.id,
        "client_id": report.client_id,
        "reported_at": local_iso(report.reported_at, tz),
        "pain": report.pain,
        "appointment_id": report.appointment_id,
        "note": report.note,
        "imported": True,
    }


@bp.post("/clients/<int:client_id>/pain-reports")
def import_pain_report(client_id: int) -> tuple[dict[str, Any], int]:
    """Import one pain score kept on paper or in another system; it counts like a texted one."""
    session, user, now = get_session(), current_user(), utcnow()
    client = _visible_client(session, client_id)
    fields = json_body(REPORT_FIELDS)
    at = _reported_at(fields, client, now)
    score = fields.integer("pain", low=0, high=10)
    if score is None and "pain" not in fields.errors:
        fields.errors["pain"] = "is required"
    note = fields.text("note", max_length=1000)
    appointment_id = _appointment(session, fields, client, at)
    fields.done()
    assert at is not None and score is not None  # done() raised otherwise
    report = ImportedPainReport(
        client_id=client.id,
        appointment_id=appointment_id,
        reported_at=at,
        pain=score,
        note=note,
        created_by_id=user.id,
        created_at=now,
    )
    session.add(report)
    session.flush()
    audit.record(session, user, "import_pain", "client", client.id, report_id=report.id, via="api")
    session.commit()
    return report_json(report, client.timezone), 201


@bp.get("/clients/<int:client_id>/relief")
def get_relief(client_id: int) -> dict[str, Any]:
    """The client's relief curve, baseline and duration; audited as a view of the record."""
    session, user = get_session(), current_user()
    client = _visible_client(session, client_id)
    found = pain.estimate(session, client, utcnow())
    audit.record(session, user, "view", "client", client.id, via="api", what="relief")
    session.commit()
    return {
        "baseline": found.baseline,
        "relief_days": found.relief_days,
        "sessions_used": found.sessions_used,
        "curve": [
            {"day": p.day, "median": p.median, "low": p.low, "high": p.high, "n": p.n}
            for p in found.curve
        ],
        "usual_gap_days": found.usual_gap_days,
    }
