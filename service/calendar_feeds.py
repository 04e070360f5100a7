"""Subscribing a therapist to calendar feeds, and the therapist's answers about titles.

The one way the API and the dashboard add and remove feeds and link or ignore the titles
a feed's events carry that named no client (or several). An address is checked as far
as it can be without the network (http or https, with a host, not written as a refused
IP address); the clock's fetch checks where its host resolves to. An address is never
recorded in the audit log or in logs: a calendar's secret address is a password.
Nothing here commits: the caller ends the unit of work.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import alerts, audit, bookings, feed_fetch, feed_matching, feed_sync, roster
from service.config import Settings
from service.db import insert
from service.domain import calendar_names
from service.domain.vocabulary import (
    FEED_VIA,
    UPCOMING,
    AlertKind,
    AppointmentStatus,
    FeedTitleState,
)
from service.feed_models import CalendarFeed, FeedTitle
from service.feed_rereads import read_again
from service.feed_runs import key_prefix as feed_key_prefix
from service.models import Client, User

LONGEST_URL = 2000


def shown_address(feed: CalendarFeed, user: User) -> str:
    """The feed's address as ``user`` sees it: whole for the feed's therapist, its scheme
    and host only for anyone else (an admin)."""
    if feed.therapist_id == user.id:
        return feed.url
    try:
        parts = urlsplit(feed.url)
        host = parts.hostname or ""
    except ValueError:
        return "…"
    return f"{parts.scheme}://{host}…" if parts.scheme and host else "…"


class FeedRefused(ValueError):
    """A feed or a title decision refused; the message says why, ``field`` what."""

    def __init__(self, reason: str, field: str) -> None:
        super().__init__(reason)
        self.field = field


def add_feed(
    session: Session,
    settings: Settings,
    actor: User,
    url: str,
    therapist_id: int | None,
    now: datetime,
    *,
    via: str,
) -> CalendarFeed:
    """Subscribe the therapist (the actor unless an admin names another) to the feed at
    ``url``; the clock fetches it at its next tick."""
    url = feed_fetch.normalized_url(url)
    if len(url) > LONGEST_URL:
        raise FeedRefused(f"must be at most {LONGEST_URL} characters", "url")
    try:
        feed_fetch.check_form(url, settings.calendar_feeds_allow_private)
    except feed_fetch.FetchFailed as refused:
        raise FeedRefused(str(refused), "url") from None
    owner = actor.id if therapist_id is None else therapist_id
    refusal = roster.therapist_refusal(session, actor, owner)
    if refusal is not None:
        raise FeedRefused(refusal, "therapist_id")
    # One feed per address and therapist: a second would book every session twice. Adds
    # for one therapist take turns, so two at once cannot both pass this check.
    audit.take_turns(session, f"calendar-feeds:{owner}")
    followed = select(CalendarFeed.id).where(
        CalendarFeed.therapist_id == owner, CalendarFeed.url == url
    )
    if session.scalar(followed) is not None:
        raise FeedRefused("this calendar is already followed for this therapist", "url")
    feed = CalendarFeed(therapist_id=owner, url=url, created_at=now, created_by_id=actor.id)
    session.add(feed)
    session.flush()
    audit.record(session, actor, "create", "calendar_feed", feed.id, therapist_id=owner, via=via)
    return feed


def remove_feed(
    session: Session,
    settings: Settings,
    actor: User,
    feed: CalendarFeed,
    now: datetime,
    *,
    cancel: bool,
    via: str,
) -> int:
    """Unsubscribe: the feed's sessions to come are cancelled (their clients told) when
    ``cancel``, else kept as ordinary sessions; past ones stay as they are. The calendar
    followed again later adopts the kept ones still on, never a cancelled one
    (``feed_matching``). How many were cancelled."""
    cancelled = 0
    for appointment_id in feed_sync.upcoming_ids(session, feed.id, now) if cancel else ():
        appointment = bookings.lock_appointment(session, appointment_id)
        if appointment is not None and appointment.status in UPCOMING:
            bookings.change_appointment(
                session,
                settings,
                actor,
                appointment,
                now,
                status=AppointmentStatus.CANCELLED,
                via=FEED_VIA,
                notify=True,
            )
            cancelled += 1
    audit.record(
        session,
        actor,
        "delete",
        "calendar_feed",
        feed.id,
        therapist_id=feed.therapist_id,
        cancelled=cancelled,
        via=via,
    )
    # Its failure item, if one is open, has nothing left to tell.
    alerts.close_signals(
        session, AlertKind.CALENDAR_FEED, feed_key_prefix(feed.id), "the feed was removed", now
    )
    session.delete(feed)  # the sessions kept lose their feed (ON DELETE SET NULL)
    session.flush()
    return cancelled


def ignore_title(session: Session, actor: User, therapist_id: int, title: str) -> None:
    """Ignore this title in the therapist's feeds from now on (case and accents aside)."""
    normalized = calendar_names.normalized(title)[:200]
    if not normalized:
        raise FeedRefused("must name something", "title")
    decision = {"state": FeedTitleState.IGNORED, "client_id": None}
    session.execute(
        insert(session, FeedTitle)
        .values(therapist_id=therapist_id, title=normalized, **decision)
        .on_conflict_do_update(index_elements=["therapist_id", "title"], set_=decision)
    )
    audit.record(session, actor, "ignore", "feed_title", therapist_id, title=normalized)
    read_again(session, therapist_id)


def link_title(
    session: Session,
    settings: Settings,
    actor: User,
    client: Client,
    title: str,
    now: datetime,
    *,
    via: str,
) -> None:
    """Link a title to a (locked) client of the title's therapist: events with this title
    (case and accents aside) are the client's from the next fetch on, even when it holds
    the calendar names of several clients ("Maria G." for Maria Garcia and Maria Gomez).

    The title also becomes the client's calendar name, so that longer titles holding it
    ("Massage - Tommy") are found too, unless that would make titles ambiguous: when the
    title holds another client's calendar name, or another's holds the title. Then only
    the link places it, and the client's calendar name is left as it was.
    """
    name = " ".join(title.split())[: calendar_names.MAX_LENGTH]
    if not name or calendar_names.refusal(name) is not None:
        raise FeedRefused("must name something", "title")
    if client.therapist_id is None:
        raise FeedRefused("needs one of the therapist's clients", "client_id")
    if _names_alone(session, client, name):
        roster.update_client(
            session, settings, actor, client, {"calendar_name": name}, now, via=via
        )
    normalized = calendar_names.normalized(name)[:200]
    decision = {"state": FeedTitleState.LINKED, "client_id": client.id}
    session.execute(
        insert(session, FeedTitle)
        .values(therapist_id=client.therapist_id, title=normalized, **decision)
        .on_conflict_do_update(index_elements=["therapist_id", "title"], set_=decision)
    )
    audit.record(session, actor, "link", "feed_title", client.therapist_id, title=normalized)
    read_again(session, client.therapist_id)


def _names_alone(session: Session, client: Client, name: str) -> bool:
    """Whether ``name`` as the client's calendar name would leave every title naming the
    client it named before: it holds no other client's calendar name, and no other's
    holds it."""
    others = feed_matching.titles_of(session, client.therapist_id or 0).names
    others.pop(client.id, None)
    return not any(
        calendar_names.mentions(name, other) or calendar_names.mentions(other, name)
        for other in others.values()
    )
