"""One fetch of a calendar feed, from claim to record: the clock's job and "Fetch now".

The database is the state machine: a feed is claimed by one conditional UPDATE (free,
and due unless forced), so several clock processes, or the clock and a person pressing
"Fetch now", fetch it once. The clock's pass reads the time afresh for each feed (a fetch
may take 10 s), so a claim is never written already expired and each feed is applied
with the time it was fetched at. The fetch itself runs outside any transaction. Then, in
one transaction begun by locking the feed afresh, the instances are applied
(``feed_sync``) and the outcome recorded; a feed removed while it was fetched is left
alone, nothing recorded. A success closes the feed's inbox item, a failure (address
refused, network, error status, too large, not iCalendar, or an error nobody expected:
logged by its kind and place, never its message) leaves the appointments as they were,
releases the claim and raises one item per run of failures, keyed by the feed and its
last success, however many fetches fail. The reason, stored in ``last_error`` and the
item, is in our words and quotes nothing of the feed; the log says only the failure's
category. The item is about no client but is the feed's therapist's
(``Alert.therapist_id``): the inbox shows it to them and to admins only.

An unchanged feed (304) is a success that changes nothing; every few hours the feed is
read in full anyway, so that sessions entering the planning horizon are booked, and
"Fetch now" (``run_feed(force=True)``) always reads in full, the stored ETag and
Last-Modified not sent. A validator longer than its column is not stored (nor sent).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import String, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from service import alerts, db, feed_fetch, feed_sync
from service.config import Settings
from service.domain import calendar_events
from service.domain.vocabulary import AlertKind
from service.feed_models import CalendarFeed
from service.models import User

log = logging.getLogger(__name__)
FETCH_EVERY = timedelta(minutes=10)
CLAIM_FOR = timedelta(minutes=2)  # longer than a fetch (10 s) and its application
READ_IN_FULL_EVERY = timedelta(hours=6)
MAX_UNPLACED = 50  # titles kept for the feeds page
UNEXPECTED = "an unexpected error stopped its reading (logged for the developers)"


@dataclass(frozen=True)
class FeedResult:
    """How one fetch ended: ``unchanged`` for a 304, ``error`` for a failure."""

    feed_id: int
    unchanged: bool = False
    error: str | None = None
    counts: feed_sync.SyncCounts | None = None


def alert_key(feed: CalendarFeed) -> str:
    """The key of the feed's item for its current run of failures."""
    since = feed.last_success_at or feed.created_at
    return f"{key_prefix(feed.id)}{int(since.timestamp())}"


def key_prefix(feed_id: int) -> str:
    """What every failure item of this feed's key starts with."""
    return f"calendar_feed:{feed_id}:"


def due(session: Session, now: datetime) -> list[int]:
    """The feeds not fetched for ``FETCH_EVERY``, oldest first."""
    rows = session.scalars(
        select(CalendarFeed.id)
        .where(
            or_(
                CalendarFeed.last_fetched_at.is_(None),
                CalendarFeed.last_fetched_at <= now - FETCH_EVERY,
            )
        )
        .order_by(CalendarFeed.last_fetched_at.nulls_first(), CalendarFeed.id)
    )
    return list(rows)


