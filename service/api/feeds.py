"""Calendar subscriptions in, through the API: add, list and remove a therapist's feeds.

A therapist sees and changes their own feeds; an admin everyone's, and may add one for a
therapist. The address is a password: answered whole only to the feed's therapist (an
admin sees another's as scheme and host), and never logged. ``service.calendar_feeds``
does the work; the clock fetches.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy import select

from service import calendar_feeds
from service.api.errors import invalid, not_found
from service.api.inputs import json_body
from service.api.tokens import current_user
from service.config import current_settings
from service.db import get_session, lock, utcnow
from service.feed_models import CalendarFeed
from service.models import User
from service.values import MAX_ID

bp = Blueprint("api_feeds", __name__)
VIA = "api"
FLAGS = {"true": True, "false": False}


def feed_json(feed: CalendarFeed, user: User) -> dict[str, Any]:
    """A feed as the API shows ``user`` it (times in UTC; the address whole only to the
    feed's therapist: ``calendar_feeds.shown_address``)."""

    def at(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": feed.id,
        "therapist_id": feed.therapist_id,
        "url": calendar_feeds.shown_address(feed, user),
        "created_at": at(feed.created_at),
        "last_fetched_at": at(feed.last_fetched_at),
        "last_success_at": at(feed.last_success_at),
        "last_error": feed.last_error,
    }


@bp.post("/calendar-feeds")
def add_feed() -> tuple[dict[str, Any], int]:
    """Subscribe a therapist (the caller unless an admin names one) to a feed."""
    session, now = get_session(), utcnow()
    fields = json_body({"url", "therapist_id"})
    url = fields.text("url", required=True, max_length=calendar_feeds.LONGEST_URL)
    therapist_id = fields.integer("therapist_id", low=1, high=MAX_ID)
    fields.done()
    assert url is not None  # required: done() refused its absence
    try:
        feed = calendar_feeds.add_feed(
            session, current_settings(), current_user(), url, therapist_id, now, via=VIA
        )
    except calendar_feeds.FeedRefused as refused:
        raise invalid({refused.field: str(refused)}) from None
    body = feed_json(feed, current_user())
    session.commit()
    return body, 201


@bp.get("/calendar-feeds")
def list_feeds() -> dict[str, Any]:
    """The caller's feeds (an admin: everyone's), with their last fetch and error."""
    user = current_user()
    query = select(CalendarFeed).order_by(CalendarFeed.id)
    if not user.is_admin:
        query = query.where(CalendarFeed.therapist_id == user.id)
    return {"items": [feed_json(f, user) for f in get_session().scalars(query)]}


@bp.delete("/calendar-feeds/<int:feed_id>")
def remove_feed(feed_id: int) -> tuple[str, int]:
    """Unsubscribe; ``cancel_appointments=true`` cancels its sessions to come (their
    clients told), otherwise they stay as ordinary sessions."""
    raw = request.args.get("cancel_appointments", "false")
    if raw not in FLAGS:
        raise invalid({"cancel_appointments": "must be true or false"})
    session, now, user = get_session(), utcnow(), current_user()
    feed = lock(session, CalendarFeed, feed_id)
    if feed is None or not (user.is_admin or feed.therapist_id == user.id):
        raise not_found("calendar feed")
    calendar_feeds.remove_feed(
        session, current_settings(), user, feed, now, cancel=FLAGS[raw], via=VIA
    )
    session.commit()
    return "", 204
