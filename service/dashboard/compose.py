"""Texts a therapist types: checked against consent, then queued in the outbox.

The dashboard never sends: it queues a ``manual`` message, planned for now, and the
dispatcher sends it like any other (its final check sees an opt-out that arrives in
between). The key comes from the form, so a double click queues one text.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from service import consent, outbox
from service.dashboard.timefmt import day_of
from service.domain import segments
from service.domain.quiet import after_quiet_hours, in_quiet_hours
from service.domain.vocabulary import MessageKind
from service.models import Client, Contact, User

MAX_BODY = 640  # at most five GSM-7 segments: a reply, not a newsletter
KEY_PREFIX = "manual:"


def new_key() -> str:
    """A fresh idempotency key for one compose form."""
    return f"{KEY_PREFIX}{uuid.uuid4()}"


def valid_key(value: str) -> bool:
    """True when ``value`` is a key ``new_key`` could have made."""
    rest = value.removeprefix(KEY_PREFIX)
    try:
        return value.startswith(KEY_PREFIX) and str(uuid.UUID(rest)) == rest
    except ValueError:
        return False


def refusal(session: Session, phone: str, tz: str) -> str | None:
    """Why this number must not be texted now, or None when it may be (dates in ``tz``)."""
    row = consent.numbers(session, [phone]).get(phone)
    if row is None:
        return None
    if row.opted_out and row.opted_out_at is not None:
        return (
            f"This number opted out of texts on {day_of(row.opted_out_at, tz)} "
            "(it replied STOP). Nothing can be sent to it until it replies START."
        )
    if row.invalid_at is not None:
        # The reason is the provider error in plain words, with what to do about it.
        return row.invalid_reason or (
            "The carrier refused texts to this number. Check it with the client."
        )
    return None


def too_long(body: str) -> str | None:
    """Why ``body`` is too long to send, counted as the text box counts; None when it fits.

    The box shows the count as you type and never cuts the text: the server says why.
    """
    count = segments.count(body)
    if count.characters <= MAX_BODY:
        return None
    return (
        f"This text is {count.characters} characters ({count.segments} SMS segments); "
        f"the most is {MAX_BODY}. Shorten it by {count.characters - MAX_BODY}; nothing was sent."
    )


def send_later_at(client: Client, quiet: tuple[time, time], now: datetime) -> datetime:
    """The first minute after quiet hours where the client lives (``now`` outside them)."""
    return after_quiet_hours(now, ZoneInfo(client.timezone), quiet[0], quiet[1])


def quiet_now(client: Client, quiet: tuple[time, time], now: datetime) -> bool:
    """True when it is inside quiet hours where the client lives."""
    return in_quiet_hours(now, ZoneInfo(client.timezone), quiet[0], quiet[1])


def queue(
    session: Session,
    client: Client,
    contact: Contact,
    body: str,
    key: str,
    user: User,
    now: datetime,
    send_at: datetime | None = None,
) -> int | None:
    """Queue a manual text for ``send_at`` (default now); its id, or None when this key
    was already queued."""
    draft = outbox.Draft(
        idempotency_key=key,
        kind=MessageKind.MANUAL,
        to_phone=contact.phone,
        body=body,
        send_at=send_at or now,
        client_id=client.id,
        contact_id=contact.id,
        created_by_id=user.id,
    )
    return outbox.enqueue_one(session, draft, now)
