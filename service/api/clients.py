"""Clients and their contacts (written through ``service.roster``).

A contact's ``channel`` (``sms``, ``voice``, ``sms_then_voice``) calls only with the
agreement to calls of its number: ``voice_consent`` true records it now, by the token's user,
false withdraws it; a channel that calls without it is a 422 on ``channel``.

A client's ``calendar_name`` (the name calendar feeds are matched by) is a string of at
most 100 characters with a letter or digit; null, "" or blank resets it to the default
(first name and last initial, ``domain.calendar_names``). A new client given one is made
with it: one audit entry, ``create``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy.orm import Session, selectinload

from service import audit, consent, roster
from service.access import client_for, visible_clients
from service.api.errors import ApiError, not_found
from service.api.inputs import Fields, json_body
from service.api.serialize import client_json, contact_json
from service.api.tokens import current_user
from service.config import Settings, current_settings
from service.db import get_session, lock, utcnow
from service.domain.vocabulary import ChannelPreference, Language
from service.models import Client, Contact, User
from service.values import MAX_ID

bp = Blueprint("api_clients", __name__)

CLIENT_FIELDS = {
    "name",
    "phone",
    "timezone",
    "language",
    "therapist_id",
    "notes",
    "checkin_days",
    "calendar_name",
}
CONTACT_FIELDS = {"name", "phone", "relation", "reminders", "checkins", "channel", "voice_consent"}
VIA = "api"


def _client_out(session: Session, client: Client) -> dict[str, Any]:
    return client_json(client, consent.numbers(session, (c.phone for c in client.contacts)))


def _shared_phone(shared: roster.SharedPhone) -> ApiError:
    """The 409 for a number another client has: sent again with confirm_shared, it is added."""
    reason = "send true to use a number another client's texts already go to"
    return ApiError(409, "shared_phone", shared.warning, {"confirm_shared": reason})


def _calls_not_agreed(refused: roster.CallsNotAgreed) -> ApiError:
    """The 422 for a channel that calls a number whose owner did not agree to calls."""
    return ApiError(422, "invalid", str(refused), {"channel": "send voice_consent true with it"})


def _phone_taken() -> ApiError:
    return ApiError(
        409,
        "conflict",
        "this client already has a contact with that phone number",
        {"phone": "already a contact of this client"},
    )


def _therapist_id(session: Session, user: User, fields: Fields, default: int | None) -> int | None:
    """The therapist a client goes to: ``null`` unassigns it (admins only)."""
    if not fields.has("therapist_id"):
        return default
    wanted = fields.integer("therapist_id", low=1, high=MAX_ID, nullable=True)
    if "therapist_id" in fields.errors:
        return default
    refused = roster.therapist_refusal(session, user, wanted)
    if refused is not None:
        fields.errors["therapist_id"] = refused
        return default
    return wanted


@bp.post("/clients")
def create_client() -> tuple[dict[str, Any], int]:
    """Create a client; ``phone`` becomes the client's own contact."""
    settings, session, user = current_settings(), get_session(), current_user()
    fields = json_body(CLIENT_FIELDS | {"confirm_shared"})
    confirm = fields.boolean("confirm_shared", False)
    values = roster.NewClient(
        name=fields.text("name", required=True) or "",
        phone=fields.phone("phone", settings.default_region, nullable=True),
        timezone=fields.timezone("timezone") or settings.practice_timezone,
        language=fields.choice("language", tuple(Language)) or settings.default_language,
        notes=fields.text("notes", max_length=5000, empty=True) or "",
        checkin_days=fields.checkin_days("checkin_days"),
        therapist_id=_therapist_id(session, user, fields, None if user.is_admin else user.id),
        calendar_name=fields.calendar_name("calendar_name"),
    )
    fields.done()
    try:
        client = roster.create_client(session, user, values, via=VIA, confirm_shared=confirm)
    except roster.SharedPhone as shared:
        raise _shared_phone(shared) from None
    body = _client_out(session, client)
    session.commit()
    return body, 201


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


def _visible_client(session: Session, client_id: int, *, for_change: bool = False) -> Client:
    """The client when the caller may see it (locked for a change); 404 otherwise."""
    if client_for(session, current_user(), client_id) is None:
        raise not_found("client")
    client = lock(session, Client, client_id) if for_change else session.get(Client, client_id)
    if client is None:
        raise not_found("client")
    return client


@bp.get("/clients/<int:client_id>")
def get_client(client_id: int) -> dict[str, Any]:
    """One client, audited as a view of the record."""
    session = get_session()
    client = _visible_client(session, client_id)
    audit.record(session, current_user(), "view", "client", client.id, via=VIA)
    session.commit()
    return _client_out(session, client)