def claim(session: Session, feed_id: int, now: datetime, *, force: bool = False) -> bool:
    """Take the feed for one fetch, committed; False when another process holds it (or,
    unless ``force``, fetched it less than ``FETCH_EVERY`` ago)."""
    free = or_(CalendarFeed.claimed_until.is_(None), CalendarFeed.claimed_until < now)
    statement = update(CalendarFeed).where(CalendarFeed.id == feed_id, free)
    if not force:
        statement = statement.where(
            or_(
                CalendarFeed.last_fetched_at.is_(None),
                CalendarFeed.last_fetched_at <= now - FETCH_EVERY,
            )
        )
    result = session.execute(
        statement.values(claimed_until=now + CLAIM_FOR).execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def run_feed(
    session: Session, settings: Settings, feed_id: int, now: datetime, *, force: bool = False
) -> FeedResult | None:
    """Claim, fetch, apply and record one feed (committed); None when not claimed, or when
    the feed was removed while it was fetched."""
    if not claim(session, feed_id, now, force=force):
        return None
    feed = session.get(CalendarFeed, feed_id, populate_existing=True)
    if feed is None:
        return None
    # "Fetch now" reads in full: a person asking wants titles just linked placed at once.
    last_read = None if force else feed.last_read_at
    fresh = last_read is not None and now - last_read < READ_IN_FULL_EVERY
    url, etag, modified = feed.url, feed.etag if fresh else None, feed.last_modified
    session.commit()  # no transaction is held while the network is waited for
    try:
        fetched = feed_fetch.fetch(
            url,
            etag=etag,
            last_modified=modified if fresh else None,
            allow_private=settings.calendar_feeds_allow_private,
        )
        instances = None
        if fetched.body is not None:
            zone = ZoneInfo(settings.practice_timezone)
            start, end = feed_sync.window(settings, now)
            instances = calendar_events.expand(fetched.body, start, end, zone)
    except (feed_fetch.FetchFailed, calendar_events.UnreadableCalendar) as failure:
        return _failed(session, feed_id, str(failure), _kind(failure), now)
    except Exception as unexpected:  # a library's bug on odd input: a failure, not a 500
        _log_unexpected(feed_id, unexpected)
        return _failed(session, feed_id, UNEXPECTED, "unexpected", now)
    return _apply(session, settings, feed_id, fetched, instances, now)


def _apply(
    session: Session,
    settings: Settings,
    feed_id: int,
    fetched: feed_fetch.Fetched,
    instances: list[calendar_events.EventInstance] | None,
    now: datetime,
) -> FeedResult | None:
    """Apply what was read to the feed's appointments and record the success, in one
    transaction begun by locking the feed afresh (None when it was removed meanwhile); an
    error while applying is a recorded failure."""
    try:
        feed = db.lock(session, CalendarFeed, feed_id)
        if feed is None:
            _gone(session, feed_id)
            return None
        counts = None
        if instances is not None:
            counts = feed_sync.apply(session, settings, feed, instances, now)
            unplaced = sorted(counts.unmatched | counts.ambiguous)[:MAX_UNPLACED]
            feed.unplaced_titles = "\n".join(t.replace("\n", " ")[:200] for t in unplaced)
            feed.etag = _fitting(fetched.etag, CalendarFeed.etag)
            feed.last_modified = _fitting(fetched.last_modified, CalendarFeed.last_modified)
            feed.last_read_at = now
        _succeeded(session, feed, now)
    except Exception as unexpected:  # logged by kind and place: its message may quote titles
        session.rollback()
        _log_unexpected(feed_id, unexpected)
        return _failed(session, feed_id, "its sessions could not be applied", "not applied", now)
    return FeedResult(feed_id, unchanged=instances is None, counts=counts)


def _fitting(validator: str | None, column: InstrumentedAttribute[str | None]) -> str | None:
    """An ETag or Last-Modified as stored: None when longer than its column (a server's
    odd value is not sent back, rather than failing every read on PostgreSQL)."""
    length = cast(String, column.type).length
    return validator if validator is None or length is None or len(validator) <= length else None


def _kind(failure: Exception) -> str:
    """A failure's category for the log, fixed words: its message may quote the feed."""
    return "not fetched" if isinstance(failure, feed_fetch.FetchFailed) else "unreadable"


def _gone(session: Session, feed_id: int) -> None:
    """End the transaction of a feed removed while it was fetched: nothing to record."""
    session.rollback()
    log.info("feed %s: removed while it was fetched; nothing recorded", feed_id)


def _log_unexpected(feed_id: int, error: Exception) -> None:
    """Log an unexpected error of a fetch or a reading by its kind and where it was raised;
    never its message, which may repeat the address or quote the feed."""
    frames = traceback.extract_tb(error.__traceback__)
    where = " < ".join(
        f"{f.name} ({f.filename.rsplit('/', 1)[-1]}:{f.lineno})" for f in frames[::-1]
    )
    log.error(
        "feed %s: %s while fetching, reading or applying it, in %s",
        feed_id,
        type(error).__name__,
        where,
    )


def _succeeded(session: Session, feed: CalendarFeed, now: datetime) -> None:
    """Record a successful fetch and close the feed's failure item; commit."""
    feed.last_fetched_at = feed.last_success_at = now
    feed.last_error = feed.claimed_until = None
    alerts.close_signals(
        session, AlertKind.CALENDAR_FEED, key_prefix(feed.id), "the feed was read again", now
    )
    session.commit()


def _failed(
    session: Session, feed_id: int, error: str, kind: str, now: datetime
) -> FeedResult | None:
    """Record a failed fetch, appointments untouched, and raise the feed's item unless this
    run of failures already did; commit. None when the feed was removed meanwhile. The
    log says the ``kind`` of failure only: ``error`` may quote the feed's host or text."""
    feed = db.lock(session, CalendarFeed, feed_id)
    if feed is None:
        _gone(session, feed_id)
        return None
    therapist = session.get(User, feed.therapist_id)
    whose = therapist.name if therapist is not None else "a therapist"
    detail = (
        f"A calendar feed of {whose} cannot be read: {error}. Its sessions stay as they "
        "were until it can; the item closes itself when a fetch succeeds."
    )
    alerts.raise_signal(
        session,
        AlertKind.CALENDAR_FEED,
        alert_key(feed),
        None,
        detail,
        now,
        therapist_id=feed.therapist_id,  # the item is the feed's therapist's (and admins')
    )
    feed.last_fetched_at, feed.last_error, feed.claimed_until = now, error, None
    session.commit()
    log.info("feed %s: fetch failed (%s)", feed_id, kind)
    return FeedResult(feed_id, error=error)


def run_due(
    session: Session, settings: Settings, clock: Callable[[], datetime]
) -> list[FeedResult]:
    """Fetch every feed that is due and not held by another process. The time is read
    from ``clock`` for each feed: a pass of slow fetches outlasts a claim, and a feed is
    claimed and applied with the time it is fetched at."""
    results = []
    for feed_id in due(session, clock()):
        result = run_feed(session, settings, feed_id, clock())
        if result is not None:
            results.append(result)
    return results
