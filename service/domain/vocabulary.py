"""The practice's vocabulary: every status, kind, intent and channel TouchBase stores, once.

Each is a ``StrEnum``, so a member is its stored string (``MessageStatus.SENT == "sent"``)
and the database, the API and the templates see plain strings. The models build their
CHECK constraints from these classes, the dashboard its labels, and the API its choices; a
test fails when a constraint or a label names a value that is not here. The named subsets
below are the only groupings the code uses: add one here rather than spell a tuple out in
a module.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an account may do: a therapist sees their own clients, an admin sees all."""

    THERAPIST = "therapist"
    ADMIN = "admin"


class ResetKind(StrEnum):
    """How a password reset reaches its user: a link an admin hands over in person, or a
    code texted to the mobile number the user set."""

    LINK = "link"
    CODE = "code"


class Language(StrEnum):
    """The languages texts are written in."""

    EN = "en"
    ES = "es"


class AppointmentStatus(StrEnum):
    """Where one session stands."""

    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    COMPLETED = "completed"


class Channel(StrEnum):
    """How a message reaches a phone; the dispatcher holds one gateway per channel."""

    SMS = "sms"
    VOICE = "voice"  # a phone call that speaks the message and reads the keypad


class ChannelPreference(StrEnum):
    """How a contact wants reminders and check-ins: by text, by phone call, or by text
    followed by one call when the text gets no reply within ``VOICE_FALLBACK_AFTER``
    (issue 18)."""

    SMS = "sms"
    VOICE = "voice"
    SMS_THEN_VOICE = "sms_then_voice"


class MessageKind(StrEnum):
    """Why a message is sent."""

    REMINDER = "reminder"  # before a session, planned
    CHECKIN = "checkin"  # after a session: "how is your pain?", planned
    NUDGE = "nudge"  # a rebooking text to a lapsing client
    REPLY = "reply"  # the acknowledgement of a client's own text
    MANUAL = "manual"  # typed by staff
    MOVE_NOTICE = "move_notice"  # a session moved: the new time, asking for a new C
    CANCEL_NOTICE = "cancel_notice"  # a session cancelled by the practice


class MessageStatus(StrEnum):
    """Where one outgoing message stands.

    planned -> sending -> sent -> delivered / undelivered / failed; sending -> unknown when
    the provider may have accepted a request we saw time out; skipped, cancelled and
    expired are final and mean it never left.
    """

    PLANNED = "planned"
    SENDING = "sending"
    UNKNOWN = "unknown"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Intent(StrEnum):
    """What a client's text means."""

    PAIN = "pain"
    CONFIRM = "confirm"
    RESCHEDULE = "reschedule"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    OTHER = "other"


class Ack(StrEnum):
    """Which acknowledgement answers a client's text."""

    CONFIRM = "confirm"
    RESCHEDULE = "reschedule"
    PAIN = "pain"
    REASK = "reask"  # "please reply with one number"
    HELP = "help"
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"  # a carrier keyword: the carrier answers it, we do not
    OPTED_OUT = "opted_out"  # a stop in plain words: we confirm it ourselves
    OTHER = "other"


class TextKind(StrEnum):
    """Which wording a text uses: one editable template per kind and language
    (``domain.wording``). ``_caregiver``: to a caregiver, or to a phone several clients share,
    so the text names the client it is about."""

    REMINDER = "reminder"
    REMINDER_CAREGIVER = "reminder_caregiver"
    CHECKIN = "checkin"
    CHECKIN_CAREGIVER = "checkin_caregiver"
    REASK = "reask"
    REASK_CAREGIVER = "reask_caregiver"
    ACK_CONFIRM = "ack_confirm"
    ACK_CONFIRM_CAREGIVER = "ack_confirm_caregiver"
    ACK_RESCHEDULE = "ack_reschedule"
    ACK_RESCHEDULE_CAREGIVER = "ack_reschedule_caregiver"
    ACK_PAIN = "ack_pain"
    ACK_PAIN_CAREGIVER = "ack_pain_caregiver"
    ACK_OTHER = "ack_other"
    ACK_OTHER_CAREGIVER = "ack_other_caregiver"
    HELP = "help"
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    REBOOKING = "rebooking"
    MOVE_NOTICE = "move_notice"
    MOVE_NOTICE_CAREGIVER = "move_notice_caregiver"
    CANCEL_NOTICE = "cancel_notice"
    CANCEL_NOTICE_CAREGIVER = "cancel_notice_caregiver"


