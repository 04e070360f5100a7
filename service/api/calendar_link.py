"""``/api/v1/calendar-link``: the caller's private calendar address (see
``service.calendar_links``).

``GET`` answers ``{"url", "webcal_url", "created_at"}``: the address in force, or a new one
made on first use (201). Since the token is derived from the SECRET_KEY, the same address
is given again at every GET; one made under an earlier SECRET_KEY cannot be shown, so a
GET then replaces it. ``DELETE`` revokes it (204; 404 when there is none).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from service import audit, calendar_links
from service.api.errors import not_found
from service.api.tokens import current_user
from service.calendar_feed import addresses
from service.config import current_settings
from service.db import get_session, utcnow

bp = Blueprint("api_calendar_link", __name__)
VIA = "api"


@bp.get("/calendar-link")
def show() -> tuple[dict[str, Any], int]:
    """The caller's calendar address, made when there is none (or none that can be shown)."""
    session, user, settings = get_session(), current_user(), current_settings()
    link = calendar_links.live_link(session, user)
    token = calendar_links.token_of(link, settings.secret_key) if link else None
    status = 200
    if link is None or token is None:
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
