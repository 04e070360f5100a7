"""Which reminder and check-in texts an appointment should have, and when they go out.

Pure: the caller passes `now` and the facts; the result is a deterministic list of messages,
each with an idempotency key so that re-planning updates rather than duplicates.

Quiet hours are local wall-clock times in the client's zone, [quiet_start, quiet_end):
quiet_start is the first quiet minute and quiet_end the first allowed one; the window may wrap
midnight, and quiet_start == quiet_end means no quiet hours. A reminder that falls in them moves
earlier, to one minute before the window began (a reminder must not arrive after the
appointment); a check-in moves later, to the moment the window ends. Offsets are elapsed time,
so across a DST switch a 24 h reminder lands an hour off the appointment's wall-clock time.

A recipient whose channel is ``voice`` gets calls instead: the same offsets and wording,
under keys of their own (``_message``), with quiet hours that also keep out the hours calls
may not ring (before 9:00, from 20:00: ``call_retries.quiet_for_calls``), so a reminder of a
9:00 session due at 7:00 rings the evening before at 19:59, not at 20:59 when no call may
ring. Quiet hours that cannot be joined with those (at midday) are kept when the call is
placed: ``sending.decide`` holds a call until they end.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from service.domain import repeats, sampling, texts
from service.domain.call_retries import quiet_for_calls
from service.domain.quiet import after_quiet_hours, before_quiet_hours
from service.domain.vocabulary import (
    CALLED_OFF,
    AppointmentStatus,
    Channel,
    MessageKind,
    MessageStatus,
    TextKind,
)
from service.domain.wording import Wording, for_recipient, name_for_text


@dataclass(frozen=True)
class PlanSettings:
    """The practice's texting rules."""

    reminder_offsets: tuple[timedelta, ...]
    checkin_offsets: sampling.CheckinOffsets
    quiet_start: time
    quiet_end: time
    practice_name: str
    late_checkin_grace: timedelta = timedelta(hours=12)
    # How texts are worded (``domain.wording``), and names in plain letters.
    wording: Wording = field(default_factory=Wording.shipped)
    plain_names: bool = False
    practice_phone: str = ""

    def __post_init__(self) -> None:
        """Refuse offsets that are not positive and distinct, and quiet hours off the minute."""
        for offsets in (self.reminder_offsets, self.checkin_offsets):
            if isinstance(offsets, str):  # AUTO: the days follow each client's rhythm
                continue
            if any(o <= timedelta(0) for o in offsets) or len(set(offsets)) != len(offsets):
                raise ValueError("offsets must be positive and distinct")
        for edge in (self.quiet_start, self.quiet_end):
            if edge.second or edge.microsecond or edge.tzinfo is not None:
                raise ValueError("quiet hours are naive local times on the minute")
        if self.late_checkin_grace < timedelta(0):
            raise ValueError("late_checkin_grace must not be negative")


@dataclass(frozen=True)
class Recipient:
    """A phone number that gets a client's texts, and which kinds it wants."""

    contact_id: int
    phone: str  # E.164
    reminders: bool
    checkins: bool
    # A caregiver's texts greet them by ``name`` and name the client (``texts``).
    caregiver: bool = False
    name: str = ""
    # How its reminders and check-ins reach it: texts, or calls (``Channel.VOICE``) for a
    # contact on the voice channel whose number may get calls (``plan_facts.recipient``).
    channel: str = Channel.SMS


@dataclass(frozen=True)
class AppointmentFacts:
    """What the planner needs to know about one appointment (instants are aware UTC)."""

    id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    timezone: str  # IANA, the client's
    language: str
    client_name: str
    recipients: tuple[Recipient, ...]
    next_start: datetime | None  # the client's next non-cancelled appointment after this one
    # The client's own check-in offsets (whole days, see ``checkin_days``, or AUTO); None: the
    # practice's.
    checkin_offsets: sampling.CheckinOffsets | None = None
    # With no next session booked, when the series or the client's rhythm expects the next
    # one (``sampling``: what automatic check-ins sample up to); None: a one-off.
    expected_next: datetime | None = None
    # Its texts that left us or may be leaving: the plan does not repeat them (``repeats``).
    went: tuple[repeats.Went, ...] = ()


@dataclass(frozen=True)
class PlannedMessage:
    """One text the appointment should have, with its fate at planning time."""

    key: str
    kind: str  # "reminder" | "checkin"
    appointment_id: int
    contact_id: int
    to: str
    send_at: datetime  # aware UTC
    status: str  # "planned" | "skipped" | "expired"
    body: str
    planned_start: datetime  # the appointment start it was written for, to the second
    template_id: int | None = None  # the wording version of the body; None: shipped
    channel: str = Channel.SMS  # a call's key ends in ``repeats.CALL_SUFFIX``


MAX_CHECKIN_DAYS = 6
LAST_CHECKIN_DAY = 30


