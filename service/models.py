"""The data model: accounts, clients and contacts, consent, schedules, messages, alerts, audit.

Every instant is an aware UTC ``UTCDateTime``; the only local time stored is a series' first
start, which is wall-clock time by nature (it stays 09:00 across DST). Status and kind
columns are strings with CHECK constraints built from ``service.domain.vocabulary``, which
behave the same on SQLite and PostgreSQL.
Models hold no session and never commit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, utcnow
from service.domain.vocabulary import (
    AlertKind,
    AppointmentStatus,
    Channel,
    ChannelPreference,
    Intent,
    Language,
    MessageKind,
    MessageStatus,
    Role,
)


def _one_of(column: str, values: type[StrEnum], name: str) -> CheckConstraint:
    """The CHECK that keeps ``column`` within one word list of the vocabulary."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


class User(Base):
    """A therapist or an admin of the practice."""

    __tablename__ = "users"
    __table_args__ = (_one_of("role", Role, "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.THERAPIST)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The user's own mobile (E.164), set by themselves: where a reset code may be texted.
    phone: Mapped[str | None] = mapped_column(String(20))
    # Bumped to sign the user out everywhere: a session remembers the version it began with.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Two-step sign-in: the base32 TOTP secret (kept while enrolling, before it is on), when
    # it was turned on, and the last 30-second step whose code was used (no code twice).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def is_admin(self) -> bool:
        """True for an admin, who sees every client."""
        return self.role == Role.ADMIN


class ApiToken(Base):
    """A bearer token for the JSON API, stored only as its SHA-256 hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))  # None for tokens made before names
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


# The relation of a client's own phone among its contacts.
SELF = "self"


class Client(Base):
    """A person in care: the one whose sessions are reminded and whose pain is asked."""

    __tablename__ = "clients"
    __table_args__ = (_one_of("language", Language, "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2), default=Language.EN)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Whole days after a session to ask for the pain score, e.g. "1,3,5" (chosen to sample
    # the relief curve); None: the practice's CHECKIN_OFFSETS.
    checkin_days: Mapped[str | None] = mapped_column(String(40), default=None)
    calendar_name: Mapped[str | None] = mapped_column(String(100))  # None: "Maria G."
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    therapist: Mapped[User | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="Contact.id"
    )

    @property
    def own_contact(self) -> Contact | None:
        """The client's own phone (relation ``self``), if any."""
        return next((c for c in self.contacts if c.is_own), None)

    @property
    def contacts_own_first(self) -> list[Contact]:
        """The client's own phone first, then caregivers in the order they were added."""
        return sorted(self.contacts, key=lambda c: (not c.is_own, c.id))


class Contact(Base):
    """A phone that hears about a client: the client's own (relation 'self') or a caregiver's."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("client_id", "phone"),
        _one_of("channel", ChannelPreference, "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(40), default=SELF)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    checkins: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20), default="sms", server_default="sms")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(back_populates="contacts")

    @property
    def is_own(self) -> bool:
        """True for the client's own phone (not a caregiver's)."""
        return self.relation == SELF


class AppointmentSeries(Base):
    """A recurring schedule: an RFC 5545 rule from a local wall-clock first start."""

    __tablename__ = "appointment_series"
    __table_args__ = (CheckConstraint("duration_minutes > 0", name="duration_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    rrule: Mapped[str] = mapped_column(String(500))
    # Local wall-clock time in ``timezone``, deliberately naive: it is not an instant.
    starts_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    timezone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every occurrence before ``planned_until`` was made; ``next_start`` is the first at or
    # after it (None: no more come). Kept together (``series_plan``), both indexed: a tick
    # finds the series due, or never planned, with one query that reads only those.
    planned_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    next_start: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Set by "End series" (``bookings.end_series``), with the end it had before, so that
    # ``bookings.restore_series`` can bring it back; cleared by a restore.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at_before_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    client: Mapped[Client] = relationship()


class Appointment(Base):
    """One session: one-off, or an occurrence of a series (``occurrence_start`` is its slot)."""

    __tablename__ = "appointments"
    __table_args__ = (
        _one_of("status", AppointmentStatus, "status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        UniqueConstraint("series_id", "occurrence_start"),
        UniqueConstraint("feed_id", "feed_uid", "feed_instance"),
        Index("ix_appointments_client_id_starts_at", "client_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_series.id", ondelete="SET NULL")
    )
    occurrence_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=AppointmentStatus.SCHEDULED)
    # Set once this occurrence was cancelled, moved or otherwise changed on its own, so
    # edits to the series leave it alone.
    detached: Mapped[bool] = mapped_column(Boolean, default=False)
    feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("calendar_feeds.id", ondelete="SET NULL")
    )
    feed_uid: Mapped[str | None] = mapped_column(String(255))
    feed_instance: Mapped[str | None] = mapped_column(String(64))  # feed_models: its key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    client: Mapped[Client] = relationship()


class OutboundMessage(Base):
    """The outbox: one text to one number, planned, then claimed, sent and tracked."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        _one_of("kind", MessageKind, "kind"),
        _one_of("status", MessageStatus, "status"),
        _one_of("channel", Channel, "channel"),
        Index("ix_outbound_messages_status_send_at", "status", "send_at"),
        # A claim's calls, picked apart from its texts (``outbox.claim_rows``).
        Index("ix_outbound_messages_channel_status_send_at", "channel", "status", "send_at"),
        Index("ix_outbound_messages_to_phone_created_at", "to_phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    to_phone: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10), default=Channel.SMS, server_default="sms")
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The appointment start a planned reminder or check-in was written for: the dispatcher
    # cancels it when the appointment has moved since.
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.PLANNED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set when a dispatcher claims the text: who holds it, since when, and until when.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The saved wording the body was written from; None: the shipped wording, or a text
    # no template writes (a staff text).
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_templates.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboundMessage(Base):
    """A text received from a phone (or keys pressed during a call), stored raw before anything
    is made of it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        _one_of("intent", Intent, "intent"),
        _one_of("guess", Intent, "guess"),
        _one_of("channel", Channel, "channel"),
        CheckConstraint("pain_score BETWEEN 0 AND 10", name="pain_score_range"),
        Index("ix_inbound_messages_client_id_received_at", "client_id", "received_at"),
        # "Has this number answered since?" (the fallback to a call, the phone simulator).
        Index("ix_inbound_messages_from_phone_received_at", "from_phone", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(64))
    to_phone: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "voice": keys pressed during a call (the body is the digits, the sid the call's and
    # the question's), read by the keypad, never as a text. The server's default only: the
    # webhook's plain INSERT (``reply_rows``) names its every column.
    channel: Mapped[str] = mapped_column(String(10), server_default="sms")
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    intent: Mapped[str | None] = mapped_column(String(20))
    pain_score: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    # When understanding was not sure enough to act: its best guess, left to a person.
    guess: Mapped[str | None] = mapped_column(String(20))
    # Why it was read so, in one line ("opt-out: \"do not text\"").
    reason: Mapped[str | None] = mapped_column(String(200))
    answers_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_messages.id", ondelete="SET NULL")
    )
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Alert(Base):
    """Something a person at the practice should look at, until it is marked handled."""

    __tablename__ = "alerts"
    __table_args__ = (
        _one_of("kind", AlertKind, "kind"),
        Index("ix_alerts_handled_at_created_at", "handled_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(64))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    outbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_messages.id", ondelete="SET NULL")
    )
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # How an item closed itself, when it did ("client texted START"); shown with handled_at.
    closed_note: Mapped[str | None] = mapped_column(String(200))
    # From a signal ("lapsing:<client>:<last session>"): one item however many clocks see it.
    signal_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    # Whose item one about no client is (a therapist's failing calendar feed); None: everyone's.
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class SendSlot(Base):
    """A channel's next free send slot, shared by every clock process (``send_rate``)."""

    __tablename__ = "send_slots"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_at: Mapped[float] = mapped_column(Double)  # seconds since 1970 (see send_rate)


# Tables kept in modules of their own, imported so that the metadata always holds them all.
from service.account_models import PasswordReset, RecoveryCode  # noqa: E402
from service.calendar_models import CalendarLink  # noqa: E402
from service.feed_models import CalendarFeed, FeedTitle  # noqa: E402, F401
from service.number_models import PhoneNumber  # noqa: E402
from service.pain_models import ImportedPainReport  # noqa: E402
from service.practice_models import (  # noqa: E402
    AuditEntry,
    Heartbeat,
    MessageTemplate,
    PracticeSetting,
)

__all__ = [
    "AuditEntry",
    "CalendarLink",
    "Heartbeat",
    "ImportedPainReport",
    "MessageTemplate",
    "PasswordReset",
    "PhoneNumber",
    "PracticeSetting",
    "RecoveryCode",
]
