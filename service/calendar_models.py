"""A therapist's private calendar address (the feed out): one row per link made, the
newest unrevoked one in force (the rest of the model is in ``service.models``, which
imports this).

The token in the address is never stored: only its SHA-256 (to find the link from a
request) and a random nonce from which the token is derived again with the app's
SECRET_KEY (so the address can be shown again, while a copy of the database alone never
reveals it). See ``service.calendar_links``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class CalendarLink(Base):
    """One private calendar address of a user; revoked ones stay for the record."""

    __tablename__ = "calendar_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
