"""Texts from phones: stored raw first, then matched, understood and acted on.

``store`` (``reply_rows``) runs in a transaction of its own and is idempotent on the
provider's MessageSid (enforced by a unique constraint, so concurrent retries of one message
store it once).
``process`` then reads the reply in the light of the latest text we sent to that number,
acts on it (consent, confirmation, alerts) and returns the acknowledgement to answer with.
Keys pressed during a call are stored and processed the same way, but read by the keypad
(``call_keys``) and answered by the call itself, never by a text.
If processing fails the raw message is already safe; the clock retries unprocessed replies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import (
    bookings,
    call_keys,
    consent,
    open_checkins,
    outbox,
    plain_sql,
    reply_reads,
    reply_rows,
    wording_in_force,
)
from service.alerts import close_alerts, close_reschedule_requests, raise_alert
from service.config import Settings
from service.domain.understanding import Expecting, Understanding, understand
from service.domain.vocabulary import (
    CONFIRMABLE,
    Ack,
    AlertKind,
    AppointmentStatus,
    Intent,
    MessageKind,
)
from service.domain.wording import Wording, acknowledgement
from service.models import SELF, InboundMessage, OutboundMessage
from service.reply_rows import Inbound as Inbound
from service.reply_rows import keep as keep
from service.reply_rows import store as store
from service.reply_rows import store_first as store_first

CONTEXT_WINDOW = timedelta(days=7)
# Words the carrier (or Twilio's opt-out handling) already answers; a second reply from us
# would be noise, or a text to a number that just opted out.
CARRIER_KEYWORDS = frozenset(
    [
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "START",
        "UNSTOP",
        "YES",
    ]
)


def _is_carrier_keyword(body: str) -> bool:
    return re.sub(r"[^A-Za-z]", "", body).upper() in CARRIER_KEYWORDS


@dataclass
class Context:
    """Who a reply is from and what it answers."""

    phone: str
    sender: reply_reads.Sender | None = None  # the contact and client it is from
    answering: reply_reads.Sent | None = None
    # A check-in still open behind the reminder being answered (``open_checkins``).
    checkin: OutboundMessage | None = None
    # The client's name, when the answer should say whom it was about: the sender is
    # a caregiver, or the number is several clients' ("Thanks, we've noted it for Maria.").
    about: str = ""
    opted_out: bool = False  # the number had opted out of texts before this reply


def match(session: Session, found: reply_reads.Facts, phone: str, now: datetime) -> Context:
    """Find the sender's client; a shared number belongs to whoever we texted last (each of
    those texts named its client, so the last one asked is the one answered), and keys
    pressed in a call to whoever the call was about."""
    context = Context(phone=phone, opted_out=found.opted_out)
    if not found.contacts:
        return context
    latest = found.latest
    call = call_keys.call_of(found.row) if found.row is not None else None
    if call is not None and (latest is None or latest.id != call):
        latest = reply_reads.sent(session, call, phone) or latest  # the call they answer
    chosen = next(
        (c for c in found.contacts if latest and c.client_id == latest.client_id),
        found.contacts[0],
    )
    context.sender = chosen
    if chosen.relation != SELF or len({c.client_id for c in found.contacts}) > 1:
        context.about = chosen.client_name
    recent = latest and latest.sent_at and now - latest.sent_at <= CONTEXT_WINDOW
    if latest is not None and recent and latest.client_id == chosen.client_id:
        context.answering = latest
        if latest.kind in CONFIRMABLE:
            context.checkin = open_checkins.open_checkin(session, latest, now)
    return context


def process(
    session: Session,
    settings: Settings,
    inbound_id: int,
    now: datetime,
    *,
    late: bool = False,
    sender: str | None = None,
) -> str | None:
    """Understand and act on a stored reply, and commit; return the acknowledgement text
    to answer with, if any.

    The reply's row is locked first, so two processes never act on one reply twice (one
    that finds it processed already does nothing, and commits nothing). When ``late`` (the
    clock finishing a reply whose webhook failed), the acknowledgement cannot ride on the
    webhook's answer any more: it goes into the outbox for the dispatcher. ``sender`` is
    the stored From, when the caller has it (it spares reading the row twice); the
    practice's saved settings are read here over ``settings``. An ordinary answer costs the
    one read of ``reply_reads``, then one round trip for the row's UPDATE
    (``reply_rows.save``), the acknowledgement's INSERT and the COMMIT together.
    """
    if sender is None:
        sender = session.scalar(
            select(InboundMessage.from_phone).where(InboundMessage.id == inbound_id)
        )
        if sender is None:
            return None
    phone = reply_reads.sender_phone(sender, settings.default_region)
    found = reply_reads.facts(session, inbound_id, phone, skip_locked=late)
    row = found.row
    if row is None or row.processed_at is not None:
        return None
    settings, in_force = reply_reads.in_force(found, settings)
    context = match(session, found, phone, now)
    answering = context.answering
    keys = call_keys.understood(session, settings, row, phone, now)  # a call's keys, or None
    meaning = keys or _meaning(row, context, opted_out=found.opted_out)
    sender_of = context.sender
    row.client_id = sender_of.client_id if sender_of else None
    row.contact_id = sender_of.contact_id if sender_of else None
    _record_meaning(row, meaning)
    if answering is not None:  # a score for an open check-in is that check-in's answer
        scored = context.checkin is not None and row.pain_score is not None
        asked = context.checkin if scored and context.checkin else answering
        row.answers_message_id, row.appointment_id = asked.id, asked.appointment_id
    previous = found.previous_pain.get(row.client_id) if row.client_id is not None else None
    answer = _act(session, settings, row, context, meaning, now, previous)
    row.processed_at = now
    draft = _answer(session, settings, in_force, row, context, meaning, answer, now)
    if draft is not None and late:
        outbox.enqueue_one(session, draft, now)  # for the dispatcher to send
    answered = draft if draft is not None and not late else None

    def write() -> None:
        reply_rows.save(session, row)
        if answered is not None:
            outbox.record_answered(session, answered, now)

    plain_sql.commit_together(session, write)
    return answered.body if answered is not None else None


def _answer(
    session: Session,
    settings: Settings,
    in_force: Wording,
    row: reply_reads.Reply,
    context: Context,
    meaning: Understanding,
    answer: Ack | None,
    now: datetime,
) -> outbox.Draft | None:
    """The acknowledgement to answer with, as a message to record; None when there is none
    (nothing to say, no wording for it, or a number that opted out and did not ask)."""
    if answer is None or call_keys.pressed(row):  # a call answers its keys itself
        return None
    # Only an opt-out or opt-in changes the number's consent in this transaction.
    consent_changed = meaning.intent in (Intent.OPT_OUT, Intent.OPT_IN)
    opted_out = (
        consent.is_opted_out(session, context.phone) if consent_changed else context.opted_out
    )
    if opted_out and answer not in (Ack.OPTED_OUT, Ack.HELP, Ack.OPT_IN):
        return None  # an opted-out number hears nothing more, but what it asked for
    language = context.sender.language if context.sender else "en"
    values = wording_in_force.values(settings, client=context.about)
    written = acknowledgement(in_force, answer, language, values)
    if not written:
        return None
    # A re-ask is keyed by the check-in it follows up, so each check-in is asked again once.
    answering = context.answering
    reask = answer == Ack.REASK and answering is not None
    key = f"reask:{answering.id}" if reask and answering else f"reply:{row.provider_sid}"
    return outbox.Draft(
        idempotency_key=key,
        kind=MessageKind.REPLY,
        to_phone=context.phone[:20],
        body=written[0],
        template_id=written[1],
        send_at=now,
        client_id=row.client_id,
        contact_id=row.contact_id,
        appointment_id=row.appointment_id,
    )


def _meaning(row: reply_reads.Reply, context: Context, *, opted_out: bool) -> Understanding:
    """What the reply says, read in the light of the text it answers."""
    answering = context.answering
    expecting: Expecting = None
    if answering is not None and answering.kind in CONFIRMABLE:  # a reminder, a move notice
        expecting = "reminder"
    elif answering is not None and answering.kind == MessageKind.CHECKIN:
        expecting = "checkin"
    return _override(row.fields.get("OptOutType")) or understand(
        row.body,
        expecting=expecting,
        opted_out=opted_out,
        answered=answering.body if answering is not None else None,
        checkin_open=context.checkin is not None,
    )


def _override(opt_out_type: object) -> Understanding | None:
    """Twilio's own opt-out handling, when on, has already decided what a keyword meant."""
    kinds = {"STOP": Intent.OPT_OUT, "START": Intent.OPT_IN, "HELP": Intent.HELP}
    kind = kinds.get(str(opt_out_type or "").upper())
    why = f"{kind}: Twilio's own handling of the keyword" if kind else ""
    return Understanding(intent=kind, reason=why) if kind else None


