"""The demo practice's eight weeks of history: texts delivered, answered, and the inbox items
a practice might have on a Tuesday morning. ``service.demo_data`` builds the practice and
calls these once its series exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bookings, consent, outbox, planner, wording_in_force
from service.alerts import raise_alert
from service.call_keys import CALL, QUESTION
from service.config import Settings
from service.domain.provider_errors import explain
from service.domain.vocabulary import (
    AlertKind,
    AppointmentStatus,
    Channel,
    Intent,
    MessageKind,
    MessageStatus,
)
from service.domain.wording import acknowledgement
from service.models import Appointment, Client, InboundMessage, OutboundMessage, User


def relief_pain(baseline: int, relief: int, day: int) -> int:
    """A score ``day`` days after a session: four points of relief that hold, wear off over
    the day before ``relief``, and are gone from then on (the demo's stand-in for a real
    client's curve)."""
    low = max(0, baseline - 4)
    if day >= relief:
        return baseline
    return (low + baseline) // 2 if day == relief - 1 else low


def deliver_history(session: Session, settings: Settings, admin: User, now: datetime) -> None:
    """Plan every text as if eight weeks ago, record those due by now as delivered, and the
    sessions that have ended as done."""
    appointments = list(
        session.scalars(select(Appointment).order_by(Appointment.client_id, Appointment.starts_at))
    )
    early = min(a.starts_at for a in appointments) - timedelta(days=2)
    planner.reconcile(session, settings, appointments, early)
    due = session.scalars(
        select(OutboundMessage.id).where(
            OutboundMessage.status == MessageStatus.PLANNED, OutboundMessage.send_at <= now
        )
    )
    outbox.record_delivered(session, list(due), now)
    for appointment in appointments:
        if appointment.ends_at <= now:
            bookings.change_appointment(
                session,
                settings,
                admin,
                appointment,
                now,
                status=AppointmentStatus.COMPLETED,
                via="demo",
            )


def answer(
    session: Session,
    settings: Settings,
    client: Client,
    asked: OutboundMessage,
    body: str,
    *,
    intent: str,
    pain: int | None = None,
) -> InboundMessage:
    """A reply to ``asked`` twenty minutes after it, with our acknowledgement."""
    at = (asked.sent_at or asked.send_at) + timedelta(minutes=20)
    # Keys pressed on a call are stored as the call's webhook stores them (``call_keys``).
    by_call = asked.channel == Channel.VOICE
    call_sid = f"CAdemo{asked.id:026d}"
    question = {"CallSid": call_sid, QUESTION: asked.kind, CALL: str(asked.id)}
    reply = InboundMessage(
        provider_sid=f"{call_sid}:{asked.kind}" if by_call else f"SMdemoin{asked.id:024d}",
        channel=Channel.VOICE if by_call else Channel.SMS,
        fields=question if by_call else {},
        from_phone=asked.to_phone,
        to_phone=settings.practice_phone or "",
        body=body,
        received_at=at,
        client_id=client.id,
        contact_id=asked.contact_id,
        intent=intent,
        pain_score=pain,
        answers_message_id=asked.id,
        appointment_id=asked.appointment_id,
        processed_at=at,
    )
    session.add(reply)
    in_force = wording_in_force.current(session)
    values = wording_in_force.values(settings)
    ack = acknowledgement(in_force, intent, client.language, values)
    session.flush()
    if ack and not by_call:  # a call answers aloud, not by text
        draft = outbox.Draft(
            idempotency_key=f"reply:{reply.provider_sid}",
            kind=MessageKind.REPLY,
            to_phone=asked.to_phone,
            body=ack[0],
            template_id=ack[1],
            send_at=at,
            client_id=client.id,
            contact_id=asked.contact_id,
            appointment_id=asked.appointment_id,
        )
        outbox.record_answered(session, draft, at)
    return reply


_DELIVERED_CHECKIN = (
    OutboundMessage.kind == MessageKind.CHECKIN,
    OutboundMessage.status == MessageStatus.DELIVERED,
)


def pain_answers(
    session: Session,
    settings: Settings,
    client: Client,
    pains: tuple[int, ...],
    *,
    keep_latest: bool = False,
) -> None:
    """Answer the first check-in after each past session with the next of ``pains``
    (``keep_latest``: all but the latest, left for the phone simulator to answer)."""
    checkins = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.client_id == client.id, *_DELIVERED_CHECKIN)
        .order_by(OutboundMessage.send_at)
    ).all()
    firsts: dict[int | None, OutboundMessage] = {}
    for message in checkins:
        firsts.setdefault(message.appointment_id, message)
    asked = list(firsts.values())[: -1 if keep_latest else None][-len(pains) :]
    for message, pain in zip(asked, pains[-len(asked) :], strict=True):
        reply = answer(session, settings, client, message, str(pain), intent=Intent.PAIN, pain=pain)
        if pain >= settings.pain_alert_threshold:
            raise_alert(
                session,
                AlertKind.PAIN,
                reply.received_at,
                client_id=client.id,
                phone=reply.from_phone,
                inbound_id=reply.id,
                detail=f"pain {pain}/10",
            )


