"""Clients and their contacts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from service import audit, consent, schedule
from service.access import client_for, visible_clients
from service.api.auth import current_user
from service.api.errors import ApiError, not_found
from service.api.inputs import MAX_ID, Fields, json_body
from service.api.serialize import client_json, contact_json, own_contact
from service.config import Settings, current_settings
from service.db import get_session, utcnow
from service.models import LANGUAGES, Client, Contact, User

bp = Blueprint("api_clients", __name__)

CLIENT_FIELDS = {"name", "phone", "timezone", "language", "therapist_id", "notes", "checkin_days"}
CONTACT_FIELDS = {"name", "phone", "relation", "reminders", "checkins"}


def _client_out(session: Session, client: Client) -> dict[str, Any]:
    return client_json(client, consent.numbers(session, (c.phone for c in client.contacts)))


def _therapist_id(session: Session, user: User, fields: Fields, default: int | None) -> int | None:
    """The therapist a client belongs to: only an admin may choose another one."""
    if not fields.has("therapist_id"):
        return default
    wanted = fields.integer("therapist_id", low=1, high=MAX_ID)
    if wanted is None:
        return default if not user.is_admin else None
    if not user.is_admin and wanted != user.id:
        fields.errors["therapist_id"] = "only an admin can assign another therapist"
        return default
    therapist = session.get(User, wanted)
    if therapist is None or not therapist.active:
        fields.errors["therapist_id"] = "no such active user"
        return default
    return wanted


@bp.post("/clients")
def create_client() -> tuple[dict[str, Any], int]:
    """Create a client; ``phone`` becomes the client's own contact."""
    settings, session, user = current_settings(), get_session(), current_user()
    fields = json_body(CLIENT_FIELDS)
    name = fields.text("name", required=True)
    phone = fields.phone("phone", settings.default_region)
    tz = fields.timezone("timezone") or settings.practice_timezone
    language = fields.choice("language", LANGUAGES, "en")
    notes = fields.text("notes", max_length=5000) or ""
    checkin_days = fields.checkin_days("checkin_days")
    therapist_id = _therapist_id(session, user, fields, None if user.is_admin else user.id)
    fields.done()
    client = Client(
        name=name,
        timezone=tz,
        language=language,
        notes=notes,
        therapist_id=therapist_id,
        checkin_days=checkin_days,
    )
    if phone:
        client.contacts.append(
            Contact(name=name or "", relation="self", phone=phone, reminders=True, checkins=True)
        )
    session.add(client)
    session.flush()
    audit.record(session, user, "create", "client", client.id)
    session.commit()
    return _client_out(session, client), 201


@bp.get("/clients")
def list_clients() -> dict[str, Any]:
    """The clients the caller may see."""
    session, user = get_session(), current_user()
    query = visible_clients(user).options(selectinload(Client.contacts))
    clients = session.scalars(query).all()
    phones = [c.phone for client in clients for c in client.contacts]
    known = consent.numbers(session, phones)
    audit.record(session, user, "list", "client", "*", clients=[c.id for c in clients])
    session.commit()
    return {"items": [client_json(client, known) for client in clients]}


def _visible_client(session: Session, client_id: int) -> Client:
    client = client_for(session, current_user(), client_id)
    if client is None:
        raise not_found("client")
    return client


@bp.get("/clients/<int:client_id>")
def get_client(client_id: int) -> dict[str, Any]:
    """One client, audited as a view of the record."""
    session = get_session()
    client = _visible_client(session, client_id)
    audit.record(session, current_user(), "view", "client", client.id, via="api")
    session.commit()
    return _client_out(session, client)