def parse_checkin_days(raw: str) -> tuple[int, ...] | Literal["auto"]:
    """A client's check-in days (``"1, 3, 5"``) as sorted whole days after a session, or
    ``auto`` (any case): days that follow the client's rhythm (``sampling``).

    Whole, distinct days keep to at most one check-in a day per session (a quiet-hours move
    only pushes a check-in to the morning after, never past the next day's). Raises
    ValueError saying what is wrong.
    """
    if raw.strip().lower() == sampling.AUTO:
        return sampling.AUTO
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts:
        raise ValueError("give at least one day, like 1,3,5")
    if not all(p.isascii() and p.isdigit() and len(p) <= 2 for p in parts):
        raise ValueError("days are whole numbers separated by commas, like 1,3,5, or auto")
    days = sorted({int(p) for p in parts})
    if len(days) != len(parts):
        raise ValueError("each day may appear once")
    if days[0] < 1 or days[-1] > LAST_CHECKIN_DAY:
        raise ValueError(f"days run from 1 to {LAST_CHECKIN_DAY} after the session")
    if len(days) > MAX_CHECKIN_DAYS:
        raise ValueError(f"at most {MAX_CHECKIN_DAYS} check-ins per session")
    return tuple(days)


def checkin_offsets_of(
    days: tuple[int, ...] | Literal["auto"] | None,
) -> sampling.CheckinOffsets | None:
    """The check-in offsets for these days (None stays None: the practice's offsets; AUTO
    stays AUTO)."""
    if days is None or isinstance(days, str):
        return days
    return tuple(timedelta(days=d) for d in days)


def plan_appointment(
    appt: AppointmentFacts, settings: PlanSettings, now: datetime
) -> list[PlannedMessage]:
    """Return the appointment's reminders and check-ins, sorted by (send_at, key); none
    repeats a text of it that went (``repeats``: those are skipped)."""
    if now.tzinfo is None or appt.starts_at.tzinfo is None or appt.ends_at.tzinfo is None:
        raise ValueError("now, starts_at and ends_at must be aware datetimes")
    if appt.status not in tuple(AppointmentStatus):
        raise ValueError(f"unknown appointment status {appt.status!r}")
    if appt.status in CALLED_OFF:
        return []
    tz = ZoneInfo(appt.timezone)
    start_local = appt.starts_at.astimezone(tz).replace(tzinfo=None)
    planned: list[PlannedMessage] = []
    seen: set[int] = set()
    for person in appt.recipients:
        if person.contact_id in seen:  # the same contact listed twice gets one set of texts
            continue
        seen.add(person.contact_id)
        greet, about = _names(appt, person, settings.plain_names)
        values = {
            "first_name": greet,
            "client_first_name": about,
            "practice": settings.practice_name,
            "practice_phone": settings.practice_phone,
            "when": texts.format_local(start_local, appt.language),
        }
        rules = _for_calls(settings) if person.channel == Channel.VOICE else settings
        if person.reminders:
            kind = for_recipient(TextKind.REMINDER, about)
            reminder, used = settings.wording.write(kind, appt.language, values)
            planned += _worded(_reminders(appt, person, rules, tz, now, reminder), used)
        if person.checkins:
            kind = for_recipient(TextKind.CHECKIN, about)
            checkin, used = settings.wording.write(kind, appt.language, values)
            planned += _worded(_checkins(appt, person, rules, tz, now, checkin), used)
    offsets = settings.checkin_offsets if appt.checkin_offsets is None else appt.checkin_offsets
    most = sampling.MOST_ASKS if isinstance(offsets, str) else None  # AUTO
    again = repeats.repeated(planned, appt.went, appt.starts_at, tz, most)
    planned = [replace(m, status=MessageStatus.SKIPPED) if m.key in again else m for m in planned]
    return sorted(planned, key=lambda m: (m.send_at, m.key))


def _for_calls(settings: PlanSettings) -> PlanSettings:
    """The rules for a recipient who is called: quiet hours that also keep out the hours
    calls may not ring (``call_retries.quiet_for_calls``)."""
    start, end = quiet_for_calls((settings.quiet_start, settings.quiet_end))
    return replace(settings, quiet_start=start, quiet_end=end)


def _names(appt: AppointmentFacts, person: Recipient, plain: bool) -> tuple[str, str]:
    """Whom a text greets and whose it is: the client alone, or a caregiver about the client
    (given names as texts show them)."""
    client = name_for_text(appt.client_name, plain)
    if person.caregiver:
        return name_for_text(person.name, plain), client
    return client, ""


def _worded(messages: list[PlannedMessage], template_id: int | None) -> list[PlannedMessage]:
    """The messages, marked with the wording version their body was written with."""
    return [replace(m, template_id=template_id) for m in messages]


