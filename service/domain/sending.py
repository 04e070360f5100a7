"""The last word before a text leaves: is it still right to send it, now?

The plan was made earlier; by the moment of sending the number may have opted out (of
texts by STOP, of calls by pressing 9 or a withdrawn agreement: each channel judges only
its own consent, ``call_permission``), the appointment may have been cancelled or moved,
the clock may sit inside quiet hours after an outage, or the text may simply be too late
to mean anything; a call, its contact may have left the channel that makes it
(``calls_it``). This module decides, from
facts read from the database at that moment, and from nothing else. Pure: ``now`` is given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain import call_permission
from service.domain.call_retries import first_allowed
from service.domain.follow_up_calls import FALLBACK_PREFIX, RETRY_PREFIX
from service.domain.quiet import after_quiet_hours, in_quiet_hours
from service.domain.vocabulary import (
    CALLED_OFF,
    NOTICES,
    PAUSABLE,
    PLANNED_KINDS,
    AppointmentStatus,
    Channel,
    ChannelPreference,
    MessageKind,
)

LATE_CHECKIN_GRACE = timedelta(hours=12)
LATE_OTHER_GRACE = timedelta(hours=24)
# The reason on texts held back while a client's "not answering" item is open.
PAUSED = "paused: not answering"
# The reason on a rebooking text still queued when the practice turned them off.
REBOOKING_OFF = "rebooking texts turned off"
# The reason on a call held back because the practice's quiet hours cover all call hours.
NO_CALL_HOURS = "quiet hours leave no time for calls"
# The reasons on a call whose contact's channel no longer makes it (``calls_it``): off
# calls altogether, or (the call after an unanswered text) off texts then a call.
NOT_CALLED = "contact no longer on calls"
NOT_CALLED_AFTER_TEXT = "contact no longer on texts then a call"
# The reason on a call that follows a message (``follow_up_calls``) called off because the
# number sent us a message since that message left (``voice_fallback``, ``redial``).
ANSWERED = "answered by a reply"

P = ChannelPreference
# The contact channels each sort of call is made for: the planner's own calls to a contact
# on ``voice``; the call after an unanswered text to one on ``sms_then_voice``; a call made
# again follows a call, so to a contact on either channel that calls.
PLANNED_CALLS = (P.VOICE,)
FALLBACK_CALLS = (P.SMS_THEN_VOICE,)
RETRY_CALLS = (P.VOICE, P.SMS_THEN_VOICE)


def calls_it(key: str, channel: str) -> bool:
    """Whether a contact on ``channel`` still gets the call keyed ``key``."""
    if key.startswith(FALLBACK_PREFIX):
        return channel in FALLBACK_CALLS
    if key.startswith(RETRY_PREFIX):
        return channel in RETRY_CALLS
    return channel in PLANNED_CALLS


def not_called(key: str) -> str:
    """The reason a call keyed ``key`` is called off when its contact's channel left it."""
    return NOT_CALLED_AFTER_TEXT if key.startswith(FALLBACK_PREFIX) else NOT_CALLED


@dataclass(frozen=True)
class ContactFacts:
    """A contact as it is at the moment of sending."""

    phone: str
    reminders: bool
    checkins: bool
    channel: str  # how its reminders and check-ins reach it (``ChannelPreference``)

    def wants(self, kind: str) -> bool:
        """True when this contact still asks for texts of this planned kind (a notice of a
        move or cancellation goes to those who get reminders)."""
        return self.reminders if kind == MessageKind.REMINDER or kind in NOTICES else self.checkins


@dataclass(frozen=True)
class SendFacts:
    """What is true about one claimed text at the moment it would be sent."""

    kind: str
    send_at: datetime
    timezone: str
    opted_out: bool
    invalid: bool
    to_phone: str = ""
    appointment_status: str | None = None
    appointment_start: datetime | None = None
    planned_start: datetime | None = None  # the start the text was written for
    contact: ContactFacts | None = None  # None: the contact was removed
    not_answering: bool = False  # the client has an open "not answering" item
    rebooking_texts: bool = True  # the practice's setting in force: rebooking texts on
    channel: str = Channel.SMS  # a call rings only within call hours (``call_retries``)
    # What is recorded about the number's calls (``call_permission``); texts ignore them.
    invalid_reason: str | None = None
    voice_consent_at: datetime | None = None
    voice_opted_out_at: datetime | None = None
    key: str = ""  # the message's idempotency key: a call names there what it follows


@dataclass(frozen=True)
class Decision:
    """``send``, or a final status (``skipped``, ``cancelled``, ``expired``) with a reason,
    or ``defer`` to ``until``."""

    action: str
    reason: str = ""
    until: datetime | None = None


SEND = Decision("send")


def is_paused(kind: str, not_answering: bool) -> bool:
    """The pause rule: while a client is not answering, unprompted texts (check-ins and
    rebooking texts) wait; reminders of booked sessions, staff texts and acknowledgements
    still go."""
    return not_answering and kind in PAUSABLE