def relief_answers(
    session: Session, settings: Settings, client: Client, baseline: int, relief: int
) -> None:
    """Answer every delivered check-in of a closely followed client along a relief curve
    that lasts ``relief`` days from ``baseline``."""
    zone = ZoneInfo(client.timezone)
    rows = session.execute(
        select(OutboundMessage, Appointment.starts_at)
        .join(Appointment, Appointment.id == OutboundMessage.appointment_id)
        .where(OutboundMessage.client_id == client.id, *_DELIVERED_CHECKIN)
        .order_by(OutboundMessage.send_at)
    ).all()
    for message, started in rows:
        sent = message.sent_at or message.send_at
        day = (sent.astimezone(zone).date() - started.astimezone(zone).date()).days
        pain = relief_pain(baseline, relief, day)
        answer(session, settings, client, message, str(pain), intent=Intent.PAIN, pain=pain)


def alerts(
    session: Session,
    settings: Settings,
    clients: dict[str, Client],
    tom: Client,
    users: dict[str, User],
    now: datetime,
) -> None:
    """The open and handled alerts a practice might have on a Tuesday morning."""
    sam, luis, priya = clients["Sam Lee"], clients["Luis Ortega"], clients["Priya Natarajan"]
    _reschedule_request(session, settings, sam)
    old = raise_alert(
        session,
        AlertKind.NOT_UNDERSTOOD,
        now - timedelta(days=9),
        client_id=sam.id,
        detail="ok see you",
    )
    old.handled_at, old.handled_by_id = now - timedelta(days=9, hours=-2), users["ana"].id
    raise_alert(
        session,
        AlertKind.NOT_UNDERSTOOD,
        now - timedelta(hours=5),
        client_id=luis.id,
        detail="Can I bring my own oil?",
    )
    stopped, invalid = priya.contacts[0].phone, tom.contacts[0].phone
    consent.opt_out(session, stopped, now - timedelta(days=2))
    raise_alert(
        session,
        AlertKind.OPT_OUT,
        now - timedelta(days=2),
        client_id=priya.id,
        phone=stopped,
        detail="asked to stop texts",
    )
    consent.mark_invalid(session, invalid, explain(21211), now)
    raise_alert(
        session,
        AlertKind.INVALID_NUMBER,
        now - timedelta(hours=1),
        client_id=tom.id,
        phone=invalid,
        detail=explain(21211),
    )
    _stranger(session, now - timedelta(hours=3))


def _reschedule_request(session: Session, settings: Settings, sam: Client) -> None:
    """Sam asked to move, answering the last text he got."""
    last = session.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.client_id == sam.id)
        .where(OutboundMessage.status == MessageStatus.DELIVERED)
        .order_by(OutboundMessage.send_at.desc())
        .limit(1)
    )
    if last is None:
        return
    reply = answer(session, settings, sam, last, "R can we do Thursday?", intent=Intent.RESCHEDULE)
    raise_alert(
        session,
        AlertKind.RESCHEDULE,
        reply.received_at,
        client_id=sam.id,
        phone=reply.from_phone,
        inbound_id=reply.id,
        detail="can we do Thursday?",
    )


def _stranger(session: Session, at: datetime) -> None:
    """A text from a number that is no client's."""
    stranger = InboundMessage(
        provider_sid="SMdemostranger",
        from_phone="+16175550199",
        body="Hi, is this the massage place?",
        received_at=at,
        intent=Intent.OTHER,
        processed_at=at,
    )
    session.add(stranger)
    session.flush()
    raise_alert(
        session,
        AlertKind.UNKNOWN_SENDER,
        at,
        phone=stranger.from_phone,
        inbound_id=stranger.id,
        detail="a text from a number that matches no client",
    )