@bp.patch("/clients/<int:client_id>")
def update_client(client_id: int) -> dict[str, Any]:
    """Change a client; a new time zone or language re-plans the texts not yet sent."""
    settings, session, user = current_settings(), get_session(), current_user()
    client = _visible_client(session, client_id)
    fields = json_body(CLIENT_FIELDS)
    changes: dict[str, Any] = {}
    if fields.has("name"):
        changes["name"] = fields.text("name", required=True)
    if fields.has("timezone"):
        changes["timezone"] = fields.timezone("timezone") or client.timezone
    if fields.has("language"):
        changes["language"] = fields.choice("language", LANGUAGES, client.language)
    if fields.has("notes"):
        changes["notes"] = fields.text("notes", max_length=5000) or ""
    if fields.has("checkin_days"):
        changes["checkin_days"] = fields.checkin_days("checkin_days")
    therapist_id = _therapist_id(session, user, fields, client.therapist_id)
    phone = fields.phone("phone", settings.default_region) if fields.has("phone") else None
    fields.done()
    for key, value in changes.items():
        setattr(client, key, value)
    client.therapist_id = therapist_id
    if phone is not None:
        _set_own_phone(client, phone)
    _commit_contacts(session, user, client, "update", list(changes) + (["phone"] if phone else []))
    schedule.replan_client(session, settings, client.id, utcnow())
    session.commit()
    return _client_out(session, client)


def _set_own_phone(client: Client, phone: str) -> None:
    own = own_contact(client)
    if own is None:
        client.contacts.append(
            Contact(name=client.name, relation="self", phone=phone, reminders=True, checkins=True)
        )
    else:
        own.phone = phone


def _commit_contacts(
    session: Session, user: User, client: Client, action: str, what: list[str]
) -> None:
    """Flush contact changes, turning a repeated number into a 409 with nothing stored."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ApiError(
            409,
            "conflict",
            "this client already has a contact with that phone number",
            {"phone": "already a contact of this client"},
        ) from None
    audit.record(session, user, action, "client", client.id, fields=sorted(what))


def _contact_fields(settings: Settings, fields: Fields, contact: Contact | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if contact is None or fields.has("name"):
        values["name"] = fields.text("name", required=True)
    if contact is None or fields.has("phone"):
        values["phone"] = fields.phone("phone", settings.default_region, required=True)
    if contact is None or fields.has("relation"):
        values["relation"] = fields.text("relation", max_length=40) or "caregiver"
    if contact is None or fields.has("reminders"):
        values["reminders"] = fields.boolean("reminders", True)
    if contact is None or fields.has("checkins"):
        values["checkins"] = fields.boolean("checkins", False)
    fields.done()
    return values


@bp.post("/clients/<int:client_id>/contacts")
def create_contact(client_id: int) -> tuple[dict[str, Any], int]:
    """Add a phone that hears about the client (a caregiver, by default reminders only)."""
    settings, session, user = current_settings(), get_session(), current_user()
    client = _visible_client(session, client_id)
    values = _contact_fields(settings, json_body(CONTACT_FIELDS), None)
    contact = Contact(client_id=client.id, **values)
    session.add(contact)
    _commit_contacts(session, user, client, "add_contact", sorted(values))
    schedule.replan_client(session, settings, client.id, utcnow())
    session.commit()
    return contact_json(contact, consent.numbers(session, [contact.phone])), 201


def _visible_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or client_for(session, current_user(), contact.client_id) is None:
        raise not_found("contact")
    return contact


@bp.patch("/contacts/<int:contact_id>")
def update_contact(contact_id: int) -> dict[str, Any]:
    """Change a contact; the plan follows."""
    settings, session, user = current_settings(), get_session(), current_user()
    contact = _visible_contact(session, contact_id)
    values = _contact_fields(settings, json_body(CONTACT_FIELDS), contact)
    for key, value in values.items():
        setattr(contact, key, value)
    _commit_contacts(session, user, contact.client, "update_contact", sorted(values))
    schedule.replan_client(session, settings, contact.client_id, utcnow())
    session.commit()
    return contact_json(contact, consent.numbers(session, [contact.phone]))


@bp.delete("/contacts/<int:contact_id>")
def delete_contact(contact_id: int) -> tuple[str, int]:
    """Remove a contact; texts still planned to it are cancelled."""
    settings, session, user = current_settings(), get_session(), current_user()
    contact = _visible_contact(session, contact_id)
    client_id = contact.client_id
    contact.client.contacts.remove(contact)  # delete-orphan: the row goes with it
    session.flush()
    audit.record(session, user, "remove_contact", "client", client_id, contact_id=contact_id)
    schedule.replan_client(session, settings, client_id, utcnow())
    session.commit()
    return "", 204
