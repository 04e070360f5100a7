"""What we know of one phone number, whoever's it is: consent for texts, consent for calls
and whether it can be reached (``consent``, ``call_consent``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class PhoneNumber(Base):
    """Consent and reachability of one number; carriers block by number, so we key by it."""

    __tablename__ = "phone_numbers"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalid_reason: Mapped[str | None] = mapped_column(String(200))
    # Calls (``call_consent``), apart from texts: when the client or caregiver agreed and
    # who recorded it (both cleared on withdrawal), and when calls were stopped (pressing 9
    # during a call, or staff). A consent recorded after a stop starts calls again.
    voice_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voice_consent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    voice_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def opted_out(self) -> bool:
        """True when the latest consent event is an opt-out."""
        return texts_stopped(self.opted_out_at, self.opted_in_at)


def texts_stopped(opted_out_at: datetime | None, opted_in_at: datetime | None) -> bool:
    """True when a number's latest consent event for texts is an opt-out (``PhoneNumber``'s
    two columns, read as plain values)."""
    if opted_out_at is None:
        return False
    return opted_in_at is None or opted_in_at < opted_out_at
