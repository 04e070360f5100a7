"""What the client page shows: contacts, schedule, the thread, the pain and relief charts,
and the name the practice's calendar feeds find the client by ("In calendars: Maria G.",
marked when it is the default, first name and last initial)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import call_consent, consent, pain, schedule_reads
from service.config import current_settings
from service.dashboard import charts, compose, series_rules, timefmt
from service.dashboard.auth import current_user
from service.dashboard.forms import Form
from service.db import get_session, utcnow
from service.domain import calendar_names, recurrence, relief, texts
from service.domain.provider_errors import explain
from service.domain.vocabulary import (
    SHOWN_IN_THREAD,
    ChannelPreference,
    MessageKind,
    MessageStatus,
)
from service.models import (
    SELF,
    Alert,
    Appointment,
    AppointmentSeries,
    Client,
    InboundMessage,
    OutboundMessage,
    PhoneNumber,
    User,
)

THREAD_LIMIT = 150
RECENT = timedelta(days=14)
S = MessageStatus
# How the thread names each status of a text we sent.
STATUS_WORDS: dict[str, str] = {
    S.PLANNED: "Queued",
    S.SENDING: "Sending",
    S.UNKNOWN: "Unconfirmed",
    S.SENT: "Sent",
    S.DELIVERED: "Delivered",
    S.UNDELIVERED: "Not delivered",
    S.FAILED: "Failed",
    S.SKIPPED: "Not sent",
    S.CANCELLED: "Cancelled",
    S.EXPIRED: "Expired",
}


@dataclass(frozen=True)
class ThreadItem:
    """One text in the conversation, either way."""

    at: datetime
    incoming: bool
    body: str
    who: str
    kind: str
    status: str
    detail: str
    reason: str = ""  # how a reply was read, in one line
    channel: str = "sms"  # "voice": a call we placed, or keys pressed during one


def recipient_names(client: Client) -> dict[int, str]:
    """How the page names each of the client's contacts: "Rosa Diaz (mother)"."""
    return {c.id: f"{c.name} ({c.relation})" for c in client.contacts}


def thread(
    session: Session, client: Client, imported: Sequence[relief.Score] = ()
) -> list[ThreadItem]:
    """The client's texts both ways, oldest first, as a phone would show them, with the
    imported scores among them, marked as imported."""
    names = recipient_names(client)
    items = _sent(session, client, names) + _received(session, client, names)
    items += [
        ThreadItem(
            at=row.at,
            incoming=True,
            body=f"Pain {row.pain}/10" + (f": {row.note}" if row.note else ""),
            who="a record kept elsewhere",
            kind="pain",
            status="Imported",
            detail="not a text",
        )
        for row in imported
        if row.imported
    ]
    items.sort(key=_in_order)
    return items[-THREAD_LIMIT:]


def _in_order(item: ThreadItem) -> tuple[datetime, bool]:
    """Oldest first; an automatic reply is stamped the same instant as the text it answers,
    and goes after it on that tie."""
    return item.at, not item.incoming and item.kind == MessageKind.REPLY


def _sent(session: Session, client: Client, names: dict[int, str]) -> list[ThreadItem]:
    """The latest texts we sent about the client (typed ones and acknowledgements show
    while still queued too)."""
    out = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.client_id == client.id,
            or_(
                OutboundMessage.status.in_(SHOWN_IN_THREAD),
                OutboundMessage.kind.in_((MessageKind.MANUAL, MessageKind.REPLY)),
            ),
        )
        .order_by(OutboundMessage.send_at.desc(), OutboundMessage.id.desc())
        .limit(THREAD_LIMIT)
    )
    return [
        ThreadItem(
            at=m.sent_at or m.send_at,
            incoming=False,
            body=m.body,
            who=names.get(m.contact_id or 0, "a former contact"),
            kind=m.kind,
            status=STATUS_WORDS.get(m.status, m.status),
            detail=_why(m),
            channel=m.channel,
        )
        for m in out
    ]


def _why(message: OutboundMessage) -> str:
    """Why a text did not arrive, in plain words: the provider's error code explained (its
    own message is jargon and names the number in E.164), or our own reason for not sending."""
    if message.status in (S.FAILED, S.UNDELIVERED):
        return explain(message.error_code)
    return (message.error_message or "") if message.status in (S.SKIPPED, S.EXPIRED) else ""


def _received(session: Session, client: Client, names: dict[int, str]) -> list[ThreadItem]:
    """The latest texts the client's phones sent us."""
    incoming = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.client_id == client.id)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(THREAD_LIMIT)
    )
    return [
        ThreadItem(
            at=r.received_at,
            incoming=True,
            body=r.body,
            who=names.get(r.contact_id or 0, "a former contact"),
            kind=r.intent or "",
            status="Received",
            detail=" · ".join(part for part in (_whose(r, client), _read_as(r)) if part),
            reason=r.reason or "",
            channel=r.channel,
        )
        for r in incoming
    ]


def _whose(reply: InboundMessage, client: Client) -> str:
    """A caregiver's reply says which client it was for (their phone may be several's)."""
    own = {c.id for c in client.contacts if c.relation == SELF}
    return "" if reply.contact_id in own else f"for {texts.first_name(client.name)}"


def _read_as(reply: InboundMessage) -> str:
    """The score a reply gave, or the guess a person must check."""
    if reply.pain_score is not None:
        return f"pain {reply.pain_score}/10"
    return f"maybe: {reply.guess}, for a person" if reply.guess else ""


@dataclass(frozen=True)
class PainHistory:
    """The scores (texted and imported) and sessions behind both charts of the page."""

    scores: list[relief.Score]
    sessions: list[relief.SessionFact]


