"""What an account holds besides its row in ``users``: two-step recovery codes and
password resets (the rest of the model is in ``service.models``, which imports these).

Every secret here is stored only as a hash: a copy of the database signs no one in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow
from service.domain.vocabulary import ResetKind


class RecoveryCode(Base):
    """One single-use recovery code for two-step sign-in, stored as its SHA-256 hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A one-time way to set a new password: a link (admin-issued) or a texted code.

    Only the secret's hash is kept. A reset ends when used, when it expires, when too many
    wrong codes were tried, or (``ended_at``) when the password is set another way, the
    mobile number changes, the account is deactivated, a newer link is issued (which ends
    links and codes) or a newer code is asked for (which ends codes only: anyone may ask).
    """

    __tablename__ = "password_resets"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(str(k)) for k in ResetKind)})", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    secret_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