class AlertKind(StrEnum):
    """What an inbox item asks the practice to look at."""

    PAIN = "pain"
    RESCHEDULE = "reschedule"
    NOT_UNDERSTOOD = "not_understood"
    UNKNOWN_SENDER = "unknown_sender"
    DELIVERY_FAILED = "delivery_failed"
    INVALID_NUMBER = "invalid_number"
    OPT_OUT = "opt_out"
    RELIEF_GAP = "relief_gap"
    LAPSING = "lapsing"
    NOT_ANSWERING = "not_answering"
    CALENDAR_FEED = "calendar_feed"  # a subscribed calendar feed cannot be read


class FeedTitleState(StrEnum):
    """What the therapist decided about an event title of a calendar feed that named no
    client, or several: link it to a client (its calendar name is saved) or ignore it."""

    LINKED = "linked"
    IGNORED = "ignored"


A = AppointmentStatus
# Booked and still ahead of the client: what reminders are for.
UPCOMING = (A.SCHEDULED, A.CONFIRMED)
# Sessions that took place or will: everything but a cancellation or a no-show.
LIVE = (A.SCHEDULED, A.CONFIRMED, A.COMPLETED)
# Sessions that did not and will not take place.
CALLED_OFF = (A.CANCELLED, A.NO_SHOW)
# What a person may still set on a session a calendar feed owns: the feed cannot know it.
FEED_OPEN = (A.CONFIRMED, A.COMPLETED, A.NO_SHOW)
# The ``via`` of the changes a calendar feed makes to its sessions (and may make).
FEED_VIA = "calendar_feed"

K = MessageKind
# Kinds the planner derives from appointments (keyed by appointment, contact and start).
PLANNED_KINDS = (K.REMINDER, K.CHECKIN)
# Unprompted texts held back while a client's "not answering" item is open; reminders of
# booked sessions, staff texts and acknowledgements still go.
PAUSABLE = (K.CHECKIN, K.NUDGE)
# Texts that tell the client the practice moved or cancelled a session (``service.notices``).
NOTICES = (K.MOVE_NOTICE, K.CANCEL_NOTICE)
# Texts a "C" answers by confirming the session they name.
CONFIRMABLE = (K.REMINDER, K.MOVE_NOTICE)

S = MessageStatus
# Reached the phone, as far as the provider told us.
ARRIVED = (S.SENT, S.DELIVERED)
# Left us, or may have: a reply may answer any of these.
LEFT = (S.SENT, S.DELIVERED, S.UNDELIVERED, S.UNKNOWN)
# Claimed by a dispatcher: a send is, or may be, in flight.
IN_FLIGHT = (S.SENDING, S.UNKNOWN)
# Gone to the provider and reported back: the client's thread shows these.
SHOWN_IN_THREAD = (S.SENT, S.DELIVERED, S.UNDELIVERED, S.FAILED, S.UNKNOWN)
# How far a message got, least to most (the schedule shows each appointment's furthest).
PROGRESS = (
    S.CANCELLED,
    S.EXPIRED,
    S.SKIPPED,
    S.PLANNED,
    S.SENDING,
    S.UNKNOWN,
    S.FAILED,
    S.UNDELIVERED,
    S.SENT,
    S.DELIVERED,
)

# Items the clock raises from relief signals, one per signal key.
SIGNALS = (AlertKind.RELIEF_GAP, AlertKind.LAPSING, AlertKind.NOT_ANSWERING)

L = AlertKind
# The inbox's order of urgency, most urgent first; kinds in one group rank the same and
# the newest comes first among them. Every kind is in exactly one group.
INBOX_ORDER = (
    (L.PAIN,),  # pain alerts and rising pain
    (L.RESCHEDULE,),
    (L.UNKNOWN_SENDER,),
    (L.NOT_UNDERSTOOD,),
    # delivery problems, and a calendar feed failing (its sessions may be out of date)
    (L.DELIVERY_FAILED, L.INVALID_NUMBER, L.CALENDAR_FEED),
    SIGNALS,  # relief signals
    (L.OPT_OUT,),
)

del A, K, L, S
