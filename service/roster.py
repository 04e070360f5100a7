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

from sqlalchemy.orm import Session

from service import audit, call_consent, planner
from service.config import Settings
from service.db import lock
from service.domain.vocabulary import ChannelPreference
from service.feed_rereads import read_again_all
from service.models import (
    SELF,
    Appointment,
    AppointmentSeries,
    Client,
    Contact,
    User,
)
from service.outbox.channels import cancel_follow_up_calls_of
from service.phone_book import PhoneBook as PhoneBook  # checks read it, importers make it
from service.shared_phones import SharedPhone as SharedPhone
from service.shared_phones import check_shared as check_shared
from service.shared_phones import shared_phone as _shared
from service.shared_phones import shared_warning as shared_warning

# What a client row holds itself; "phone" (its own contact) and "therapist_id" are apart.
CLIENT_FIELDS = ("name", "timezone", "language", "notes", "checkin_days", "calendar_name")
CONTACT_FIELDS = ("name", "relation", "phone", "reminders", "checkins", "channel")
# Channels that call the contact: set only with the agreement to calls (``call_consent``).
CALL_CHANNELS = (ChannelPreference.VOICE, ChannelPreference.SMS_THEN_VOICE)


class CallsNotAgreed(Exception):
    """A channel that calls, for a number whose owner's agreement to calls is not recorded."""

    def __init__(self) -> None:
        super().__init__(
            "calls need the agreement of the client or caregiver: record it, or keep texts"
        )


class PhoneTaken(Exception):
    """The client already has a contact with that number."""

    def __init__(self) -> None:
        super().__init__("this client already has a contact with that phone number")


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


def _check_calls(
    session: Session, channel: str, phone: str, agreed: bool | None, now: datetime
) -> None:
    """Raise ``CallsNotAgreed`` when ``channel`` calls ``phone`` and its owner's agreement is
    neither given now (``agreed`` True) nor on record (not withdrawn, ``agreed`` False).
    The record is read under a shared lock of the number: a withdrawal waits for this
    transaction (and then finds the contact), or this one sees it."""
    if channel not in CALL_CHANNELS or agreed:
        return
    if agreed is False or not call_consent.agreed(
        call_consent.lock_number(session, phone, now, exclusive=False)
    ):
        raise CallsNotAgreed


def _record_calls(
    session: Session,
    settings: Settings,
    actor: User | None,
    phone: str,
    agreed: bool | None,
    now: datetime,
    via: str,
) -> None:
    """Record (True) or withdraw (False) the number's agreement to calls; None: leave it.
    A withdrawal gives the number's contacts on ``voice`` texts (``call_consent``)."""
    if agreed is True:
        call_consent.record_consent(session, actor, phone, now, via=via)
    elif agreed is False:
        call_consent.withdraw_consent(session, actor, phone, now, via=via, settings=settings)


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
    ``confirm_shared``; the audit entry then says ``shared``. ``voice_consent`` True in
    ``values`` records the agreement to calls now, by ``actor``; False withdraws it; a
    ``channel`` that calls without it raises ``CallsNotAgreed``."""
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
        agreed = values.get("voice_consent")
        _check_calls(session, values.get("channel", "sms"), values["phone"], agreed, now)
        shared = _shared(session, actor, client, values["phone"], confirm_shared, book)
        _record_calls(session, settings, actor, values["phone"], agreed, now, via)
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
    """Change a (locked) contact's name, number, relation, channel or which texts it gets,
    and its number's agreement to calls (``voice_consent``), as in ``add_contact``; a new
    number another client has needs ``confirm_shared``, as in ``add_contact``."""
    client, phone = contact.client, changes.get("phone", contact.phone)
    agreed = changes.get("voice_consent")
    shared = False
    if {"channel", "phone", "voice_consent"} & set(changes):
        _check_calls(session, changes.get("channel", contact.channel), phone, agreed, now)
    if phone != contact.phone:
        _check_phone(client, phone, contact)
        shared = _shared(session, actor, client, phone, confirm_shared)
    changed = [k for k in CONTACT_FIELDS if k in changes and getattr(contact, k) != changes[k]]
    for key in changed:
        setattr(contact, key, changes[key])
    if "channel" in changed:  # its calls that follow a message, no re-plan reaches
        cancel_follow_up_calls_of(session, contact.id, contact.channel, now)
    _record_calls(session, settings, actor, phone, agreed, now, via)  # after: its own channel set
    changed = sorted(changed + (["voice_consent"] if agreed is not None else []))
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
