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

from service import accounts, bookings, demo_history, roster, signals
from service.config import Settings, current_settings
from service.db import get_db, utcnow
from service.domain import recurrence
from service.domain.vocabulary import AppointmentStatus, Channel
from service.models import Client, User

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
    # Clients followed closely: every check-in answered along a relief curve that lasts
    # ``relief`` days (see ``demo_history.relief_pain``). The practice's automatic check-ins
    # (the day after, mid-way, the day before the next session) sample it.
    relief: int = 0
    caregiver: tuple[str, str, str] | None = None  # name, relation, phone
    # Cannot type: reminded and checked in by phone calls, answered with the keypad (the
    # latest check-in call is left for the phone simulator to answer).
    calls: bool = False


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
        relief=2,
        caregiver=("Anna Fischer", "parent", "+16175550172"),
    ),
    Person("Elena Petrova", "+16175550181", "ana", 3, 11, (7,), relief=6),
    Person("James Carter", "+16175550191", "ben", 0, 14, (6,), relief=7),
    Person("Aisha Rahman", "+16175550201", "ana", 4, 10, (8,), relief=3),
    Person("Carlos Mendes", "+16175550211", "ben", 2, 9, (7,), "es", relief=6),
    Person(
        "Hannah Weiss",
        "+16175550221",
        "ben",
        1,
        12,
        (6,),
        relief=5,
        caregiver=("Paul Weiss", "spouse", "+16175550222"),
    ),
    Person("Ruth Alvarez", "+16175550231", "ana", 2, 11, (6, 5, 5, 4), calls=True),
)


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
        phone=person.phone,
    )
    client = roster.create_client(session, admin, values, via="demo")
    own = client.own_contact
    if person.calls and own is not None:
        calls = {"channel": Channel.VOICE, "voice_consent": True}
        roster.update_contact(session, settings, admin, own, calls, now, via="demo")
    if person.caregiver is not None:
        name, relation, phone = person.caregiver
        caregiver = {"name": name, "relation": relation, "phone": phone, "reminders": True}
        roster.add_contact(session, settings, admin, client, caregiver, now, via="demo")
    return client


def _free_slot(now: datetime, zone: ZoneInfo) -> datetime:
    """Three days on at 17:30 local: after every demo therapist's weekly sessions end, so
    the one-off booking never overlaps one, whatever the hour the demo is loaded at."""
    day = now.astimezone(zone).date() + timedelta(days=3)
    return recurrence.to_utc(datetime.combine(day, time(17, 30)), zone)


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
        starts_at=_free_slot(now, ZoneInfo(tom.timezone)),
        duration=60,
        status=AppointmentStatus.SCHEDULED,
        now=now,
        via="demo",
    )
    demo_history.deliver_history(session, settings, admin, now)
    for person in PEOPLE:
        if person.calls:
            demo_history.pain_answers(
                session, settings, clients[person.name], person.pains, keep_latest=True
            )
        elif person.relief:
            demo_history.relief_answers(
                session, settings, clients[person.name], person.pains[0], person.relief
            )
        else:
            demo_history.pain_answers(session, settings, clients[person.name], person.pains)
    demo_history.alerts(session, settings, clients, tom, users, now)
    signals.run_signals(session, settings, now)  # gap and lapsing items, as the clock would
    return users


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
