"""Reset codes by text: a 6-digit code sent at once to the mobile number a user set.

What a visitor learns never depends on whether the email has an account: every request
and every wrong code is written to the audit log under the typed email (as failed
sign-ins are), and the limits and messages are read from there for any email alike; each
request is also counted under the client address, for a limit whatever the emails.
Requests and tries for one email (or from one address) take turns (``take_turns``), so a
burst sent at once is counted one by one. Only
whether a code is right is read from the account's reset, stored as a keyed hash (six
digits are too few for a plain hash: a copy of the table would give them all away).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import accounts, audit
from service.account_models import PasswordReset
from service.config import Settings
from service.db import Database, lock
from service.domain.passwords import CODE_DIGITS
from service.domain.vocabulary import ResetKind
from service.logs import redact
from service.models import AuditEntry, User
from service.password_changes import end_open_resets
from service.phones import mask
from service.sms import make_gateway
from service.sms.gateway import SendError

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
MIN_GAP = timedelta(seconds=60)  # no new text within a minute of the last
PER_HOUR = 5  # codes asked for one email
# Codes asked from one client address, whatever the emails: one visitor cannot text every
# mobile number of the practice, nor run up its Twilio bill.
PER_ADDRESS_PER_HOUR = 20
REQUESTED = "password_reset_code_requested"
TOO_SOON = "password_reset_code_refused"
WRONG = "password_reset_code_failed"
SEND_FAILED = "password_reset_code_send_failed"
FROM_ADDRESS = "password_reset_code_requested_from"  # one more row per request, per address


def code_hash(settings: Settings, user_id: int, code: str) -> str:
    """The stored form of a code: HMAC-SHA256 keyed with the app's secret, bound to the user."""
    message = f"reset-code:{user_id}:{code}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _times(
    session: Session, action: str, key: str, since: datetime, entity: str = "user"
) -> list[datetime]:
    """When ``action`` was recorded for this key (an email's, or an address) after
    ``since``, newest first."""
    return list(
        session.scalars(
            select(AuditEntry.at)
            .where(
                AuditEntry.action == action,
                AuditEntry.entity == entity,
                AuditEntry.entity_id == key,
                AuditEntry.at > since,
            )
            .order_by(AuditEntry.at.desc())
            .limit(50)
        )
    )


def _minutes_until_below(asked: list[datetime], limit: int, now: datetime) -> int:
    """Minutes until fewer than ``limit`` of these times (newest first) fall in the last hour."""
    wait = (asked[limit - 1] + timedelta(hours=1) - now).total_seconds()
    return max(1, math.ceil(wait / 60))  # rounded up, as the sign-in pause is


def take_turns(session: Session, email: str, address: str) -> None:
    """Requests for codes for this email, or from this address, take turns until the
    caller's transaction ends, so no burst of requests sent at once gets past the limits."""
    audit.take_turns(session, _turn(email), f"reset-codes-from:{_address_key(address)}")


def _turn(email: str) -> str:
    """The key the requests and tries of codes for ``email`` take turns on."""
    return f"reset-codes:{audit.email_key(email)}"


def too_soon(session: Session, email: str, address: str, now: datetime) -> str | None:
    """Why no code may be asked for this email, or from this address, now; None when one
    may."""
    hour_ago = now - timedelta(hours=1)
    asked = _times(session, REQUESTED, audit.email_key(email), hour_ago)
    if asked and now - asked[0] < MIN_GAP:
        return "A code was texted less than a minute ago. Wait a minute before asking again."
    if len(asked) >= PER_HOUR:
        minutes = _minutes_until_below(asked, PER_HOUR, now)
        return f"{PER_HOUR} codes were asked for in the last hour. Ask again in {minutes} minutes."
    here = _times(session, FROM_ADDRESS, _address_key(address), hour_ago, entity="address")
    if len(here) >= PER_ADDRESS_PER_HOUR:
        minutes = _minutes_until_below(here, PER_ADDRESS_PER_HOUR, now)
        return (
            f"{PER_ADDRESS_PER_HOUR} codes were asked for from this network in the last hour."
            f" Ask again in {minutes} minutes."
        )
    return None


def _address_key(address: str) -> str:
    """The audit entity id the requests from one client address are counted under."""
    return address[: audit.ENTITY_ID_LENGTH]


