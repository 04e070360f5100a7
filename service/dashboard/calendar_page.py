"""The "Calendar" section of the account page: the user's private calendar address, made,
replaced and revoked here (``service.calendar_links`` keeps it). Audited, never with the
token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import audit, calendar_links
from service.config import current_settings
from service.dashboard.auth import current_user
from service.db import get_session, utcnow
from service.models import User
from service.published_calendar import addresses

bp = Blueprint("calendar_page", __name__)


def section(db: Session, user: User) -> dict[str, Any]:
    """What the section shows: the address in force (None: none) and, when it can be
    shown again, its ``url`` and ``webcal_url``."""
    link = calendar_links.live_link(db, user)
    settings = current_settings()
    token = calendar_links.token_of(link, settings.secret_key) if link else None
    return {"link": link, "addresses": addresses(token, settings) if token else None}


@bp.post("/account/calendar-link")
def create() -> Response:
    """Make the user's calendar address, or a new one in place of the one in force (which
    stops working at once)."""
    db, user = get_session(), current_user()
    link, _token, replaced = calendar_links.create(
        db, user, current_settings().secret_key, utcnow()
    )
    audit.record(db, user, "calendar_link_created", "calendar_link", link.id, replaced=replaced)
    db.commit()
    flash(
        "A new calendar address is made; the old one no longer works: subscribe again with "
        "the new one."
        if replaced
        else "Your calendar address is made: subscribe to it in your calendar app."
    )
    return redirect(url_for("dashboard.account.index") + "#calendar-heading")


@bp.post("/account/calendar-link/revoke")
def revoke() -> Response:
    """Revoke the user's calendar address: calendars subscribed to it stop updating."""
    db, user = get_session(), current_user()
    link = calendar_links.live_link(db, user)
    if link is None or not calendar_links.revoke(db, user, utcnow()):
        flash("You have no calendar address to revoke.")
        return redirect(url_for("dashboard.account.index"))
    audit.record(db, user, "calendar_link_revoked", "calendar_link", link.id)
    db.commit()
    flash("Your calendar address is revoked: it shows nothing from now on.")
    return redirect(url_for("dashboard.account.index"))
