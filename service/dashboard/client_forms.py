"""Forms that create and edit clients and their contacts; every change re-plans the texts."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import audit, schedule
from service.config import current_settings
from service.dashboard.auth import client_or_404, current_user
from service.dashboard.forms import Form
from service.db import get_session, utcnow
from service.models import LANGUAGES, Client, Contact, User
from service.values import whole_number

bp = Blueprint("client_forms", __name__)
RELATIONS = ("caregiver", "parent", "partner", "child", "friend", "other")
TAKEN = "This client already has a contact with that number."


def _therapists(db: Session, user: User) -> list[User]:
    """The accounts an admin may give a client to (a therapist chooses no one)."""
    if not user.is_admin:
        return []
    return list(db.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def _own(client: Client) -> Contact | None:
    """The client's own number's contact, if any."""
    return next((c for c in client.contacts if c.relation == "self"), None)


def _client_page(client: Client) -> Response:
    """Back to the client's page."""
    return redirect(url_for("dashboard.clients.show", client_id=client.id))


@dataclass
class ClientInput:
    """The checked values of the client form."""

    name: str
    timezone: str
    language: str
    notes: str
    phone: str | None
    therapist_id: int | None
    checkin_days: str | None

    def fields(self) -> dict[str, object]:
        """The values stored on the client row itself."""
        return {
            "name": self.name,
            "timezone": self.timezone,
            "language": self.language,
            "notes": self.notes,
            "checkin_days": self.checkin_days,
        }


def _read_client(db: Session, form: Form, user: User, client: Client | None) -> ClientInput:
    """Check the client form; the clean values (errors, if any, recorded on ``form``)."""
    settings = current_settings()
    phone = form.phone("phone", settings.default_region)
    if client is not None and phone is not None:
        own = _own(client)
        if any(c.phone == phone and c is not own for c in client.contacts):
            form.errors["phone"] = TAKEN
    therapist_id = user.id if client is None else client.therapist_id
    if user.is_admin:
        raw = form.raw("therapist_id")
        chosen = db.get(User, number) if (number := whole_number(raw)) else None
        if raw and (chosen is None or not chosen.active):
            form.errors["therapist_id"] = "Choose an active account."
        therapist_id = chosen.id if chosen else None
    return ClientInput(
        name=form.text("name", required=True) or "",
        timezone=form.timezone("timezone") or settings.practice_timezone,
        language=form.choice("language", LANGUAGES, "en") or "en",
        notes=form.text("notes", max_length=5000) or "",
        phone=phone,
        therapist_id=therapist_id,
        checkin_days=form.checkin_days("checkin_days"),
    )


@bp.route("/clients/new", methods=["GET", "POST"])
def create() -> Response | str | tuple[str, int]:
    """Add a client; the phone typed becomes the client's own contact."""
    db, user = get_session(), current_user()
    tz = current_settings().practice_timezone
    defaults = {"timezone": tz, "language": "en", "therapist_id": str(user.id)}
    form = Form(request.form if request.method == "POST" else None, defaults)
    if not form.submitted:
        return render_template("clients/form.html", form=form, therapists=_therapists(db, user))
    values = _read_client(db, form, user, None)
    if not form.ok:
        page = render_template("clients/form.html", form=form, therapists=_therapists(db, user))
        return page, 422
    client = Client(therapist_id=values.therapist_id, **values.fields())
    if values.phone is not None:
        client.contacts.append(
            Contact(
                name=values.name, relation="self", phone=values.phone, reminders=True, checkins=True
            )
        )
    db.add(client)
    db.flush()
    audit.record(db, user, "create", "client", client.id, via="dashboard")
    db.commit()
    flash("Client added.")
    return _client_page(client)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