def request_code(
    session: Session, settings: Settings, email: str, address: str, now: datetime
) -> Callable[[Database], None] | None:
    """Make a new code for the account of ``email`` when it is active and has a mobile
    number: what texts it (the caller runs it once the page is answered, so the answer
    takes as long whether or not a text goes). None otherwise. Recorded either way; commits.
    """
    user = accounts.find_user(session, email)
    outcome = _outcome(user)
    entry = audit.record(
        session, None, REQUESTED, "user", audit.email_key(email), ip=address, outcome=outcome
    )
    entry.at = now
    from_address = audit.record(session, None, FROM_ADDRESS, "address", _address_key(address))
    from_address.at = now
    if user is None or user.phone is None or outcome != "texted":
        session.commit()
        return None
    # Only earlier codes end: an admin's link stays good, or anyone who knows the email
    # could kill the link the admin handed over by asking for a code.
    end_open_resets(session, user, ResetKind.CODE)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(
        PasswordReset(
            user_id=user.id,
            kind=ResetKind.CODE,
            secret_hash=code_hash(settings, user.id, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    session.commit()
    user_id, phone = user.id, user.phone
    return lambda database: _send(database, settings, user_id, phone, code, address)


def _outcome(user: User | None) -> str:
    """What asking for a code for this account leads to, for the audit log."""
    if user is None:
        return "no account"
    if not user.active:
        return "deactivated"
    return "texted" if user.phone else "no mobile"


def _send(
    database: Database, settings: Settings, user_id: int, phone: str, code: str, address: str
) -> None:
    """Text the code at once (not through the client outbox); a failure is logged and
    audited (in a session of its own: the request's is closed by now), and the visitor is
    told nothing different."""
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    body = (
        f"TouchBase: your sign-in reset code is {code}. It expires in {minutes} minutes."
        " If you did not ask, ignore this text."
    )
    gateway = make_gateway(settings)
    try:
        gateway.send(phone, body)
    except SendError as exc:
        log.warning("reset code text to %s failed: %s", mask(phone), redact(str(exc)))
        with database.session() as session:
            audit.record(session, None, SEND_FAILED, "user", user_id, ip=address, code=exc.code)
            session.commit()
    finally:
        close = getattr(gateway, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class Checked:
    """What a typed code turned out to be: the reset it opens, or why not."""

    reset: PasswordReset | None
    problem: str | None


def dead_message() -> str:
    """What a visitor is told about a code that expired or was tried too often."""
    return "That code has expired, was used, or was tried too many times. Ask for a new code."


def check_code(
    session: Session, settings: Settings, email: str, code: str, address: str, now: datetime
) -> Checked:
    """Whether ``code`` (six digits) is the live code of ``email``; a wrong one uses up a
    try, recorded (the caller commits). The answer reads the same for any email."""
    audit.take_turns(session, _turn(email))  # tries sent at once are counted one by one
    key = audit.email_key(email)
    asked = _times(session, REQUESTED, key, now - CODE_LIFETIME)
    wrong = _times(session, WRONG, key, asked[0]) if asked else []
    if not asked or len(wrong) >= MAX_TRIES:
        return Checked(None, dead_message())
    user = accounts.find_user(session, email)
    reset = _newest_code(session, user)
    # Computed whatever the account, so the answer takes as long for every email.
    typed = code_hash(settings, user.id if user is not None else 0, code)
    right = reset is not None and hmac.compare_digest(reset.secret_hash, typed)
    live = reset is not None and _is_live(reset, now)
    if right and live:
        return Checked(reset, None)
    if right:  # the right code, but used (by a request sent at the same time?) or ended
        return Checked(None, dead_message())
    entry = audit.record(session, None, WRONG, "user", key, ip=address)
    entry.at = now
    if reset is not None and live:
        reset.tries += 1
        if reset.tries >= MAX_TRIES:
            reset.ended_at = now
    left = MAX_TRIES - len(wrong) - 1
    if left <= 0:
        return Checked(
            None, "That code is not right, and that was its last try. Ask for a new code."
        )
    return Checked(None, f"That code is not right. {left} {'try' if left == 1 else 'tries'} left.")


def _newest_code(session: Session, user: User | None) -> PasswordReset | None:
    """The active user's newest code reset, live or not, locked; None when there is none."""
    if user is None or not user.active:
        return None
    found = session.scalar(
        select(PasswordReset.id)
        .where(PasswordReset.user_id == user.id, PasswordReset.kind == ResetKind.CODE)
        .order_by(PasswordReset.id.desc())
        .limit(1)
    )
    return None if found is None else lock(session, PasswordReset, found)


def _is_live(reset: PasswordReset, now: datetime) -> bool:
    """True when the code may still be used: not used, not ended, not expired, tries left."""
    return (
        reset.used_at is None
        and reset.ended_at is None
        and reset.expires_at > now
        and reset.tries < MAX_TRIES
    )