def _client_changes(settings: Settings, fields: Fields) -> dict[str, Any]:
    """The client fields the body carries, read (errors noted on ``fields``)."""
    changes: dict[str, Any] = {}
    if fields.has("name"):
        changes["name"] = fields.text("name")
    if fields.has("timezone"):
        changes["timezone"] = fields.timezone("timezone")
    if fields.has("language"):
        changes["language"] = fields.choice("language", tuple(Language))
    if fields.has("notes"):
        changes["notes"] = fields.text("notes", max_length=5000, empty=True)
    if fields.has("checkin_days"):
        changes["checkin_days"] = fields.checkin_days("checkin_days")
    if fields.has("phone"):
        changes["phone"] = fields.phone("phone", settings.default_region)
    if fields.has("calendar_name"):
        changes["calendar_name"] = fields.calendar_name("calendar_name")
    return changes


@bp.patch("/clients/<int:client_id>")
def update_client(client_id: int) -> dict[str, Any]:
    """Change a client; a new time zone or language re-plans the texts not yet sent."""
    settings, session, user = current_settings(), get_session(), current_user()
    client = _visible_client(session, client_id, for_change=True)
    fields = json_body(CLIENT_FIELDS | {"confirm_shared"})
    confirm = fields.boolean("confirm_shared", False)
    changes = _client_changes(settings, fields)
    therapist_id = _therapist_id(session, user, fields, client.therapist_id)
    fields.done()
    if therapist_id != client.therapist_id:
        changes["therapist_id"] = therapist_id
    try:
        roster.update_client(
            session, settings, user, client, changes, utcnow(), via=VIA, confirm_shared=confirm
        )
    except roster.PhoneTaken:
        raise _phone_taken() from None
    except roster.SharedPhone as shared:
        raise _shared_phone(shared) from None
    body = _client_out(session, client)
    session.commit()
    return body


def _contact_fields(settings: Settings, fields: Fields, contact: Contact | None) -> dict[str, Any]:
    new = contact is None
    values: dict[str, Any] = {}
    if new or fields.has("name"):
        values["name"] = fields.text("name", required=True)
    if new or fields.has("phone"):
        values["phone"] = fields.phone("phone", settings.default_region, required=True)
    if new or fields.has("relation"):
        values["relation"] = fields.text("relation", max_length=40) or "caregiver"
    if new or fields.has("reminders"):
        values["reminders"] = fields.boolean("reminders", True)
    if new or fields.has("checkins"):
        values["checkins"] = fields.boolean("checkins", False)
    if new or fields.has("channel"):
        values["channel"] = fields.choice("channel", tuple(ChannelPreference), "sms")
    if fields.has("voice_consent"):
        values["voice_consent"] = fields.boolean("voice_consent", False)
    fields.done()
    return values


@bp.post("/clients/<int:client_id>/contacts")
def create_contact(client_id: int) -> tuple[dict[str, Any], int]:
    """Add a phone that hears about the client (a caregiver, by default reminders only)."""
    settings, session, user = current_settings(), get_session(), current_user()
    client = _visible_client(session, client_id, for_change=True)
    fields = json_body(CONTACT_FIELDS | {"confirm_shared"})
    confirm = fields.boolean("confirm_shared", False)
    values = _contact_fields(settings, fields, None)
    now = utcnow()
    try:
        contact = roster.add_contact(
            session, settings, user, client, values, now, via=VIA, confirm_shared=confirm
        )
    except roster.PhoneTaken:
        raise _phone_taken() from None
    except roster.SharedPhone as shared:
        raise _shared_phone(shared) from None
    except roster.CallsNotAgreed as refused:
        raise _calls_not_agreed(refused) from None
    body = contact_json(contact, consent.numbers(session, [contact.phone]))
    session.commit()
    return body, 201


def _visible_contact(session: Session, contact_id: int) -> Contact:
    """The contact when the caller may see its client, locked with it; 404 otherwise."""
    contact = session.get(Contact, contact_id)
    if contact is None or client_for(session, current_user(), contact.client_id) is None:
        raise not_found("contact")
    locked = roster.lock_contact(session, contact_id)
    if locked is None:  # removed while we waited for the lock
        raise not_found("contact")
    return locked


@bp.patch("/contacts/<int:contact_id>")
def update_contact(contact_id: int) -> dict[str, Any]:
    """Change a contact; the plan follows."""
    settings, session, user = current_settings(), get_session(), current_user()
    contact = _visible_contact(session, contact_id)
    fields = json_body(CONTACT_FIELDS | {"confirm_shared"})
    confirm = fields.boolean("confirm_shared", False)
    values = _contact_fields(settings, fields, contact)
    now = utcnow()
    try:
        roster.update_contact(
            session, settings, user, contact, values, now, via=VIA, confirm_shared=confirm
        )
    except roster.PhoneTaken:
        raise _phone_taken() from None
    except roster.SharedPhone as shared:
        raise _shared_phone(shared) from None
    except roster.CallsNotAgreed as refused:
        raise _calls_not_agreed(refused) from None
    body = contact_json(contact, consent.numbers(session, [contact.phone]))
    session.commit()
    return body


@bp.delete("/contacts/<int:contact_id>")
def delete_contact(contact_id: int) -> tuple[str, int]:
    """Remove a contact; texts still planned to it are cancelled."""
    settings, session, user = current_settings(), get_session(), current_user()
    contact = _visible_contact(session, contact_id)
    roster.remove_contact(session, settings, user, contact, utcnow(), via=VIA)
    session.commit()
    return "", 204
