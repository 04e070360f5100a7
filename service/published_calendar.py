"""``GET /calendar/<token>.ics``: a user's private calendar feed, public (no session: a
calendar app fetches it) and found by its token alone.

A therapist's feed has their clients' sessions, an admin's has everyone's, from 30 days
back to the planning horizon (see ``service.domain.ics_feed`` for what an event says).
Three queries whatever the number of sessions. An unchanged feed answers 304 to
``If-None-Match`` (its ETag is the body's hash) or ``If-Modified-Since``. A revoked,
unknown or malformed token gets the same bare 404.

What the practice's settings put in the text counts as a change like any other: the
titles (CALENDAR_INITIALS_ONLY, editable on the settings page) and the calendar's name
(PRACTICE_NAME). A saved change of either changes the body, so the ETag, and moves
``Last-Modified`` to when it was saved, so a calendar app that only sends
``If-Modified-Since`` gets the new titles too; every event's LAST-MODIFIED and SEQUENCE
also move with the titles' setting, so an app that keeps events by SEQUENCE takes the
new title. A value from the environment alone (no saved value) changes only at a
restart: the ETag follows it, ``Last-Modified`` cannot know when it changed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import access, calendar_links
from service.config import Settings, current_settings
from service.db import get_session, utcnow
from service.domain.ics_feed import FeedSession, build_feed
from service.models import Appointment, AppointmentSeries, Client, PracticeSetting, User

bp = Blueprint("calendar_feed", __name__)
PAST_DAYS = 30
MIME = "text/calendar; charset=utf-8"
NOT_FOUND = "Not found.\n"
# The saved settings the feed's text depends on: its titles, and its name.
TITLES = "calendar_initials_only"
SETTINGS_SHOWN = (TITLES, "practice_name")


def window(now: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """The stretch a feed covers: from midnight (UTC) 30 days back to the end of the
    planning horizon's last day. Whole days, so a session leaves or enters the feed only
    at midnight, which ``Last-Modified`` then accounts for."""
    today = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    return today - timedelta(days=PAST_DAYS), today + timedelta(
        days=settings.planning_horizon_days + 1
    )


def _absolute(path: str, settings: Settings) -> str:
    """``path`` as a full address: the practice's public one when set, else this host."""
    base = settings.public_base_url
    return f"{base}{path}" if base else f"{request.host_url.rstrip('/')}{path}"


def addresses(token: str, settings: Settings) -> dict[str, str]:
    """The feed's address to subscribe to: ``https`` (or the scheme served) and the same
    with ``webcal``, which calendar apps open as a subscription."""
    url = _absolute(url_for("calendar_feed.feed", token=token), settings)
    return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


def _settings_saved(session: Session) -> dict[str, datetime]:
    """When each saved setting the feed shows was last saved (one query); a setting never
    saved (the environment's value) is absent."""
    rows = session.execute(
        select(PracticeSetting.name, PracticeSetting.updated_at).where(
            PracticeSetting.name.in_(SETTINGS_SHOWN)
        )
    )
    return {name: at for name, at in rows if at is not None}


def _sessions(
    session: Session, user: User, start: datetime, end: datetime, titled: datetime | None
) -> tuple[list[FeedSession], list[datetime]]:
    """The sessions in the window of the clients ``user`` may see, and when each row they
    were read from last changed (one query). An event's revision is the latest change of
    its appointment, its client (whose name makes its title) or the way titles are
    written (``titled``: when CALENDAR_INITIALS_ONLY was saved, if it was)."""
    query = (
        select(
            Appointment.id,
            Client.id,
            Client.name,
            Appointment.starts_at,
            Appointment.ends_at,
            func.coalesce(AppointmentSeries.timezone, Client.timezone),
            Appointment.status,
            Appointment.created_at,
            Appointment.updated_at,
            Client.updated_at,
            AppointmentSeries.updated_at,
        )
        .join(Client, Client.id == Appointment.client_id)
        .outerjoin(AppointmentSeries, AppointmentSeries.id == Appointment.series_id)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
    )
    settings = current_settings()
    rows = session.execute(access.scope_clients(query, user)).all()
    sessions = [
        FeedSession(
            id=row[0],
            client_name=row[2],
            starts_at=row[3],
            ends_at=row[4],
            timezone=row[5],
            status=row[6],
            created_at=row[7],
            updated_at=max(row[8], row[9], titled or row[8]),
            link=_absolute(url_for("dashboard.clients.show", client_id=row[1]), settings),
        )
        for row in rows
    ]
    changes = [at for row in rows for at in (row[8], row[9], row[10]) if at is not None]
    return sessions, changes


def not_found() -> Response:
    """The one answer for any token that opens no feed: nothing said about why."""
    return Response(NOT_FOUND, 404, mimetype="text/plain")


@bp.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    """The feed of the address with this token."""
    session, settings, now = get_session(), current_settings(), utcnow()
    found = calendar_links.owner_of(session, token)
    if found is None:
        return not_found()
    link, user = found
    start, end = window(now, settings)
    saved = _settings_saved(session)
    sessions, changes = _sessions(session, user, start, end, saved.get(TITLES))
    host = urlsplit(settings.public_base_url or "").hostname or "touchbase"
    body = build_feed(
        sessions,
        name=f"{settings.practice_name} sessions",
        host=host,
        initials_only=settings.calendar_initials_only,
    )
    response = Response(body, 200, content_type=MIME)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    # What the feed was last built from: its rows, its address, the settings it shows, and
    # the window, which moved last at midnight. A session gone without a trace (deleted, or
    # its client given to another therapist) changes the ETag at once, the date only at the
    # next midnight.
    today = start + timedelta(days=PAST_DAYS)
    response.last_modified = max([link.created_at, today, *changes, *saved.values()])
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.make_conditional(request)
    return response


def init_app(app: Flask) -> None:
    """Serve the calendar feeds."""
    app.register_blueprint(bp)
