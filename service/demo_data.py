"""Demo data: a small practice with two therapists, eight weeks of history and open alerts.

Clients, contacts, series and appointments are written through the same functions the API
and the dashboard use (``roster``, ``bookings``), as if the series had been entered eight
weeks ago; texts are planned by the real planner, and those due by now are recorded as
delivered and answered. ``flask --app service demo-data`` loads it into a development
database that has no accounts yet; ``touchbase-demo`` loads it into its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import accounts, bookings, consent, outbox, planner, roster, signals
from service.alerts import raise_alert
from service.config import Settings, current_settings
from service.db import get_db, utcnow
from service.domain import recurrence, texts
from service.domain.vocabulary import (
    AlertKind,
    AppointmentStatus,
    Intent,
    MessageKind,
    MessageStatus,
)
from service.models import Appointment, Client, InboundMessage, OutboundMessage, User

PASSWORD = "demo-password"
ADMIN_EMAIL = "admin@touchbase.demo"
WEEKS = 8


@dataclass(frozen=True)
class Person:
    """One demo client: who, whose, which weekday and hour, and the pain answers given."""

    name: str
    phone: str
    therapist: str
    weekday: int
    hour: int
    pains: tuple[int, ...]
    language: str = "en"
    interval: int = 1
    # Clients followed closely: check-ins on these days after each session, answered
    # every time along a relief curve that lasts ``relief`` days (see ``relief_pain``).
    checkin_days: str | None = None
    relief: int = 0
    caregiver: tuple[str, str, str] | None = None  # name, relation, phone


PEOPLE = (
    Person("Maria Lopez", "+16175550111", "ana", 0, 10, (6, 6, 5, 5, 4, 4, 3, 9), "es"),
    Person("Sam Lee", "+16175550123", "ana", 2, 15, (7, 6, 6, 5, 4, 4, 3, 3)),
    Person("Priya Natarajan", "+16175550131", "ana", 3, 9, (4, 4, 3)),
    Person("Grace Kim", "+16175550151", "ben", 1, 11, (5, 4, 5, 3), interval=2),
    Person("Luis Ortega", "+16175550161", "ben", 4, 13, (8, 7, 7, 6, 6, 5, 5, 4)),
    Person(
        "Noah Fischer",
        "+16175550171",
        "ana",
        1,
        16,
        (8,),
        checkin_days="1,2,3,5",
        relief=2,
        caregiver=("Anna Fischer", "parent", "+16175550172"),
    ),
    Person("Elena Petrova", "+16175550181", "ana", 3, 11, (7,), checkin_days="1,3,5,6", relief=6),
    Person("James Carter", "+16175550191", "ben", 0, 14, (6,), checkin_days="1,3,5,6", relief=7),
    Person("Aisha Rahman", "+16175550201", "ana", 4, 10, (8,), checkin_days="1,2,4,5", relief=3),
    Person(
        "Carlos Mendes", "+16175550211", "ben", 2, 9, (7,), "es", checkin_days="1,3,5,6", relief=6
    ),
    Person(
        "Hannah Weiss",
        "+16175550221",
        "ben",
        1,
        12,
        (6,),
        checkin_days="2,4,5,6",
        relief=5,
        caregiver=("Paul Weiss", "spouse", "+16175550222"),
    ),
)


def relief_pain(baseline: int, relief: int, day: int) -> int:
    """A score ``day`` days after a session: four points of relief that hold, wear off over
    the day before ``relief``, and are gone from then on (the demo's stand-in for a real
    client's curve)."""
    low = max(0, baseline - 4)
    if day >= relief:
        return baseline
    return (low + baseline) // 2 if day == relief - 1 else low


def _users(session: Session, settings: Settings) -> dict[str, User]:
    """The demo accounts: an admin and two therapists, all with the demo password."""
    return {
        "admin": accounts.create_user(
            session, settings, ADMIN_EMAIL, "Avery Admin", PASSWORD, admin=True
        ),
        "ana": accounts.create_user(session, settings, "ana@touchbase.demo", "Ana Ruiz", PASSWORD),
        "ben": accounts.create_user(
            session, settings, "ben@touchbase.demo", "Ben Okafor", PASSWORD
        ),
    }


def _series(
    session: Session,
    settings: Settings,
    admin: User,
    client: Client,
    person: Person,
    now: datetime,
) -> None:
    """A series entered a week before its first session, ``WEEKS`` ago, on the person's
    weekday; its occurrences filled in up to the horizon."""
    zone = ZoneInfo(client.timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(weeks=WEEKS)
    first += timedelta(days=(person.weekday - first.weekday()) % 7)
    starts_local = datetime.combine(first, time(person.hour))
    begins = recurrence.to_utc(starts_local, zone)
    rule = "FREQ=WEEKLY" + (f";INTERVAL={person.interval}" if person.interval > 1 else "")
    bookings.start_series(
        session,
        settings,
        admin,
        client,
        starts_local=starts_local,
        rrule=rule,
        duration=60,
        ends_at=None,
        now=begins - timedelta(days=7),
        via="demo",
    )
    bookings.materialize_range(
        session, settings, [client.id], begins, now + timedelta(days=14), now
    )


def _deliver_history(session: Session, settings: Settings, admin: User, now: datetime) -> None:
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
    outbox.record_delivered(session, list(due))
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


def _answer(
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
    reply = InboundMessage(
        provider_sid=f"SMdemoin{asked.id:024d}",
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
    ack = texts.ack(client.language, intent, settings.practice_name, settings.practice_phone or "")
    session.flush()
    if ack:
        draft = outbox.Draft(
            idempotency_key=f"reply:{reply.provider_sid}",
            kind=MessageKind.REPLY,
            to_phone=asked.to_phone,
            body=ack,
            send_at=at,
            client_id=client.id,
            contact_id=asked.contact_id,
            appointment_id=asked.appointment_id,
        )
        outbox.record_answered(session, draft, at)
    return reply


def _pain_answers(
    session: Session, settings: Settings, client: Client, person: Person, now: datetime
) -> None:
    """Answer the first check-in after each past session with the person's next pain score."""
    checkins = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.client_id == client.id,
            OutboundMessage.kind == MessageKind.CHECKIN,
            OutboundMessage.status == MessageStatus.DELIVERED,
        )
        .order_by(OutboundMessage.send_at)
    ).all()
    firsts: dict[int | None, OutboundMessage] = {}
    for message in checkins:
        firsts.setdefault(message.appointment_id, message)
    asked = list(firsts.values())[-len(person.pains) :]
    for message, pain in zip(asked, person.pains[-len(asked) :], strict=True):
        reply = _answer(
            session, settings, client, message, str(pain), intent=Intent.PAIN, pain=pain
        )
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


def _client(
    session: Session,
    settings: Settings,
    admin: User,
    therapist: User,
    person: Person,
    now: datetime,
) -> Client:
    """One demo client with its own phone (and a caregiver's), through the roster."""
    values = roster.NewClient(
        name=person.name,
        timezone=settings.practice_timezone,
        language=person.language,
        therapist_id=therapist.id,
        checkin_days=person.checkin_days,
        phone=person.phone,
    )
    client = roster.create_client(session, admin, values, via="demo")
    if person.caregiver is not None:
        name, relation, phone = person.caregiver
        caregiver = {"name": name, "relation": relation, "phone": phone, "reminders": True}
        roster.add_contact(session, settings, admin, client, caregiver, now, via="demo")
    return client


def load(session: Session, settings: Settings, now: datetime) -> dict[str, User]:
    """Add the demo practice to an empty database (not committed); the accounts made."""
    users = _users(session, settings)
    admin = users["admin"]
    clients: dict[str, Client] = {}
    for person in PEOPLE:
        client = _client(session, settings, admin, users[person.therapist], person, now)
        clients[person.name] = client
        _series(session, settings, admin, client, person, now)
    rosa = {"name": "Rosa Lopez", "relation": "parent", "phone": "+16175550112", "checkins": False}
    roster.add_contact(session, settings, admin, clients["Maria Lopez"], rosa, now, via="demo")
    tom = roster.create_client(
        session,
        admin,
        roster.NewClient(
            name="Tom Becker",
            timezone=settings.practice_timezone,
            language="en",
            therapist_id=users["ana"].id,
            phone="+16175550141",
        ),
        via="demo",
    )
    own = tom.own_contact
    assert own is not None
    roster.update_contact(session, settings, admin, own, {"checkins": False}, now, via="demo")
    bookings.book_appointment(
        session,
        settings,
        admin,
        tom,
        starts_at=now + timedelta(days=3, hours=2),
        duration=60,
        status=AppointmentStatus.SCHEDULED,
        now=now,
        via="demo",
    )
    _deliver_history(session, settings, admin, now)
    for person in PEOPLE:
        if person.relief:
            _relief_answers(session, settings, clients[person.name], person)
        else:
            _pain_answers(session, settings, clients[person.name], person, now)
    _alerts(session, settings, clients, tom, users, now)
    signals.run_signals(session, settings, now)  # gap and lapsing items, as the clock would
    return users


def _relief_answers(session: Session, settings: Settings, client: Client, person: Person) -> None:
    """Answer every delivered check-in of a closely followed client along their curve."""
    zone = ZoneInfo(client.timezone)
    rows = session.execute(
        select(OutboundMessage, Appointment.starts_at)
        .join(Appointment, Appointment.id == OutboundMessage.appointment_id)
        .where(
            OutboundMessage.client_id == client.id,
            OutboundMessage.kind == MessageKind.CHECKIN,
            OutboundMessage.status == MessageStatus.DELIVERED,
        )
        .order_by(OutboundMessage.send_at)
    ).all()
    for message, started in rows:
        sent = message.sent_at or message.send_at
        day = (sent.astimezone(zone).date() - started.astimezone(zone).date()).days
        pain = relief_pain(person.pains[0], person.relief, day)
        _answer(session, settings, client, message, str(pain), intent=Intent.PAIN, pain=pain)


def _alerts(
    session: Session,
    settings: Settings,
    clients: dict[str, Client],
    tom: Client,
    users: dict[str, User],
    now: datetime,
) -> None:
    """The open and handled alerts a practice might have on a Tuesday morning."""
    sam, luis, priya = clients["Sam Lee"], clients["Luis Ortega"], clients["Priya Natarajan"]
    last = session.scalar(
        select(OutboundMessage)
        .where(
            OutboundMessage.client_id == sam.id, OutboundMessage.status == MessageStatus.DELIVERED
        )
        .order_by(OutboundMessage.send_at.desc())
        .limit(1)
    )
    if last is not None:
        reply = _answer(
            session, settings, sam, last, "R can we do Thursday?", intent=Intent.RESCHEDULE
        )
        raise_alert(
            session,
            AlertKind.RESCHEDULE,
            reply.received_at,
            client_id=sam.id,
            phone=reply.from_phone,
            inbound_id=reply.id,
            detail="can we do Thursday?",
        )
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
    consent.opt_out(session, priya.contacts[0].phone, now - timedelta(days=2))
    raise_alert(
        session,
        AlertKind.OPT_OUT,
        now - timedelta(days=2),
        client_id=priya.id,
        phone=priya.contacts[0].phone,
        detail="asked to stop texts",
    )
    consent.mark_invalid(session, tom.contacts[0].phone, "provider error 21211", now)
    raise_alert(
        session,
        AlertKind.INVALID_NUMBER,
        now - timedelta(hours=1),
        client_id=tom.id,
        phone=tom.contacts[0].phone,
        detail="provider error 21211",
    )
    stranger = InboundMessage(
        provider_sid="SMdemostranger",
        from_phone="+16175550199",
        body="Hi, is this the massage place?",
        received_at=now - timedelta(hours=3),
        intent=Intent.OTHER,
        processed_at=now - timedelta(hours=3),
    )
    session.add(stranger)
    session.flush()
    raise_alert(
        session,
        AlertKind.UNKNOWN_SENDER,
        stranger.received_at,
        phone=stranger.from_phone,
        inbound_id=stranger.id,
        detail="a text from a number that matches no client",
    )


@click.command("demo-data")
@with_appcontext
def demo_data_command() -> None:
    """Load a demo practice (accounts, clients, eight weeks of texts) into an empty database."""
    settings = current_settings()
    if settings.env == "production":
        raise click.ClickException("demo data is refused when TOUCHBASE_ENV=production")
    with get_db().session() as session:
        if accounts.find_user(session, ADMIN_EMAIL) is not None:
            raise click.ClickException("the demo data is already loaded")
        # Its accounts share a published password: never next to real ones.
        if session.scalar(select(func.count(User.id))):
            raise click.ClickException(
                "the database already has accounts; demo data goes only into an empty database"
            )
        users = load(session, settings, utcnow())
        accounts_made = [f"  {user.email} ({user.role})" for user in users.values()]
        session.commit()
    click.echo(f"demo practice loaded; every account's password is {PASSWORD!r}:")
    for line in accounts_made:
        click.echo(line)