def _reminders(
    appt: AppointmentFacts,
    person: Recipient,
    settings: PlanSettings,
    tz: ZoneInfo,
    now: datetime,
    body: str,
) -> list[PlannedMessage]:
    """Return one recipient's reminders; of those already due only the latest may still go."""
    quiet = (tz, settings.quiet_start, settings.quiet_end)
    due = {o: before_quiet_hours(appt.starts_at - o, *quiet) for o in settings.reminder_offsets}
    overdue = [o for o, at in due.items() if at <= now]
    # A late booking gets one reminder at once (the one meant for the latest moment), not a
    # burst of every reminder it missed; none at all once the appointment has begun.
    late = min(overdue) if overdue and now < appt.starts_at else None
    result: list[PlannedMessage] = []
    sent_at: set[datetime] = set()
    for offset in sorted(due):  # smallest offset first: it wins a tie on send time
        send_at = after_quiet_hours(now, *quiet) if offset == late else due[offset]
        # Two reminders pushed to the same minute by quiet hours would arrive together.
        missed = offset in overdue and offset != late
        if missed or send_at >= appt.starts_at or send_at in sent_at:
            status, send_at = MessageStatus.SKIPPED, due[offset]
        else:
            status = MessageStatus.PLANNED
            sent_at.add(send_at)
        result.append(_message(MessageKind.REMINDER, appt, person, offset, send_at, status, body))
    return result


def _checkins(
    appt: AppointmentFacts,
    person: Recipient,
    settings: PlanSettings,
    tz: ZoneInfo,
    now: datetime,
    body: str,
) -> list[PlannedMessage]:
    """Return one recipient's check-ins: late within the grace, expired after it."""
    quiet = (tz, settings.quiet_start, settings.quiet_end)
    result: list[PlannedMessage] = []
    offsets = settings.checkin_offsets if appt.checkin_offsets is None else appt.checkin_offsets
    if isinstance(offsets, str):  # AUTO
        return _sampled(appt, person, settings, tz, now, body)
    for offset in sorted(offsets):
        send_at = after_quiet_hours(appt.ends_at + offset, *quiet)
        status = MessageStatus.PLANNED
        if send_at <= now:
            if now - send_at < settings.late_checkin_grace:
                send_at = after_quiet_hours(now, *quiet)
            else:
                status = MessageStatus.EXPIRED
        # Once the next session has begun the answer would describe that one, not this.
        next_start = appt.next_start
        if status == MessageStatus.PLANNED and next_start is not None and next_start <= send_at:
            status = MessageStatus.SKIPPED
        result.append(_message(MessageKind.CHECKIN, appt, person, offset, send_at, status, body))
    return result


def _sampled(
    appt: AppointmentFacts,
    person: Recipient,
    settings: PlanSettings,
    tz: ZoneInfo,
    now: datetime,
    body: str,
) -> list[PlannedMessage]:
    """Return one recipient's automatic check-ins (``sampling``), keyed by their role."""
    quiet = (tz, settings.quiet_start, settings.quiet_end)
    gap_end = appt.next_start or appt.expected_next
    reminders = []
    if person.reminders and gap_end is not None:
        reminders = [before_quiet_hours(gap_end - o, *quiet) for o in settings.reminder_offsets]
    asks = sampling.plan(
        start=appt.starts_at,
        end=appt.ends_at,
        gap_end=gap_end,
        next_start=appt.next_start,
        tz=tz,
        quiet=(settings.quiet_start, settings.quiet_end),
        reminders=reminders,
        now=now,
        grace=settings.late_checkin_grace,
    )
    # The role, not a day, names the ask: a changed rhythm moves it instead of adding one.
    return [
        _message(
            MessageKind.CHECKIN, appt, person, f"auto-{ask.role}", ask.send_at, ask.status, body
        )
        for ask in asks
    ]


def _message(
    kind: str,
    appt: AppointmentFacts,
    person: Recipient,
    slot: timedelta | str,
    send_at: datetime,
    status: str,
    body: str,
) -> PlannedMessage:
    """Return the message with its idempotency key; ``slot`` names it among the
    appointment's texts of its kind to one contact: an offset (in seconds in the key), or
    an automatic check-in's role. A call's key is its text's with ``repeats.CALL_SUFFIX``
    after it: a change of channel plans the other message rather than turn one into the
    other (and ``repeats`` keeps it from repeating one that went)."""
    named = slot if isinstance(slot, str) else int(slot.total_seconds())
    start = int(appt.starts_at.timestamp())
    call = repeats.CALL_SUFFIX if person.channel == Channel.VOICE else ""
    return PlannedMessage(
        key=f"{kind}:{appt.id}:{person.contact_id}:{named}:{start}{call}",
        kind=kind,
        appointment_id=appt.id,
        contact_id=person.contact_id,
        to=person.phone,
        send_at=send_at.astimezone(UTC),
        status=status,
        body=body,
        planned_start=datetime.fromtimestamp(start, UTC),
        channel=person.channel,
    )