def _record_meaning(row: reply_reads.Reply, meaning: Understanding) -> None:
    """Store what the reply was read as: acted on when sure, else only as a guess."""
    row.note, row.reason = meaning.note, meaning.reason[:200] or None
    if meaning.sure:
        row.intent, row.pain_score, row.guess = meaning.intent, meaning.pain, None
    else:  # a person decides; nothing is stored as certain
        row.intent, row.pain_score, row.guess = Intent.OTHER, None, meaning.intent


def _act(
    session: Session,
    settings: Settings,
    row: reply_reads.Reply,
    context: Context,
    meaning: Understanding,
    now: datetime,
    previous: int | None,
) -> Ack | None:
    """Do what the reply asks; return which acknowledgement to answer with, if any.
    ``previous`` is the client's pain score before this reply, if any."""
    client_id = row.client_id

    def alert(kind: AlertKind, detail: str = "") -> None:
        raise_alert(
            session,
            kind,
            now,
            client_id=client_id,
            phone=context.phone,
            inbound_id=row.id,
            detail=detail,
        )

    keyword = _is_carrier_keyword(row.body) or bool(row.fields.get("OptOutType"))
    if meaning.intent == Intent.OPT_OUT:
        consent.opt_out(session, context.phone, now)
        alert(AlertKind.OPT_OUT, "asked to stop texts")
        return None if keyword else Ack.OPTED_OUT
    if meaning.intent == Intent.OPT_IN:
        consent.opt_in(session, context.phone, now)
        close_alerts(session, AlertKind.OPT_OUT, "client opted in again", now, phone=context.phone)
        return None if keyword else Ack.OPT_IN
    if context.sender is None:
        alert(AlertKind.UNKNOWN_SENDER, "a text from a number that matches no client")
        return Ack.HELP if meaning.intent == Intent.HELP else Ack.OTHER
    if meaning.intent == Intent.HELP:
        return Ack.HELP
    if meaning.quiet:  # a tapback on a text that asked nothing: nothing to do or say
        return None
    if not meaning.sure:
        alert(AlertKind.NOT_UNDERSTOOD, f"maybe: {_guess(meaning)}")
        return (
            Ack.REASK
            if context.answering and context.answering.kind == MessageKind.CHECKIN
            else Ack.OTHER
        )
    return _act_on(session, settings, row, context, meaning, now, alert, previous)


