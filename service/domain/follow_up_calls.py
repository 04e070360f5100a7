"""Calls that follow another message rather than the plan: the one call after a text that
got no reply (a contact on ``sms_then_voice``), and a call made again after a busy line, no
answer or an answering machine (``call_retries``).

Pure: every time is given. Each follow-up is keyed by the message it follows, so it is made
once however many clocks or callbacks ask for it (a call made again also names how the
call it follows ended, so the outcomes of a message's calls can be read back along its
keys); the planner leaves rows under these keys alone (they are no text of its plan). A
follow-up call keeps its message's kind, appointment, contact and planned start, so the
dispatcher's final check treats it as it would the message itself (a cancelled session
calls off its follow-up, a reminder whose session began expires).

The fallback call (``fallback_at``): a reminder or a check-in text, sent (or delivered) at
``sent_at``, that no message from the number answered since, calls once ``after`` it was
sent, at the first minute calls may ring (``call_retries.first_allowed``); not at all when
that would be at or after the session's start (a reminder), or too late for a check-in to
mean anything (``LATE_CHECKIN``), or when the practice's quiet hours leave no time for
calls. Whether the number may be called is ``call_permission``'s; the caller asks it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import cast, get_args
from zoneinfo import ZoneInfo

from service.domain.call_retries import MAX_CALLS, Outcome, first_allowed
from service.domain.vocabulary import MessageKind

FALLBACK_PREFIX = "call-after-text:"
RETRY_PREFIX = "call-again:"
FOLLOW_UP_PREFIXES = (FALLBACK_PREFIX, RETRY_PREFIX)
# The longest chain of calls for one message, and so of keys to read back.
MAX_CHAIN = MAX_CALLS
# A check-in's call placed later than this after its text asks about a day long gone.
LATE_CHECKIN = timedelta(hours=12)


def fallback_key(text_id: int) -> str:
    """The key of the one call that follows text ``text_id``."""
    return f"{FALLBACK_PREFIX}{text_id}"


def retry_key(call_id: int, outcome: Outcome) -> str:
    """The key of the call made again after call ``call_id`` ended with ``outcome`` (the
    caller makes one per call, whatever the outcome: ``retries_of``)."""
    return f"{RETRY_PREFIX}{call_id}:{outcome}"


def retries_of(call_id: int) -> str:
    """What the keys of the calls made again after call ``call_id`` begin with."""
    return f"{RETRY_PREFIX}{call_id}:"


def retried_after(key: str) -> tuple[int, Outcome] | None:
    """The call a call made again follows, and how that one ended, from the call's key;
    None for a call that is no retry."""
    if not key.startswith(RETRY_PREFIX):
        return None
    call_id, _, outcome = key.removeprefix(RETRY_PREFIX).partition(":")
    if not call_id.isdigit() or outcome not in get_args(Outcome):
        return None
    return int(call_id), cast(Outcome, outcome)


def fallback_at(
    kind: str,
    sent_at: datetime,
    after: timedelta,
    tz: ZoneInfo,
    quiet: tuple[time, time],
    appointment_start: datetime | None = None,
) -> datetime | None:
    """When the call after an unanswered ``kind`` text sent at ``sent_at`` rings, or None
    when it should not be made (see above)."""
    if kind not in (MessageKind.REMINDER, MessageKind.CHECKIN):
        return None
    at = first_allowed(sent_at + after, tz, quiet)
    if at is None:
        return None
    if kind == MessageKind.REMINDER:
        if appointment_start is None or at >= appointment_start:
            return None
    elif at - sent_at > after + LATE_CHECKIN:
        return None
    return at
