"""The practice's roster: clients, their contacts and their therapist, written one way.

The API, the dashboard and the demo change clients and contacts only through these
functions. Each takes rows its caller loaded with ``db.lock`` (the client before its
contact, as ``lock_contact`` does), so two requests changing the same client or contact
take turns, and one that finds the row gone answers "not found" rather than failing. Each
checks what only the database can tell (a number the client already has, a therapist who
may take the client), writes, re-plans the client's texts at once, and records one audit
entry. Nothing here commits: the caller ends the unit of work.

Audit entries about a client use one set of keys, whoever made the change: ``fields`` (the
names changed), ``contact_id``, ``before``/``after`` (a reassignment), ``shared`` (a number
added after the warning that it is another client's too) and ``via`` (``api``,
``dashboard``, ``demo``...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit, planner
from service.config import Settings
from service.db import lock
from service.feed_rereads import read_again_all
from service.models import SELF, Appointment, AppointmentSeries, Client, Contact, User
from service.phone_book import PhoneBook as PhoneBook  # checks read it, importers make it

# What a client row holds itself; "phone" (its own contact) and "therapist_id" are apart.
CLIENT_FIELDS = ("name", "timezone", "language", "notes", "checkin_days", "calendar_name")
CONTACT_FIELDS = ("name", "relation", "phone", "reminders", "checkins")


class PhoneTaken(Exception):
    """The client already has a contact with that number."""

    def __init__(self) -> None:
        super().__init__("this client already has a contact with that phone number")


class SharedPhone(Exception):
    """The number already gets texts about another client: adding it needs a confirmation.

    ``warning`` says so in words fit for ``actor``: another client is named only when the
    actor may see that client (their own, or any for an admin)."""

    def __init__(self, warning: str) -> None:
        super().__init__(warning)
        self.warning = warning


def shared_warning(named: Sequence[str], unnamed: int) -> str:
    """The warning for a number already another client's: ``named`` the clients the user
    may see, ``unnamed`` how many others (another therapist's, never named)."""
    others = list(named)
    if unnamed:
        one = "client of the practice"
        others.append(
            f"{'another' if not named else '1 other'} {one}"
            if unnamed == 1
            else f"{unnamed} other {one.replace('client', 'clients')}"
        )
    whom = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
    return (
        f"This number is shared: it already gets texts about {whom}. Added here, it will "
        "also get this client's texts, each naming its client."
    )


def _others(
    session: Session, client: Client, phone: str, book: PhoneBook | None
) -> list[tuple[str, int | None]]:
    """The (name, therapist id) of each other client with a contact of this number, by name."""
    if book is not None:
        found = book.clients.get(phone, {})
        return [found[i] for i in sorted(found, key=lambda i: (found[i][0], i)) if i != client.id]
    others = session.scalars(
        select(Client)
        .join(Contact, Contact.client_id == Client.id)
        .where(Contact.phone == phone, Client.id != client.id)
        .distinct()
        .order_by(Client.name, Client.id)
    ).all()
    return [(c.name, c.therapist_id) for c in others]


def check_shared(
    session: Session, actor: User | None, client: Client, phone: str, book: PhoneBook | None
) -> None:
    """Raise ``SharedPhone`` when another client has a contact with this number (looked up
    in ``book`` when given)."""
    others = _others(session, client, phone, book)
    if not others:
        return
    seen = [
        name
        for name, therapist_id in others
        if actor is not None and (actor.is_admin or therapist_id == actor.id)
    ]
    raise SharedPhone(shared_warning(seen, len(others) - len(seen)))


def _shared(
    session: Session,
    actor: User | None,
    client: Client,
    phone: str,
    confirmed: bool,
    book: PhoneBook | None = None,
) -> bool:
    """True when the number is another client's too and that was confirmed; raises
    ``SharedPhone`` when it is and was not."""
    try:
        check_shared(session, actor, client, phone, book)
    except SharedPhone:
        if not confirmed:
            raise
        return True
    return False


Owned = TypeVar("Owned", Contact, Appointment, AppointmentSeries)


def lock_with_client(session: Session, model: type[Owned], ident: int) -> Owned | None:
    """A row of a client's record and its client, both locked, the client first as every
    writer locks them (so two writers never wait on each other crosswise); None when
    either is gone."""
    found = session.get(model, ident)
    if found is None or lock(session, Client, found.client_id) is None:
        return None
    return lock(session, model, ident)


def lock_contact(session: Session, contact_id: int) -> Contact | None:
    """A contact and its client, both locked, or None."""
    return lock_with_client(session, Contact, contact_id)


def therapist_refusal(session: Session, actor: User, wanted: int | None) -> str | None:
    """Why ``actor`` may not give a client to user ``wanted`` (None: nobody), or None."""
    if not actor.is_admin:
        return None if wanted == actor.id else "only an admin can assign another therapist"
    if wanted is None:
        return None
    therapist = session.get(User, wanted)
    if therapist is None or not therapist.active:
        return "no such active user"
    return None


@dataclass(frozen=True)
class NewClient:
    """A client as entered: ``phone``, when given, becomes the client's own contact."""

    name: str
    timezone: str
    language: str
    therapist_id: int | None
    notes: str = ""
    checkin_days: str | None = None
    phone: str | None = None
    calendar_name: str | None = None  # None: the default (``calendar_names.default_name``)


def create_client(
    session: Session,
    actor: User | None,
    values: NewClient,
    *,
    via: str,
    confirm_shared: bool = False,
) -> Client:
    """Add a client (and its own contact); it has no appointments yet, so nothing to plan,
    but its therapist's feeds are read again in full (its calendar name may name events).
    A phone another client's texts already go to raises ``SharedPhone`` unless confirmed."""
    return create_clients(session, actor, [values], via=via, confirm_shared=confirm_shared)[0]


def create_clients(
    session: Session,
    actor: User | None,
    many: Sequence[NewClient],
    *,
    via: str,
    confirm_shared: bool = False,
    book: PhoneBook | None = None,
) -> list[Client]:
    """Add clients as ``create_client`` does, written together (one flush, for an import),
    their numbers looked up in ``book`` when given (and noted there once written). The
    numbers of ``many`` must not be each other's: they are checked against what was
    written before."""
    made = []
    for values in many:
        client = Client(
            name=values.name,
            timezone=values.timezone,
            language=values.language,
            notes=values.notes,
            checkin_days=values.checkin_days,
            therapist_id=values.therapist_id,
            calendar_name=values.calendar_name,
        )
        shared = False
        if values.phone:
            shared = _shared(session, actor, client, values.phone, confirm_shared, book)
            client.contacts.append(_own_contact(values.name, values.phone))
        session.add(client)
        made.append((client, shared))
    session.flush()
    for client, shared in made:
        audit.record(
            session,
            actor,
            "create",
            "client",
            client.id,
            via=via,
            **({"shared": True} if shared else {}),
        )
        if book is not None and client.contacts:
            book.note(client, client.contacts[0].phone)
    read_again_all(session, [client.therapist_id for client, _ in made])  # once each
    return [client for client, _ in made]


def _own_contact(name: str, phone: str) -> Contact:
    return Contact(name=name, relation=SELF, phone=phone, reminders=True, checkins=True)


def _check_phone(client: Client, phone: str, contact: Contact | None) -> None:
    if any(c.phone == phone and c is not contact for c in client.contacts):
        raise PhoneTaken


def update_client(
    session: Session,
    settings: Settings,
    actor: User | None,
    client: Client,
    changes: Mapping[str, Any],
    now: datetime,
    *,
    via: str,
    confirm_shared: bool = False,
) -> list[str]:
    """Change a (locked) client: fields of ``CLIENT_FIELDS``, ``phone`` (its own contact's
    number, shared with another client only once confirmed) and ``therapist_id``; re-plan
    its texts; a new calendar name, name or therapist has the feeds of the therapists
    concerned read again in full at the next tick. The names that changed."""
    own, therapists = client.own_contact, [client.therapist_id, changes.get("therapist_id")]
    phone = changes.get("phone")
    if phone is not None and (own is None or own.phone != phone):
        _check_phone(client, phone, own)
        _shared(session, actor, client, phone, confirm_shared)
    changed = sorted(
        key
        for key, value in changes.items()
        if key in (*CLIENT_FIELDS, "therapist_id") and getattr(client, key) != value
    )
    for key in changed:
        setattr(client, key, changes[key])
    if phone is not None and (own is None or own.phone != phone):
        changed.append("phone")
        if own is None:
            client.contacts.append(_own_contact(client.name, phone))
        else:
            own.phone = phone
    audit.record(session, actor, "update", "client", client.id, fields=changed, via=via)
    if {"calendar_name", "name", "therapist_id"} & set(changed):
        read_again_all(session, therapists)
    planner.replan_client(session, settings, client.id, now)
    return changed


def assign_therapist(
    session: Session, actor: User | None, client: Client, therapist_id: int | None, *, via: str
) -> None:
    """Give a (locked) client to another therapist (refusals are ``therapist_refusal``'s);
    both therapists' feeds are read again in full at the next tick."""
    before, client.therapist_id = client.therapist_id, therapist_id
    read_again_all(session, [before, therapist_id])
    audit.record(
        session, actor, "reassign", "client", client.id, before=before, after=therapist_id, via=via
    )


def add_contact(
    session: Session,
    settings: Settings,
    actor: User | None,
    client: Client,
    values: Mapping[str, Any],
    now: datetime,
    *,
    via: str,
    confirm_shared: bool = False,
) -> Contact:
    """Add a phone that hears about a (locked) client; the plan includes it at once.

    A number another client's texts already go to raises ``SharedPhone`` unless
    ``confirm_shared``; the audit entry then says ``shared``."""
    added = add_contacts(
        session, settings, actor, [(client, values)], now, via=via, confirm_shared=confirm_shared
    )
    return added[0]


def add_contacts(
    session: Session,
    settings: Settings,
    actor: User | None,
    adding: Sequence[tuple[Client, Mapping[str, Any]]],
    now: datetime,
    *,
    via: str,
    confirm_shared: bool = False,
    book: PhoneBook | None = None,
) -> list[Contact]:
    """Add contacts as ``add_contact`` does, written together (one flush, for an import),
    their numbers looked up in ``book`` when given (and noted there once written). The
    numbers of ``adding`` must not be each other's: they are checked against what was
    written before."""
    made = []
    for client, values in adding:
        _check_phone(client, values["phone"], None)
        shared = _shared(session, actor, client, values["phone"], confirm_shared, book)
        contact = Contact(**{k: values[k] for k in CONTACT_FIELDS if k in values})
        client.contacts.append(contact)
        made.append((client, sorted(values), contact, shared))
    session.flush()
    for client, fields, contact, shared in made:
        extra = {"contact_id": contact.id, "fields": fields, "via": via}
        if shared:
            extra["shared"] = True
        audit.record(session, actor, "add_contact", "client", client.id, **extra)
        if book is not None:
            book.note(client, contact.phone)
        planner.replan_client(session, settings, client.id, now)
    return [contact for _, _, contact, _ in made]


def update_contact(
    session: Session,
    settings: Settings,
    actor: User | None,
    contact: Contact,
    changes: Mapping[str, Any],
    now: datetime,
    *,
    via: str,
    confirm_shared: bool = False,
) -> list[str]:
    """Change a (locked) contact's name, number, relation or which texts it gets; a new
    number another client has needs ``confirm_shared``, as in ``add_contact``."""
    client = contact.client
    shared = False
    if "phone" in changes and changes["phone"] != contact.phone:
        _check_phone(client, changes["phone"], contact)
        shared = _shared(session, actor, client, changes["phone"], confirm_shared)
    changed = sorted(k for k, v in changes.items() if getattr(contact, k) != v)
    for key in changed:
        setattr(contact, key, changes[key])
    audit.record(
        session,
        actor,
        "update_contact",
        "client",
        client.id,
        contact_id=contact.id,
        fields=changed,
        via=via,
        **({"shared": True} if shared else {}),
    )
    planner.replan_client(session, settings, client.id, now)
    return changed


def remove_contact(
    session: Session,
    settings: Settings,
    actor: User | None,
    contact: Contact,
    now: datetime,
    *,
    via: str,
) -> None:
    """Remove a (locked) contact; the re-plan cancels the texts still planned to it."""
    client_id, contact_id = contact.client_id, contact.id
    contact.client.contacts.remove(contact)  # delete-orphan: the row goes with it
    session.flush()
    audit.record(
        session, actor, "remove_contact", "client", client_id, contact_id=contact_id, via=via
    )
    planner.replan_client(session, settings, client_id, now)
