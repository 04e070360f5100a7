"""The calendar feeds page: add and remove a therapist's feeds, fetch one now, and link
or ignore the event titles that named no client (or several).

A therapist manages their own feeds; an admin everyone's. The address works like a
password, so it is never logged, and shown whole only to the feed's therapist (its start
on the page, the whole in the element's title, to check against their calendar's
settings); an admin managing another
therapist's feed sees its scheme and host ("https://calendar.google.com…"), enough to
tell feeds apart, and may remove it and have the therapist add it again.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import audit, calendar_feeds, feed_runs
from service.access import client_for, visible_clients
from service.config import current_settings
from service.dashboard.auth import current_user
from service.dashboard.forms import Form
from service.db import get_session, lock, utcnow
from service.feed_models import CalendarFeed
from service.models import Client, User
from service.values import MAX_ID, whole_number

bp = Blueprint("feeds", __name__)
VIA = "dashboard"


def _feeds(db: Session, user: User) -> list[tuple[CalendarFeed, User | None]]:
    """The feeds the user manages, with their therapists."""
    query = select(CalendarFeed, User).outerjoin(User, User.id == CalendarFeed.therapist_id)
    if not user.is_admin:
        query = query.where(CalendarFeed.therapist_id == user.id)
    return [(f, u) for f, u in db.execute(query.order_by(CalendarFeed.id))]


def _managed(db: Session, feed_id: int) -> CalendarFeed:
    """The feed when the current user manages it (locked); 404 otherwise."""
    feed = lock(db, CalendarFeed, feed_id)
    user = current_user()
    if feed is None or not (user.is_admin or feed.therapist_id == user.id):
        abort(404)
    return feed


def _back() -> Response:
    return redirect(url_for("dashboard.feeds.index"))


@bp.route("/calendar-feeds", methods=["GET", "POST"])
def index() -> Response | str | tuple[str, int]:
    """The feeds, their last fetch and error, the titles to place, and the form to add one."""
    db, user = get_session(), current_user()
    form = Form(request.form if request.method == "POST" else None)
    if form.submitted:
        url = form.text("url", required=True, max_length=calendar_feeds.LONGEST_URL)
        therapist = form.integer("therapist_id", low=1, high=MAX_ID) if user.is_admin else None
        if form.ok and url is not None:
            try:
                calendar_feeds.add_feed(
                    db, current_settings(), user, url, therapist, utcnow(), via=VIA
                )
            except calendar_feeds.FeedRefused as refused:
                form.errors[refused.field] = f"{str(refused).capitalize()}."
            else:
                db.commit()
                flash("Feed added; it is fetched within ten minutes, or now with Fetch now.")
                return _back()
    feeds = _feeds(db, user)
    page = render_template(
        "feeds.html",
        form=form,
        feeds=feeds,
        shown=calendar_feeds.shown_address,
        clients=_clients_to_link(db, user, feeds),
        therapists=db.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
        if user.is_admin
        else [],
    )
    return (page, 422) if form.submitted else page


def _clients_to_link(
    db: Session, user: User, feeds: list[tuple[CalendarFeed, User | None]]
) -> list[Client]:
    """The clients offered for the titles to place (those of therapists whose feeds have
    some): a view of client records, so audited, as every list of them is."""
    placing = {feed.therapist_id for feed, _ in feeds if feed.unplaced_titles}
    if not placing:
        return []
    shown = [c for c in db.scalars(visible_clients(user)) if c.therapist_id in placing]
    if shown:
        ids = [c.id for c in shown]
        audit.record(db, user, "list", "client", "*", clients=ids, via="calendar_feeds")
        db.commit()
    return shown


@bp.post("/calendar-feeds/<int:feed_id>/fetch")
def fetch_now(feed_id: int) -> Response:
    """Fetch the feed now (unless a clock process is fetching it this moment)."""
    db = get_session()
    feed = _managed(db, feed_id)
    db.commit()  # the claim is taken in its own transaction
    result = feed_runs.run_feed(db, current_settings(), feed.id, utcnow(), force=True)
    if result is None and db.get(CalendarFeed, feed_id, populate_existing=True) is None:
        flash("The feed was removed meanwhile; nothing was fetched.")
    elif result is None:
        flash("The feed is being fetched right now; look again in a minute.")
    elif result.error is not None:
        flash(f"The feed could not be read: {result.error}.", "error")
    else:
        flash("Feed fetched" + (": nothing changed." if result.unchanged else "."))
    return _back()


@bp.post("/calendar-feeds/<int:feed_id>/remove")
def remove(feed_id: int) -> Response:
    """Remove the feed; its sessions to come are kept, or cancelled when asked."""
    db = get_session()
    feed = _managed(db, feed_id)
    cancel = request.form.get("cancel") == "on"
    cancelled = calendar_feeds.remove_feed(
        db, current_settings(), current_user(), feed, utcnow(), cancel=cancel, via=VIA
    )
    db.commit()
    flash(f"Feed removed; {cancelled} sessions to come cancelled." if cancel else "Feed removed.")
    return _back()


@bp.post("/calendar-feeds/<int:feed_id>/titles")
def place_title(feed_id: int) -> Response:
    """Link a title to one of the feed's therapist's clients, or ignore it from now on."""
    db, user = get_session(), current_user()
    feed = _managed(db, feed_id)
    title = request.form.get("title", "").strip()
    try:
        if request.form.get("action") == "ignore":
            calendar_feeds.ignore_title(db, user, feed.therapist_id, title)
            flash(f"“{title}” is ignored from now on.")
        else:
            client = _client_of(db, user, feed, request.form.get("client_id", ""))
            calendar_feeds.link_title(
                db, current_settings(), user, client, title, utcnow(), via=VIA
            )
            flash(f"“{title}” is {client.name} from the next fetch on.")
    except calendar_feeds.FeedRefused as refused:
        db.rollback()
        flash(f"Not saved: the title {refused}.", "error")
        return _back()
    db.commit()
    return _back()


def _client_of(db: Session, user: User, feed: CalendarFeed, raw: str) -> Client:
    """The chosen client, locked, when it is the feed's therapist's and the user's to see."""
    number = whole_number(raw)
    client_id = number if number is not None and 0 < number <= MAX_ID else None
    seen = client_for(db, user, client_id) if client_id is not None else None
    if seen is None or seen.therapist_id != feed.therapist_id:
        raise calendar_feeds.FeedRefused("needs one of the therapist's clients", "client_id")
    locked = lock(db, Client, seen.id)
    if locked is None:
        abort(404)
    return locked
