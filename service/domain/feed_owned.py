"""What a person may change on a session that comes from a calendar feed.

The feed is the source of such a session's time and of whether it happens: a move, a
cancellation or a restore made in TouchBase would be undone by the next fetch, so they
are refused, with the reason. What the feed cannot know stays open to everyone: the
client's confirmation, and whether the session was done or a no-show.
"""

from __future__ import annotations

from datetime import datetime

from service.domain.vocabulary import FEED_OPEN, FEED_VIA

REFUSAL = (
    "this session comes from a calendar feed: move, cancel or restore it in that calendar "
    "(TouchBase follows at its next fetch)"
)


def refusal(
    feed_id: int | None,
    via: str,
    status: str | None,
    starts_at: datetime | None,
    duration: int | None,
) -> str | None:
    """Why this change of a session (from feed ``feed_id``, None if from none) is refused,
    or None when it may be made."""
    if feed_id is None or via == FEED_VIA:
        return None
    if starts_at is not None or duration is not None:
        return REFUSAL
    if status is not None and status not in FEED_OPEN:
        return REFUSAL
    return None


def field_of(reason: str, starts_at: datetime | None) -> str:
    """The field a refusal is about: the time, when a feed's session was being moved."""
    return "starts_at" if reason == REFUSAL and starts_at is not None else "status"
