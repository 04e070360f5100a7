"""The client list (search, latest pain, trend, next session, badges) and reassignment."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from service import audit, pain, roster
from service.access import client_for, visible_clients
from service.dashboard import charts, queries
from service.dashboard.auth import current_user, require_admin
from service.dashboard.client_page import render_client_page
from service.db import get_session, lock, utcnow
from service.domain.relief import Relief
from service.models import Client, Contact, User
from service.values import whole_number

bp = Blueprint("clients", __name__)
PAGE = 50


def _search(q: str) -> object:
    """The WHERE clause of a search by name or by (part of) a phone number."""
    by_name = func.lower(Client.name).contains(q.lower(), autoescape=True)
    digits = re.sub(r"\D", "", q)
    if len(digits) < 3:
        return by_name
    by_phone = Client.id.in_(
        select(Contact.client_id).where(Contact.phone.contains(digits, autoescape=True))
    )
    return or_(by_name, by_phone)


@bp.get("/clients")
def index() -> str:
    """Clients the user may see, searchable; each with pain, trend, next session, badges and
    the days in pain between sessions, by name or (``sort=pain_days``) most days in pain first.

    Sorting by days in pain needs every matching client's estimate before the page is cut,
    so that order reads all of them (still in a fixed number of statements).
    """
    db, user, now = get_session(), current_user(), utcnow()
    q = request.args.get("q", "").strip()[:100]
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    sort = "pain_days" if request.args.get("sort") == "pain_days" else "name"
    query = visible_clients(user)
    if q:
        query = query.where(_search(q))  # type: ignore[arg-type]
    listed = query.add_columns(User.name).outerjoin(User, User.id == Client.therapist_id)
    rows: list[tuple[Client, str | None]]
    if sort == "pain_days":
        everyone = [(client, name) for client, name in db.execute(listed)]
        found = pain.estimates(db, [client for client, _ in everyone], now)
        everyone.sort(key=lambda row: _most_in_pain(found[row[0].id]))
        rows = everyone[(page - 1) * PAGE : page * PAGE + 1]
    else:
        page_rows = db.execute(listed.offset((page - 1) * PAGE).limit(PAGE + 1))
        rows = [(client, name) for client, name in page_rows]
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    if sort != "pain_days":
        found = pain.estimates(db, [client for client, _ in rows], now)
    ids = [client.id for client, _ in rows]
    audit.record(db, user, "list", "client", "*", clients=ids, via="clients")
    db.commit()
    latest = queries.latest_pain(db, ids)
    items = [
        {
            "client": client,
            "therapist": therapist,
            "pain": latest.get(client.id, []),
            "trend": charts.sparkline([p.score for p in latest.get(client.id, [])]),
            "relief": found[client.id],
        }
        for client, therapist in rows
    ]
    return render_template(
        "clients/list.html",
        items=items,
        q=q,
        page=page,
        more=more,
        sort=sort,
        upcoming=queries.next_appointments(db, ids, now),
        reach=queries.reach(db, ids),
    )


def _most_in_pain(estimate: Relief) -> tuple[bool, float]:
    """Sort key: most days in pain first; clients without an estimate last, by name."""
    days = estimate.days_in_pain
    return (days is None, -(days or 0.0))


@bp.get("/clients/<int:client_id>")
def show(client_id: int) -> tuple[str, int]:
    """One client's record; every view is written to the audit log."""
    db, user = get_session(), current_user()
    client = client_for(db, user, client_id)
    if client is None:
        abort(404)
    audit.record(db, user, "view", "client", client.id, via="dashboard")
    db.commit()
    return render_client_page(client)


@bp.post("/clients/<int:client_id>/therapist")
def reassign(client_id: int) -> Response:
    """Give a client to another active therapist (admins only)."""
    db, admin = get_session(), require_admin()
    client = lock(db, Client, client_id)
    if client is None:
        abort(404)
    wanted = whole_number(request.form.get("therapist_id", ""))  # 9 digits at most: in range
    therapist = db.get(User, wanted) if wanted else None
    if therapist is None or roster.therapist_refusal(db, admin, therapist.id) is not None:
        flash("Choose an active account to take this client.", "error")
        return redirect(url_for("dashboard.clients.show", client_id=client.id))
    roster.assign_therapist(db, admin, client, therapist.id, via="dashboard")
    db.commit()
    flash(f"Reassigned to {therapist.name}.")
    return redirect(url_for("dashboard.clients.show", client_id=client.id))