def edit(client_id: int) -> Response | str | tuple[str, int]:
    """Change a client; a new time zone, language or phone re-plans unsent texts."""
    db, user = get_session(), current_user()
    client = client_or_404(db, client_id)
    own = _own(client)
    defaults = {
        "name": client.name,
        "timezone": client.timezone,
        "language": client.language,
        "notes": client.notes,
        "phone": own.phone if own else "",
        "therapist_id": str(client.therapist_id or ""),
        "checkin_days": (client.checkin_days or "").replace(",", ", "),
    }
    form = Form(request.form if request.method == "POST" else None, defaults)
    therapists = _therapists(db, user)
    if not form.submitted:
        return render_template("clients/form.html", form=form, client=client, therapists=therapists)
    values = _read_client(db, form, user, client)
    if not form.ok:
        page = render_template("clients/form.html", form=form, client=client, therapists=therapists)
        return page, 422
    wanted = {**values.fields(), "therapist_id": values.therapist_id}
    changed = sorted(k for k, v in wanted.items() if getattr(client, k) != v)
    for key, value in wanted.items():
        setattr(client, key, value)
    if values.phone is not None and (own is None or own.phone != values.phone):
        changed.append("phone")
        if own is None:
            client.contacts.append(
                Contact(
                    name=client.name,
                    relation="self",
                    phone=values.phone,
                    reminders=True,
                    checkins=True,
                )
            )
        else:
            own.phone = values.phone
    audit.record(db, user, "update", "client", client.id, fields=changed)
    schedule.replan_client(db, current_settings(), client.id, utcnow())
    db.commit()
    flash("Saved.")
    return _client_page(client)


def _read_contact(form: Form, client: Client, contact: Contact | None) -> dict[str, object]:
    """Check the contact form; the clean values, or errors recorded on ``form``."""
    phone = form.phone("phone", current_settings().default_region, required=True)
    if phone is not None and any(c.phone == phone and c is not contact for c in client.contacts):
        form.errors["phone"] = TAKEN
    relations = RELATIONS + (
        ("self",) if contact is not None and contact.relation == "self" else ()
    )
    return {
        "name": form.text("name", required=True),
        "relation": form.choice("relation", relations, "caregiver"),
        "phone": phone,
        "reminders": form.checkbox("reminders"),
        "checkins": form.checkbox("checkins"),
    }


def _save_contact(db: Session, form: Form, client: Client, action: str, contact_id: int) -> bool:
    """Commit the contact change and re-plan; False (with a field error) on a taken number."""
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        form.errors["phone"] = TAKEN
        return False
    audit.record(db, current_user(), action, "client", client.id, contact=contact_id)
    schedule.replan_client(db, current_settings(), client.id, utcnow())
    db.commit()
    return True


@bp.route("/clients/<int:client_id>/contacts/new", methods=["GET", "POST"])
def add_contact(client_id: int) -> Response | str | tuple[str, int]:
    """Add a caregiver (or another number) who hears about the client."""
    db = get_session()
    client = client_or_404(db, client_id)
    defaults = {"relation": "caregiver", "reminders": "on"}
    form = Form(request.form if request.method == "POST" else None, defaults)
    if form.submitted:
        values = _read_contact(form, client, None)
        if form.ok:
            contact = Contact(client_id=client.id, **values)
            db.add(contact)
            if _save_contact(db, form, client, "add_contact", 0):
                flash("Contact added; the plan now includes it.")
                return _client_page(client)
    page = render_template("contacts/form.html", form=form, client=client, relations=RELATIONS)
    return (page, 422) if form.submitted else page


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def edit_contact(contact_id: int) -> Response | str | tuple[str, int]:
    """Change a contact's name, number or which texts it gets."""
    db = get_session()
    contact = db.get(Contact, contact_id)
    if contact is None:
        abort(404)
    client = client_or_404(db, contact.client_id)
    defaults = {
        "name": contact.name,
        "relation": contact.relation,
        "phone": contact.phone,
        "reminders": "on" if contact.reminders else "",
        "checkins": "on" if contact.checkins else "",
    }
    form = Form(request.form if request.method == "POST" else None, defaults)
    if form.submitted:
        values = _read_contact(form, client, contact)
        if form.ok:
            for key, value in values.items():
                setattr(contact, key, value)
            if _save_contact(db, form, client, "update_contact", contact.id):
                flash("Contact saved.")
                return _client_page(client)
    page = render_template(
        "contacts/form.html", form=form, client=client, contact=contact, relations=RELATIONS
    )
    return (page, 422) if form.submitted else page


@bp.post("/contacts/<int:contact_id>/remove")
def remove_contact(contact_id: int) -> Response:
    """Remove a contact; texts still planned to it are cancelled by the re-plan."""
    db = get_session()
    contact = db.get(Contact, contact_id)
    if contact is None:
        abort(404)
    client = client_or_404(db, contact.client_id)
    client.contacts.remove(contact)
    db.flush()
    audit.record(db, current_user(), "remove_contact", "client", client.id, contact=contact_id)
    schedule.replan_client(db, current_settings(), client.id, utcnow())
    db.commit()
    flash("Contact removed; texts planned to it are cancelled.")
    return _client_page(client)
