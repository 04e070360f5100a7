"""``/api/v1/calendar-link``: the caller's private calendar address (see
``service.calendar_links``).

``GET`` answers ``{"url", "webcal_url", "created_at"}``: the address in force, or a new one
made on first use (201). Since the token is derived from the SECRET_KEY, the same address
is given again at every GET; one made under an earlier SECRET_KEY cannot be shown, so a
GET then replaces it. ``DELETE`` revokes it (204; 404 when there is none).

Two first GETs at once (two devices, a retry) make one address, and both are given it:
a GET that finds none takes the caller's user row (``db.lock``: a row lock on PostgreSQL,
the write lock on SQLite) and looks again before making one, so the second waits for the
first to commit and then finds its address (200) instead of replacing it. No unique
constraint can say "one address in force per user" without a partial index, and the
revoked ones are kept for the record; the lock is the rule, as ``calendar_links.create``
already takes it for the account page's "new address".
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from sqlalchemy.orm import Session

from service import audit, calendar_links
from service.api.errors import not_found
from service.api.tokens import current_user
from service.calendar_models import CalendarLink
from service.config import current_settings
from service.db import get_session, lock, utcnow
from service.models import User
from service.published_calendar import addresses

bp = Blueprint("api_calendar_link", __name__)
VIA = "api"


def _shown(session: Session, user: User, secret_key: str) -> tuple[CalendarLink, str] | None:
    """The caller's address in force and its token, when there is one that can be shown."""
    link = calendar_links.live_link(session, user)
    token = calendar_links.token_of(link, secret_key) if link else None
    return (link, token) if link is not None and token is not None else None


@bp.get("/calendar-link")
def show() -> tuple[dict[str, Any], int]:
    """The caller's calendar address, made when there is none (or none that can be shown)."""
    session, user, settings = get_session(), current_user(), current_settings()
    found = _shown(session, user, settings.secret_key)
    if found is None:
        lock(session, User, user.id)  # a GET making one at the same time: wait, look again
        found = _shown(session, user, settings.secret_key)
    status = 200
    if found is not None:
        link, token = found
    else:
        link, token, replaced = calendar_links.create(session, user, settings.secret_key, utcnow())
        audit.record(
            session,
            user,
            "calendar_link_created",
            "calendar_link",
            link.id,
            replaced=replaced,
            via=VIA,
        )
        session.commit()
        status = 201
    return {**addresses(token, settings), "created_at": link.created_at.isoformat()}, status


@bp.delete("/calendar-link")
def revoke() -> Response:
    """Revoke the caller's calendar address: subscribed calendars stop updating."""
    session, user = get_session(), current_user()
    link = calendar_links.live_link(session, user)
    if link is None or not calendar_links.revoke(session, user, utcnow()):
        raise not_found("calendar link")
    audit.record(session, user, "calendar_link_revoked", "calendar_link", link.id, via=VIA)
    session.commit()
    return Response(status=204)
