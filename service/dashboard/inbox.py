"""The inbox: alerts nobody has handled yet, newest first; marking one handled."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import audit
from service.access import client_for, scope_clients
from service.dashboard.auth import current_user
from service.dashboard.security import safe_next
from service.db import get_session, utcnow
from service.models import Alert, Client, InboundMessage, User

bp = Blueprint("inbox", __name__)
PAGE = 200


@bp.get("/")
def index() -> str:
    """Unhandled alerts, newest first, each with its client and the text that raised it.

    The client is outer-joined: an alert about no client (an unknown sender) has no
    therapist, so only an admin, whose scope has no therapist condition, sees it.
    """
    db, user = get_session(), current_user()
    base = select(Alert, Client, InboundMessage).outerjoin(Client, Client.id == Alert.client_id)
    base = base.outerjoin(InboundMessage, InboundMessage.id == Alert.inbound_id)
    open_only = scope_clients(base, user).where(Alert.handled_at.is_(None))
    rows = db.execute(open_only.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(PAGE))
    counted = scope_clients(
        select(func.count(Alert.id)).outerjoin(Client, Client.id == Alert.client_id), user
    ).where(Alert.handled_at.is_(None))
    total = db.scalar(counted) or 0
    shown = rows.all()
    clients = sorted({client.id for _, client, _ in shown if client is not None})
    audit.record(db, user, "list", "client", "*", clients=clients, via="inbox")
    db.commit()
    return render_template("inbox.html", rows=shown, total=total, page=PAGE)


def _visible_alert(db: Session, user: User, alert_id: int) -> Alert:
    """The alert when ``user`` may see it; 404 otherwise."""
    alert = db.get(Alert, alert_id)
    if alert is None:
        abort(404)
    if alert.client_id is None:
        if not user.is_admin:
            abort(404)
    elif client_for(db, user, alert.client_id) is None:
        abort(404)
    return alert


@bp.post("/alerts/<int:alert_id>/handled")
def handle(alert_id: int) -> Response:
    """Mark an alert handled by the current user; it leaves the inbox, not the history."""
    db, user, now = get_session(), current_user(), utcnow()
    alert = _visible_alert(db, user, alert_id)
    # Conditional, so two people handling the same alert at once record only the first.
    result = db.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.handled_at.is_(None))
        .values(handled_at=now, handled_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        audit.record(db, user, "handle", "alert", alert.id, kind=alert.kind, client=alert.client_id)
        flash("Marked as handled.")
    else:
        flash("Someone had already marked it handled.")
    db.commit()
    return redirect(safe_next(request.form.get("next"), url_for("dashboard.inbox.index")))
