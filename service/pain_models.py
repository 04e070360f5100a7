"""Pain scores imported through the API (the rest of the model is in ``service.models``,
which imports this)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class ImportedPainReport(Base):
    """A pain score kept on paper or in another system, imported through the API.

    It counts like a texted score (tied to ``appointment_id``, or to the latest session
    before it when none is given) and is shown as imported wherever it appears.
    """

    __tablename__ = "imported_pain_reports"
    __table_args__ = (
        CheckConstraint("pain BETWEEN 0 AND 10", name="pain_range"),
        Index("ix_imported_pain_reports_client_id_reported_at", "client_id", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pain: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