def _guess(meaning: Understanding) -> str:
    """The guess an inbox item shows: "reschedule", "pain 9/10"."""
    return f"pain {meaning.pain}/10" if meaning.pain is not None else str(meaning.intent)


def _act_on(
    session: Session,
    settings: Settings,
    row: reply_reads.Reply,
    context: Context,
    meaning: Understanding,
    now: datetime,
    alert: Callable[..., None],
    previous: int | None,
) -> Ack:
    """Act on a reply understood for sure: confirm, reschedule, a pain score, or nothing.
    "C 6" to a reminder with a check-in open does both, and is answered as a confirmation."""
    if meaning.intent == Intent.CONFIRM or meaning.confirms:
        _confirm(session, settings, context, now)
        if row.client_id is not None:
            close_reschedule_requests(session, row.client_id, "client confirmed", now)
    if meaning.intent == Intent.CONFIRM:
        return Ack.CONFIRM
    if meaning.intent == Intent.RESCHEDULE:
        alert(AlertKind.RESCHEDULE, meaning.note or "")
        return Ack.RESCHEDULE
    if meaning.intent == Intent.PAIN and meaning.pain is not None:
        _pain_alert(settings, meaning.pain, previous, alert)
        return Ack.CONFIRM if meaning.confirms else Ack.PAIN
    if meaning.reask and context.answering is not None and not _reasked(session, context):
        return Ack.REASK
    alert(AlertKind.NOT_UNDERSTOOD, (meaning.note or row.body)[:200])
    return Ack.OTHER


def _confirm(session: Session, settings: Settings, context: Context, now: datetime) -> None:
    """Confirm the session a reminder was about, if it is still booked and ahead."""
    answering = context.answering
    if answering is None or answering.kind not in CONFIRMABLE or answering.appointment_id is None:
        return
    appointment = bookings.lock_appointment(session, answering.appointment_id)
    if (
        appointment is not None
        and appointment.status == AppointmentStatus.SCHEDULED
        and appointment.starts_at > now
    ):
        confirmed = AppointmentStatus.CONFIRMED
        bookings.change_appointment(
            session, settings, None, appointment, now, status=confirmed, via="reply"
        )


def _pain_alert(
    settings: Settings, score: int, previous: int | None, alert: Callable[..., None]
) -> None:
    """A pain alert for a score at the practice's threshold, or 3 or more above the last."""
    if score >= settings.pain_alert_threshold:
        alert(AlertKind.PAIN, f"pain {score}/10")
    elif previous is not None and score - previous >= 3:
        alert(AlertKind.PAIN, f"pain {score}/10, up from {previous}")


def _reasked(session: Session, context: Context) -> bool:
    assert context.answering is not None
    key = f"reask:{context.answering.id}"
    return (
        session.scalar(select(OutboundMessage.id).where(OutboundMessage.idempotency_key == key))
        is not None
    )


def unprocessed(session: Session, older_than: datetime) -> list[int]:
    """Stored replies whose processing never finished (a crash, a bug), oldest first."""
    return list(
        session.scalars(
            select(InboundMessage.id)
            .where(InboundMessage.processed_at.is_(None), InboundMessage.received_at < older_than)
            .order_by(InboundMessage.id)
            .limit(100)
        )
    )


def adopt(session: Session, phone: str, client_id: int) -> int:
    """Give a client the texts a number sent while it matched no client, once a person has
    linked the number to them (so the client's thread shows them); how many."""
    result = session.execute(
        update(InboundMessage)
        .where(InboundMessage.from_phone == phone, InboundMessage.client_id.is_(None))
        .values(client_id=client_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
