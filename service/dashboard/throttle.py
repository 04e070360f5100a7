"""Login throttling, shared by every web process because it lives in the audit log.

Each failed login is an ``audit_log`` row (action ``login_failed``, entity ``user``, the
typed email as entity id, the client address in the detail). Five failures for one email
from one address within fifteen minutes lock that pair for fifteen minutes from the fifth.
Keying by email *and* address means a stranger guessing a therapist's password cannot lock
the therapist out from the practice's own network. A wrong code at sign-in's second step is
such a failure too, and is also counted per account from any address (``Attempt``). An
admin's unlock (``UNLOCK``) is an audit row as well: failures before it no longer count.
A failure within the window warns how many tries are left once ``WARN_FROM`` or fewer remain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.models import AuditEntry, User

MAX_FAILURES = 5
WARN_FROM = 3  # a failed sign-in says how many tries are left once this few remain
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
ACTION = "login_failed"
CODE_STEP = "code"  # the detail's ``step`` of a wrong code at sign-in's second step
UNLOCK = "login_unlocked"  # an admin's unlock: failures before it no longer count
key_of = audit.email_key  # the audit entity id that counts failures for a typed email


def locked_until(failures: Sequence[datetime], now: datetime) -> datetime | None:
    """When the lock set by these failure times ends, or None when there is no lock now."""
    times = sorted(failures)
    until: datetime | None = None
    for i in range(MAX_FAILURES - 1, len(times)):
        if times[i] - times[i - MAX_FAILURES + 1] <= WINDOW:
            until = times[i] + LOCK
    return until if until is not None and until > now else None


def tries_left(failures: Sequence[datetime], now: datetime) -> int:
    """How many more failures lock this email and address: the failure that would make
    ``MAX_FAILURES`` within ``WINDOW`` of one another is the last try."""
    within = [at for at in failures if now - WINDOW <= at <= now]
    return max(0, MAX_FAILURES - len(within))


def _failures(
    session: Session, email: str, now: datetime, keep: Callable[[dict[str, Any]], bool]
) -> list[datetime]:
    """The failure times for this email that can still matter at ``now``, since the last
    unlock, whose detail ``keep`` accepts."""
    rows = session.execute(
        select(AuditEntry.at, AuditEntry.detail)
        .where(
            AuditEntry.action == ACTION,
            AuditEntry.entity == "user",
            AuditEntry.entity_id == key_of(email),
            AuditEntry.at > now - WINDOW - LOCK,
        )
        .order_by(AuditEntry.at.desc())
        .limit(200)
    )
    unlocked = session.scalar(
        select(AuditEntry.at)
        .where(
            AuditEntry.action == UNLOCK,
            AuditEntry.entity == "user",
            AuditEntry.entity_id == key_of(email),
        )
        .order_by(AuditEntry.at.desc())
        .limit(1)
    )
    # The detail is read here rather than in SQL: JSON operators differ per database, and
    # one email's failures in half an hour are few.
    return [
        at
        for at, detail in rows
        if isinstance(detail, dict) and keep(detail) and (unlocked is None or at > unlocked)
    ]


def recent_failures(session: Session, email: str, address: str, now: datetime) -> list[datetime]:
    """The failure times for this email and address that can still matter at ``now``."""
    return _failures(session, email, now, lambda detail: detail.get("ip") == address)


@dataclass(frozen=True)
class Attempt:
    """The failures that bear on one attempt to sign in, one list per count that can pause
    it: this email from this address, and at the code step also the account's wrong codes
    from any address (only someone with the password reaches that step, so counting them
    together locks no one out, and a copied cookie gains no guesses from a new address)."""

    counts: tuple[tuple[datetime, ...], ...]

    def paused_until(self, now: datetime) -> datetime | None:
        """When the pause ends, or None when the attempt may be made."""
        ends = [end for times in self.counts if (end := locked_until(times, now)) is not None]
        return max(ends, default=None)

    def failed(self, now: datetime) -> Attempt:
        """The same counts, with this attempt's failure at ``now`` in each."""
        return Attempt(tuple((*times, now) for times in self.counts))

    def tries_left(self, now: datetime) -> int:
        """How many more failures pause sign-in, by the count closest to it."""
        return min(tries_left(times, now) for times in self.counts)


def attempt(
    session: Session, email: str, address: str, now: datetime, *, code_step: bool = False
) -> Attempt:
    """The failures that bear on an attempt for this email from this address now."""
    counts = [tuple(recent_failures(session, email, address, now))]
    if code_step:
        codes = _failures(session, email, now, lambda detail: detail.get("step") == CODE_STEP)
        counts.append(tuple(codes))
    return Attempt(tuple(counts))


def record_failure(
    session: Session, email: str, address: str, now: datetime, **detail: object
) -> None:
    """Add one failed login to the session (the caller commits); ``detail`` says more (the
    step that failed)."""
    entry = audit.record(session, None, ACTION, "user", key_of(email), ip=address, **detail)
    entry.at = now


def unlock(session: Session, admin: User, email: str, now: datetime) -> None:
    """Lift every lock on ``email``, from every address (the caller commits).

    Recorded in the audit log like the failures, so every web process sees it at once.
    """
    entry = audit.record(session, admin, UNLOCK, "user", key_of(email))
    entry.at = now


def locked_accounts(session: Session, now: datetime) -> set[str]:
    """The throttle keys (``key_of`` an email) paused now, from at least one address or by
    the account's wrong codes from any address (as ``attempt`` counts them): what the
    accounts page shows as "locked", and what an admin's unlock lifts."""
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.at, AuditEntry.detail).where(
            AuditEntry.action.in_((ACTION, UNLOCK)),
            AuditEntry.entity == "user",
            AuditEntry.at > now - WINDOW - LOCK,
        )
    ).all()
    # An unlock older than the window lifts nothing that still counts: those are enough.
    unlocked: dict[str, datetime] = {}
    for action, key, at, _ in rows:
        if action == UNLOCK and (key not in unlocked or at > unlocked[key]):
            unlocked[key] = at
    # Per key: one count per address, and (under None) the wrong codes from any address.
    failures: dict[tuple[str, str | None], list[datetime]] = {}
    for action, key, at, detail in rows:
        if action != ACTION or not isinstance(detail, dict) or "ip" not in detail:
            continue
        if key in unlocked and at <= unlocked[key]:
            continue
        failures.setdefault((key, str(detail["ip"])), []).append(at)
        if detail.get("step") == CODE_STEP:
            failures.setdefault((key, None), []).append(at)
    return {key for (key, _), times in failures.items() if locked_until(times, now) is not None}