def decide(facts: SendFacts, now: datetime, quiet: tuple[time, time]) -> Decision:
    """Decide what to do with a claimed text (or call) at ``now``."""
    unreachable = _unreachable(facts)
    if unreachable is not None:
        return Decision("skipped", unreachable)
    # A change of the setting takes effect at once: invitations already queued (planned for
    # after quiet hours, say) are called off, not sent.
    if facts.kind == MessageKind.NUDGE and not facts.rebooking_texts:
        return Decision("cancelled", REBOOKING_OFF)
    if is_paused(facts.kind, facts.not_answering):
        return Decision("skipped", PAUSED)
    if facts.kind in PLANNED_KINDS:
        planned = _still_planned(facts)
        if planned is not SEND:
            return planned
    if facts.kind in NOTICES:
        current = _notice_current(facts)
        if current is not SEND:
            return current
    return _timely(facts, now, quiet)


def _unreachable(facts: SendFacts) -> str | None:
    """Why the number may not get this message: a text, an opt-out by text or an invalid
    number; a call, its own consent (``call_permission``: STOP by text does not stop calls,
    and a landline may be called)."""
    if facts.channel == Channel.VOICE:
        return call_permission.refusal(
            facts.voice_consent_at, facts.voice_opted_out_at, facts.invalid, facts.invalid_reason
        )
    if facts.opted_out:
        return "number opted out"
    if facts.invalid:
        return "number is invalid"
    return None


def _notice_current(facts: SendFacts) -> Decision:
    """Does a notice still tell the truth? A move notice is for the time it names, a
    cancellation for a session still cancelled; a later change has its own notice. Like a
    planned text, it goes only to a contact still there, at that number, getting reminders."""
    contact = facts.contact
    if contact is None or contact.phone != facts.to_phone or not contact.wants(facts.kind):
        return Decision("cancelled", "contact removed or changed")
    status = facts.appointment_status
    if facts.kind == MessageKind.CANCEL_NOTICE:
        if status is not None and status != AppointmentStatus.CANCELLED:
            return Decision("cancelled", "appointment back on the schedule")
        return SEND
    if status is None or status in CALLED_OFF:
        return Decision("cancelled", "appointment cancelled")
    if facts.planned_start is not None and not _same_second(
        facts.appointment_start, facts.planned_start
    ):
        return Decision("cancelled", "appointment moved again")
    return SEND


def _still_planned(facts: SendFacts) -> Decision:
    """Is the appointment a planned text was written for still there, and its contact?"""
    contact = facts.contact
    # The contact may have been removed, given another number, or told to stop getting
    # this kind of text since the text was planned.
    if contact is None or contact.phone != facts.to_phone or not contact.wants(facts.kind):
        return Decision("cancelled", "contact removed or changed")
    # A call, to a contact whose channel no longer makes it (staff set it to texts, say).
    if facts.channel == Channel.VOICE and not calls_it(facts.key, contact.channel):
        return Decision("cancelled", not_called(facts.key))
    if facts.appointment_status is None or facts.appointment_status in CALLED_OFF:
        return Decision("cancelled", "appointment cancelled")
    if facts.planned_start is not None and not _same_second(
        facts.appointment_start, facts.planned_start
    ):
        return Decision("cancelled", "appointment moved")
    return SEND


def _timely(facts: SendFacts, now: datetime, quiet: tuple[time, time]) -> Decision:
    """Is it still worth sending, and may it go at this hour?"""
    start = facts.appointment_start
    # A move notice, like a reminder, means nothing once its session has begun.
    reminder = facts.kind in (MessageKind.REMINDER, MessageKind.MOVE_NOTICE)
    if reminder and start is not None and now >= start:
        return Decision("expired", "the appointment has started")
    grace = LATE_CHECKIN_GRACE if facts.kind == MessageKind.CHECKIN else LATE_OTHER_GRACE
    if not reminder and now - facts.send_at > grace:
        return Decision("expired", "too late to send")
    zone = ZoneInfo(facts.timezone)
    if facts.channel == Channel.VOICE:
        # A call, whatever its kind, rings only within call hours and outside quiet hours.
        until = first_allowed(now, zone, quiet)
        if until is None:
            return Decision("skipped", NO_CALL_HOURS)
        if until == now:
            return SEND
        reason = "call hours"
    elif facts.kind != MessageKind.MANUAL and in_quiet_hours(now, zone, quiet[0], quiet[1]):
        until, reason = after_quiet_hours(now, zone, quiet[0], quiet[1]), "quiet hours"
    else:
        return SEND
    if reminder and start is not None and until >= start:
        return Decision("expired", f"{reason} last until the appointment")
    return Decision("defer", reason, until)


def _same_second(a: datetime | None, b: datetime) -> bool:
    # The planned start is kept to the second; the appointment may carry more precision.
    return a is not None and int(a.timestamp()) == int(b.timestamp())


def backoff(
    attempts: int, rng: random.Random, base: float = 30.0, cap: float = 3600.0
) -> timedelta:
    """The wait before retry number ``attempts``: exponential, capped, with full jitter."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))
