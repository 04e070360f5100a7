"""The last word before a text leaves: is it still right to send it, now?

The plan was made earlier; by the moment of sending the number may have opted out, the
appointment may have been cancelled or moved, the clock may sit inside quiet hours after
an outage, or the text may simply be too late to mean anything. This module decides, from
facts read from the database at that moment, and from nothing else. Pure: ``now`` is given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain.planning import after_quiet_hours, in_quiet_hours

LATE_CHECKIN_GRACE = timedelta(hours=12)
LATE_OTHER_GRACE = timedelta(hours=24)
FINISHED = ("cancelled", "no_show")
# The reason on texts held back while a client's "not answering" item is open.
PAUSED = "paused: not answering"
PAUSABLE = ("checkin", "nudge")


@dataclass(frozen=True)
class SendFacts:
    """What is true about one claimed text at the moment it would be sent."""

    kind: str
    send_at: datetime
    timezone: str
    opted_out: bool
    invalid: bool
    appointment_status: str | None = None
    appointment_start: datetime | None = None
    planned_start: datetime | None = None  # the start the text was written for
    contact_gone: bool = False
    paused: bool = False  # the client has an open "not answering" item


@dataclass(frozen=True)
class Decision:
    """``send``, or a final status (``skipped``, ``cancelled``, ``expired``) with a reason,
    or ``defer`` to ``until``."""

    action: str
    reason: str = ""
    until: datetime | None = None


SEND = Decision("send")


def decide(facts: SendFacts, now: datetime, quiet: tuple[time, time]) -> Decision:
    """Decide what to do with a claimed text at ``now``."""
    if facts.opted_out:
        return Decision("skipped", "number opted out")
    if facts.invalid:
        return Decision("skipped", "number is invalid")
    if facts.paused and facts.kind in PAUSABLE:
        return Decision("skipped", PAUSED)
    if facts.kind in ("reminder", "checkin"):
        if facts.contact_gone:
            return Decision("cancelled", "contact removed or changed")
        if facts.appointment_status is None or facts.appointment_status in FINISHED:
            return Decision("cancelled", "appointment cancelled")
        if facts.planned_start is not None and not _same_second(
            facts.appointment_start, facts.planned_start
        ):
            return Decision("cancelled", "appointment moved")
    start = facts.appointment_start
    if facts.kind == "reminder" and start is not None and now >= start:
        return Decision("expired", "the appointment has started")
    grace = LATE_CHECKIN_GRACE if facts.kind == "checkin" else LATE_OTHER_GRACE
    if facts.kind != "reminder" and now - facts.send_at > grace:
        return Decision("expired", "too late to send")
    zone = ZoneInfo(facts.timezone)
    if facts.kind != "manual" and in_quiet_hours(now, zone, quiet[0], quiet[1]):
        until = after_quiet_hours(now, zone, quiet[0], quiet[1])
        if facts.kind == "reminder" and start is not None and until >= start:
            return Decision("expired", "quiet hours last until the appointment")
        return Decision("defer", "quiet hours", until)
    return SEND


def _same_second(a: datetime | None, b: datetime) -> bool:
    # Keys carry whole seconds; the appointment may carry more precision.
    return a is not None and int(a.timestamp()) == int(b.timestamp())


def backoff(
    attempts: int, rng: random.Random, base: float = 30.0, cap: float = 3600.0
) -> timedelta:
    """The wait before retry number ``attempts``: exponential, capped, with full jitter."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))


def planned_start(idempotency_key: str) -> datetime | None:
    """The appointment start a planned text was written for, read from its key."""
    last = idempotency_key.rsplit(":", 1)[-1]
    if not (last.isascii() and last.isdigit()):
        return None
    return datetime.fromtimestamp(int(last), UTC)