def pain_history(session: Session, client: Client, now: datetime) -> PainHistory:
    """Everything both charts need, in three statements."""
    since = now - charts.MAX_SPAN
    return PainHistory(
        scores=pain.scores(session, [client.id], since).get(client.id, []),
        sessions=pain.sessions(session, [client.id], since, now).get(client.id, []),
    )


def pain_chart(history: PainHistory, client: Client, now: datetime) -> charts.PainChart | None:
    """The client's pain scores over time, each session marked, imported ones marked too."""
    threshold = current_settings().pain_alert_threshold
    return charts.pain_chart(
        [(r.at, r.pain) for r in history.scores],
        [s.starts_at for s in history.sessions],
        client.timezone,
        now,
        threshold=threshold,
        imported={(r.at, r.pain) for r in history.scores if r.imported},
    )


def relief_estimate(history: PainHistory, client: Client, now: datetime) -> relief.Relief:
    """How long relief lasts after a session, from the same scores and sessions."""
    return relief.estimate(history.sessions, history.scores, client.timezone, now)


def reply_form(client: Client, data: Form | None = None) -> Form:
    """The compose form: a fresh key, the client's own number chosen first."""
    if data is not None:
        return data
    first = next(iter(client.contacts_own_first), None)
    return Form(defaults={"key": compose.new_key(), "contact_id": str(first.id) if first else ""})


def _schedule(db: Session, client: Client, now: datetime) -> dict[str, Any]:
    """The schedule part of the page: series with their next starts, recent and coming
    appointments, and the next planned texts."""
    series = db.scalars(
        select(AppointmentSeries)
        .where(AppointmentSeries.client_id == client.id)
        .order_by(AppointmentSeries.created_at)
    ).all()
    upcoming = {
        s.id: recurrence.next_starts(
            s.rrule, s.starts_local, ZoneInfo(s.timezone), now, 3, until=s.ends_at
        )
        for s in series
    }
    appointments = db.scalars(
        select(Appointment)
        .where(Appointment.client_id == client.id, Appointment.starts_at >= now - RECENT)
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(30)
    ).all()
    planned = db.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.client_id == client.id, OutboundMessage.status == S.PLANNED)
        .where(OutboundMessage.kind != MessageKind.MANUAL)
        .order_by(OutboundMessage.send_at)
        .limit(5)
    ).all()
    return {
        "series": series,
        "upcoming": upcoming,
        "restorable": {s.id: schedule_reads.restorable(s, now) for s in series},
        "appointments": appointments,
        "planned": planned,
        "recipients": recipient_names(client),
    }


def _pain(db: Session, client: Client, now: datetime) -> dict[str, Any]:
    """The pain part of the page: the thread, the pain chart and the relief estimate."""
    history = pain_history(db, client, now)
    estimate = relief_estimate(history, client, now)
    return {
        "thread": thread(db, client, history.scores),
        "chart": pain_chart(history, client, now),
        "relief": estimate,
        "relief_chart": charts.relief_chart(estimate),
        "gap_too_long": relief.gap_longer_than_relief(estimate),
        "gap_sentence": relief.gap_sentence(estimate),
    }


# How the page says which way each contact hears from the practice.
CHANNEL_WORDS = {
    ChannelPreference.SMS: "by text",
    ChannelPreference.VOICE: "by phone call",
    ChannelPreference.SMS_THEN_VOICE: "by text, then a call if no reply",
}


def calls_words(db: Session, known: dict[str, PhoneNumber], tz: str) -> dict[str, str]:
    """For each number, where calls stand: "agreed on Mar 4 by Ana Ruiz", "stopped by the
    caller on Mar 9" or "not agreed" (apart from texts, ``call_consent``)."""
    ids = {row.voice_consent_by_id for row in known.values()} - {None}
    names = {i: n for i, n in db.execute(select(User.id, User.name).where(User.id.in_(ids)))}
    words = {}
    for phone, row in known.items():
        if call_consent.agreed(row) and row.voice_consent_at is not None:
            by = names.get(row.voice_consent_by_id or 0, "a former user")
            words[phone] = f"agreed on {timefmt.day_of(row.voice_consent_at, tz)} by {by}"
        elif call_consent.stopped_by_caller(row) and row.voice_opted_out_at is not None:
            words[phone] = f"stopped by the caller on {timefmt.day_of(row.voice_opted_out_at, tz)}"
    return words


def render_client_page(
    client: Client,
    reply: Form | None = None,
    *,
    refusal: str | None = None,
    quiet_warning: bool = False,
    later: datetime | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The client page; ``reply`` carries a compose form being shown again."""
    db, user, now = get_session(), current_user(), utcnow()
    alerts = db.execute(
        select(Alert, User.name)
        .outerjoin(User, User.id == Alert.handled_by_id)
        .where(Alert.client_id == client.id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(30)
    ).all()
    therapists = (
        db.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()
        if user.is_admin
        else []
    )
    known = consent.numbers(db, (c.phone for c in client.contacts))
    return render_template(
        "clients/page.html",
        client=client,
        contacts=client.contacts_own_first,
        known=known,
        calls=calls_words(db, known, client.timezone),
        channel_words=CHANNEL_WORDS,
        summary=series_rules.summary,
        now=now,
        alerts=alerts,
        reply=reply_form(client, reply),
        refusal=refusal,
        quiet_warning=quiet_warning,
        later=later,
        max_body=compose.MAX_BODY,
        quiet_now=compose.quiet_now(client, current_settings().quiet_hours, now),
        therapists=therapists,
        status_words=STATUS_WORDS,
        calendar_name=calendar_names.name_in_use(client.calendar_name, client.name),
        **_schedule(db, client, now),
        **_pain(db, client, now),
    ), status
