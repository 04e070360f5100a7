"""The inbox: open items by urgency, then newest first; handling, closing and answering.

Items rank as ``vocabulary.INBOX_ORDER`` says (a pain alert above a not-understood
tapback). Times are in the practice's zone, named once on the page, each with how long
ago it was. An item about no client and no therapist (a text from an unknown number) is
everyone's: every therapist sees it, and may link the number to one of their clients or
say it is not the practice's. An item about no client that is one therapist's
(``Alert.therapist_id``: their failing calendar feed) is seen by them and admins only,
and named "Calendar feed of <therapist>", linking to the feeds page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from service import audit, replies, roster
from service.access import Query, client_for, visible_clients
from service.config import current_settings
from service.dashboard import compose
from service.dashboard.auth import client_or_404, current_user
from service.dashboard.forms import Form
from service.dashboard.security import safe_next
from service.db import get_session, utcnow
from service.domain import triage
from service.domain.vocabulary import INBOX_ORDER, AlertKind
from service.models import Alert, Client, Contact, InboundMessage, User

bp = Blueprint("inbox", __name__)
PAGE = 200
CLOSED_SHOWN, CLOSED_SHOWN_FOR = 20, timedelta(days=1)
URGENCY = case(triage.RANK, value=Alert.kind, else_=len(INBOX_ORDER))


def scope_items(query: Query, user: User) -> Query:
    """Items ``user`` may see: their clients', and those about no client that are nobody's
    in particular or theirs (an admin sees all)."""
    if user.is_admin:
        return query
    whose = or_(Alert.therapist_id.is_(None), Alert.therapist_id == user.id)
    return query.where(or_(and_(Alert.client_id.is_(None), whose), Client.therapist_id == user.id))


@bp.get("/")
def index() -> str:
    """Open items, most urgent first, each with its client and the text that raised it."""
    db, user, now = get_session(), current_user(), utcnow()
    base = select(Alert, Client, InboundMessage).outerjoin(Client, Client.id == Alert.client_id)
    base = base.outerjoin(InboundMessage, InboundMessage.id == Alert.inbound_id)
    base = base.options(selectinload(Client.contacts))  # who an answer goes to
    order = (URGENCY, Alert.created_at.desc(), Alert.id.desc())
    open_only = scope_items(base, user).where(Alert.handled_at.is_(None))
    shown = db.execute(open_only.order_by(*order).limit(PAGE)).all()
    closed = _closed_by_themselves(db, user, now)
    counted = select(func.count(Alert.id)).outerjoin(Client, Client.id == Alert.client_id)
    total = db.scalar(scope_items(counted, user).where(Alert.handled_at.is_(None))) or 0
    clients = sorted({c.id for _, c, _ in [*shown, *closed] if c is not None})
    owners = _feed_owners(db, [a for a, _, _ in [*shown, *closed]])
    audit.record(db, user, "list", "client", "*", clients=clients, via="inbox")
    db.commit()
    return render_template(
        "inbox.html",
        rows=shown,
        closed=closed,
        total=total,
        page=PAGE,
        now=now,
        ago=triage.ago,
        zone=current_settings().practice_timezone,
        answer_to=_answer_to,
        feed_owners=owners,
        new_key=compose.new_key,
        max_body=compose.MAX_BODY,
    )


def _closed_by_themselves(db: Session, user: User, now: datetime) -> list[Any]:
    """Items that closed themselves in the last day (newest first), to say how."""
    query = select(Alert, Client, InboundMessage).outerjoin(Client, Client.id == Alert.client_id)
    query = query.outerjoin(InboundMessage, InboundMessage.id == Alert.inbound_id)
    query = query.where(
        Alert.closed_note.is_not(None),
        Alert.handled_by_id.is_(None),
        Alert.handled_at >= now - CLOSED_SHOWN_FOR,
    )
    query = scope_items(query, user)
    return list(db.execute(query.order_by(Alert.handled_at.desc()).limit(CLOSED_SHOWN)))


def _feed_owners(db: Session, items: list[Alert]) -> dict[int, str]:
    """Whose calendar feed each failing-feed item is about (their name), by item."""
    feeds = [a for a in items if a.kind == AlertKind.CALENDAR_FEED and a.client_id is None]
    ids = {a.therapist_id for a in feeds if a.therapist_id is not None}
    names: dict[int, str] = {}
    if ids:
        rows = db.execute(select(User.id, User.name).where(User.id.in_(ids)))
        names.update((user_id, name) for user_id, name in rows)
    return {a.id: names.get(a.therapist_id or 0, "a therapist") for a in feeds}


def _answer_to(alert: Alert, client: Client) -> Contact | None:
    """Who an answer from this item goes to: the number that wrote, else the client's own."""
    contacts = client.contacts_own_first
    wrote = [c for c in contacts if alert.phone and c.phone == alert.phone]
    return next(iter(wrote or contacts), None)


