"""Calendar feeds a therapist subscribes TouchBase to, and what the therapist decided
about event titles that named no client (the rest of the model is in ``service.models``,
which imports these; appointments name their feed in ``Appointment.feed_id``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow
from service.domain.vocabulary import FeedTitleState


class CalendarFeed(Base):
    """An iCalendar address whose events become a therapist's appointments.

    The clock fetches it every few minutes: ``etag`` and ``last_modified`` are what the
    server said last (sent back, so an unchanged feed answers 304, until ``last_read_at``
    is old enough that the feed is read in full again); ``claimed_until`` is
    held by the process fetching it, so several clock processes fetch it once;
    ``last_error`` says why the last fetch failed (None after a success).
    """

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last full text (200)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The titles of the last full read that named no client or several, one a line: the
    # feeds page offers to link or ignore each.
    unplaced_titles: Mapped[str | None] = mapped_column(Text)


class FeedTitle(Base):
    """A therapist's decision about an event title (kept normalized: ``calendar_names``)
    that named no client or several: linked to a client (``client_id``: the title names
    that client, whatever other calendar names it holds), or ignored from then on."""

    __tablename__ = "feed_titles"
    __table_args__ = (
        CheckConstraint(
            "state IN ({})".format(", ".join(f"'{s}'" for s in FeedTitleState)), name="state"
        ),
        UniqueConstraint("therapist_id", "title"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
