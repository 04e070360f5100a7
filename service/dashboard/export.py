"""CSV exports: one client's replies and pain scores, and every reply in a date range.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) would be
read as a formula by spreadsheet programs, and a text message is exactly where such a
cell comes from; those cells get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from service import audit
from service.access import client_for, scope_clients
from service.config import current_settings
from service.dashboard.auth import current_user
from service.dashboard.forms import Form
from service.dashboard.timefmt import iso
from service.db import get_session, utcnow
from service.domain import recurrence
from service.models import Client, Contact, ImportedPainReport, InboundMessage, User

bp = Blueprint("export", __name__)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_DAYS = 366
# ``source``: "text" for a reply, "imported" for a score imported from paper or another system.
CLIENT_HEADER = (
    "received_at",
    "source",
    "contact",
    "relation",
    "intent",
    "pain_score",
    "text",
)
RANGE_HEADER = (
    "received_at",
    "client",
    "therapist",
    "contact",
    "relation",
    "intent",
    "pain_score",
    "text",
)


def cell(value: object) -> str:
    """One CSV cell, defused if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV text with a header line, every cell defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def _download(text: str, filename: str) -> Response:
    """The CSV as a file download: UTF-8 with a byte-order mark, for Excel."""
    return Response(
        text.encode("utf-8-sig"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/clients/<int:client_id>/export.csv")
def client_csv(client_id: int) -> Response:
    """One client's replies with their pain scores, and imported scores, oldest first."""
    db, user = get_session(), current_user()
    client = client_for(db, user, client_id)
    if client is None:
        abort(404)
    rows = db.execute(
        select(InboundMessage, Contact.name, Contact.relation)
        .outerjoin(Contact, Contact.id == InboundMessage.contact_id)
        .where(InboundMessage.client_id == client.id)
        .order_by(InboundMessage.received_at, InboundMessage.id)
    ).all()
    imported = db.scalars(
        select(ImportedPainReport)
        .where(ImportedPainReport.client_id == client.id)
        .order_by(ImportedPainReport.reported_at, ImportedPainReport.id)
    ).all()
    tz = client.timezone
    lines: list[tuple[datetime, tuple[object, ...]]] = [
        (r.received_at, ("text", name, relation, r.intent, r.pain_score, r.body))
        for r, name, relation in rows
    ]
    lines += [(p.reported_at, ("imported", "", "", "pain", p.pain, p.note or "")) for p in imported]
    lines.sort(key=lambda line: line[0])
    text = to_csv(CLIENT_HEADER, ((iso(at, tz), *cells) for at, cells in lines))
    audit.record(db, user, "export", "client", client.id, rows=len(lines))
    db.commit()
    return _download(text, f"client-{client.id}-replies.csv")


def _range(form: Form, tz: str) -> tuple[datetime, datetime] | None:
    """The instants of [first day 00:00, day after the last 00:00) in ``tz``, or None."""
    first, last = form.date("from", required=True), form.date("to", required=True)
    if first is None or last is None:
        return None
    if last < first:
        form.errors["to"] = "The last day must not be before the first."
        return None
    if (last - first).days >= MAX_DAYS:
        form.errors["to"] = f"At most {MAX_DAYS} days at a time."
        return None
    zone = ZoneInfo(tz)
    start = recurrence.to_utc(datetime.combine(first, time()), zone)
    return start, recurrence.to_utc(datetime.combine(last + timedelta(days=1), time()), zone)


@bp.get("/export")
def replies() -> Response | str | tuple[str, int]:
    """The export page; with a date range, every reply the user may see in it, as CSV."""
    db, user = get_session(), current_user()
    tz = current_settings().practice_timezone
    if "from" not in request.args:
        today = utcnow().astimezone(ZoneInfo(tz)).date().isoformat()
        form = Form(defaults={"from": today[:8] + "01", "to": today})
        return render_template("export.html", form=form)
    form = Form(request.args)
    bounds = _range(form, tz)
    if bounds is None:
        return render_template("export.html", form=form), 422
    query = (
        select(InboundMessage, Client.name, User.name, Contact.name, Contact.relation)
        .outerjoin(Client, Client.id == InboundMessage.client_id)
        .outerjoin(User, User.id == Client.therapist_id)
        .outerjoin(Contact, Contact.id == InboundMessage.contact_id)
        .where(InboundMessage.received_at >= bounds[0], InboundMessage.received_at < bounds[1])
        .order_by(InboundMessage.received_at, InboundMessage.id)
    )
    rows = db.execute(scope_clients(query, user)).all()
    text = to_csv(
        RANGE_HEADER,
        (
            (
                iso(r.received_at, tz),
                client or f"unknown sender {r.from_phone}",
                therapist,
                contact,
                relation,
                r.intent,
                r.pain_score,
                r.body,
            )
            for r, client, therapist, contact, relation in rows
        ),
    )
    span = f"{form.raw('from')}..{form.raw('to')}"
    clients = sorted({r.client_id for r, *_ in rows if r.client_id is not None})
    audit.record(db, user, "export", "replies", span[:50], rows=len(rows), clients=clients)
    db.commit()
    return _download(text, f"replies-{form.raw('from')}-to-{form.raw('to')}.csv")