def visible_item(db: Session, user: User, alert_id: int) -> Alert:
    """The item when ``user`` may see it; 404 otherwise."""
    alert = db.get(Alert, alert_id)
    if alert is None:
        abort(404)
    if alert.client_id is not None and client_for(db, user, alert.client_id) is None:
        abort(404)
    if alert.client_id is None and alert.therapist_id not in (None, user.id) and not user.is_admin:
        abort(404)  # another therapist's own item (their failing calendar feed)
    return alert


def close_item(db: Session, user: User, alert: Alert, note: str | None = None) -> bool:
    """Mark the item handled by ``user`` (with how, when given); False when it already was.

    Conditional, so two people handling the same item at once record only the first.
    """
    result = db.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.handled_at.is_(None))
        .values(handled_at=utcnow(), handled_by_id=user.id, closed_note=note)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    action = "handle" if note is None else "close"
    audit.record(db, user, action, "alert", alert.id, kind=alert.kind, client=alert.client_id)
    return True


@bp.post("/alerts/<int:alert_id>/handled")
def handle(alert_id: int) -> Response:
    """Mark an item handled by the current user; it leaves the inbox, not the history."""
    db, user = get_session(), current_user()
    alert = visible_item(db, user, alert_id)
    if close_item(db, user, alert):
        flash("Marked as handled.")
    else:
        flash("Someone had already marked it handled.")
    db.commit()
    return redirect(safe_next(request.form.get("next"), url_for("dashboard.inbox.index")))


@bp.post("/alerts/<int:alert_id>/not-ours")
def not_ours(alert_id: int) -> Response:
    """Close a text from an unknown number as not the practice's."""
    db, user = get_session(), current_user()
    alert = visible_item(db, user, alert_id)
    if alert.client_id is not None:
        abort(404)
    if close_item(db, user, alert, "not ours"):
        flash("Closed as not ours.")
    else:
        flash("Someone had already handled it.")
    db.commit()
    return redirect(url_for("dashboard.inbox.index"))


RELATIONS = ("self", "caregiver", "parent", "partner", "child", "friend", "other")


def _add_number(db: Session, user: User, alert: Alert, client: Client, form: Form) -> bool:
    """Add the item's number as a contact of ``client`` (a number another client has only
    once confirmed: ``SharedPhone`` goes to the caller); then every open item about that
    unknown number joins the client and closes. False when the client already has it."""
    relation = form.choice("relation", RELATIONS, "self")
    values: dict[str, object] = {"name": form.text("name", required=True), "relation": relation}
    values |= {"phone": alert.phone, "reminders": True, "checkins": relation == "self"}
    try:
        roster.add_contact(
            db,
            current_settings(),
            user,
            client,
            values,
            utcnow(),
            via="inbox",
            confirm_shared=form.checkbox("confirm_shared"),
        )
    except roster.PhoneTaken:
        form.errors["client_id"] = "This client already has a contact with that number."
        return False
    replies.adopt(db, alert.phone or "", client.id)
    same = db.scalars(
        select(Alert).where(
            Alert.phone == alert.phone, Alert.client_id.is_(None), Alert.handled_at.is_(None)
        )
    ).all()
    for item in {alert, *same}:
        item.client_id = client.id
        close_item(db, user, item, "linked to this client")
    return True


@bp.route("/alerts/<int:alert_id>/link", methods=["GET", "POST"])
def link(alert_id: int) -> Response | str | tuple[str, int]:
    """Confirm, then add the unknown number as a contact of one of the user's clients."""
    db, user = get_session(), current_user()
    alert = visible_item(db, user, alert_id)
    if alert.client_id is not None or not alert.phone or alert.handled_at is not None:
        abort(404)
    form = Form(request.form if request.method == "POST" else None, {"relation": "self"})
    shared = None
    if form.submitted:
        wanted = form.raw("client_id")
        if not wanted.isdigit() or client_for(db, user, int(wanted)) is None:
            form.errors["client_id"] = "Choose one of your clients."
        if form.ok and form.text("name", required=True):
            client = client_or_404(db, int(wanted), for_change=True)
            try:
                added = _add_number(db, user, alert, client, form)
            except roster.SharedPhone as warning:
                added, shared = False, warning.warning  # a box to tick; nothing written
            if added:
                db.commit()
                flash("Number linked; it is now one of the client's contacts.")
                return redirect(url_for("dashboard.clients.show", client_id=client.id))
    clients = db.scalars(visible_clients(user)).all()
    audit.record(db, user, "list", "client", "*", clients=[c.id for c in clients], via="link")
    db.commit()
    page = render_template(
        "inbox_link.html",
        alert=alert,
        form=form,
        clients=clients,
        relations=RELATIONS,
        shared=shared,
    )
    return (page, 422) if form.submitted and not shared else page
