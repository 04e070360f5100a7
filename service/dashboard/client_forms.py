"""Forms that create and edit clients and their contacts (written through ``service.roster``;
every change re-plans the texts).

The contact form chooses how the contact hears from the practice (texts, calls, or a text
then a call) and asks to confirm that the client or caregiver agreed to calls, which a
channel that calls needs (``call_consent``): ticked, the agreement is recorded now by the
user; unticked on a number that had it, it is withdrawn. Texts' consent is not touched.
Both are judged against what the form showed: an edit form opened before calls to the
number changed (the caller pressed 9, another user withdrew the agreement) saves nothing
and comes back with a notice (``contact_calls``).

The client form's "Calendar name" is the name the practice's calendar feeds are matched by
(``domain.calendar_names``): empty means the default, first name and last initial, which
the field shows as its placeholder. It is checked as the API checks it (at most 100
characters, a letter or a digit). A new client given one is made, then changed, through
``roster``, so its audit reads as the API's does.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import roster
from service.config import current_settings
from service.dashboard import contact_calls, phone_links
from service.dashboard.auth import client_or_404, current_user
from service.dashboard.forms import Form, sentence
from service.db import get_session, utcnow
from service.domain import calendar_names
from service.domain.vocabulary import ChannelPreference, Language
from service.models import SELF, Client, Contact, User
from service.values import whole_number

bp = Blueprint("client_forms", __name__)
RELATIONS = ("caregiver", "parent", "partner", "child", "friend", "other")
TAKEN = "This client already has a contact with that number."
CHANNELS = (
    (ChannelPreference.SMS, "Texts"),
    (ChannelPreference.VOICE, "Phone calls"),
    (ChannelPreference.SMS_THEN_VOICE, "A text, then one call if it gets no reply"),
)
NOT_AGREED = "Calls need the agreement of the client or caregiver: tick the box, or choose texts."
VIA = "dashboard"


def _therapists(db: Session, user: User) -> list[User]:
    """The accounts an admin may give a client to (a therapist chooses no one)."""
    if not user.is_admin:
        return []
    return list(db.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def _client_page(client: Client) -> Response:
    """Back to the client's page."""
    return redirect(url_for("dashboard.clients.show", client_id=client.id))


def _calendar_name(form: Form) -> str | None:
    """The calendar name typed, or None when left empty (the default); errors on ``form``."""
    value = form.text("calendar_name", max_length=calendar_names.MAX_LENGTH)
    reason = calendar_names.refusal(value) if value else None
    if reason is not None:
        form.errors["calendar_name"] = sentence(reason)
    return value if reason is None else None


def _render(db: Session, user: User, form: Form, client: Client | None, **more: object) -> str:
    """The client form, with the default calendar name the empty field stands for."""
    default = calendar_names.default_name(client.name) if client else ""
    return render_template(
        "clients/form.html",
        form=form,
        client=client,
        therapists=_therapists(db, user),
        default_calendar_name=default or "first name and last initial",
        **more,
    )


def _read_client(db: Session, form: Form, user: User, client: Client | None) -> roster.NewClient:
    """Check the client form; the clean values (errors, if any, recorded on ``form``)."""
    settings = current_settings()
    therapist_id = user.id if client is None else client.therapist_id
    if user.is_admin:
        raw = form.raw("therapist_id")
        wanted = whole_number(raw)
        if raw and (wanted is None or roster.therapist_refusal(db, user, wanted) is not None):
            form.errors["therapist_id"] = "Choose an active account."
        therapist_id = wanted if "therapist_id" not in form.errors else therapist_id
    return roster.NewClient(
        name=form.text("name", required=True) or "",
        timezone=form.timezone("timezone") or settings.practice_timezone,
        language=form.choice("language", tuple(Language)) or settings.default_language,
        notes=form.text("notes", max_length=5000) or "",
        phone=form.phone("phone", settings.default_region),
        therapist_id=therapist_id,
        checkin_days=form.checkin_days("checkin_days"),
        calendar_name=_calendar_name(form),
    )


@bp.route("/clients/new", methods=["GET", "POST"])
def create() -> Response | str | tuple[str, int]:
    """Add a client; the phone typed becomes the client's own contact."""
    db, user = get_session(), current_user()
    tz = current_settings().practice_timezone
    language = current_settings().default_language
    defaults = {"timezone": tz, "language": language, "therapist_id": str(user.id)}
    form = Form(request.form if request.method == "POST" else None, defaults)
    if not form.submitted:
        return _render(db, user, form, None)
    values, shared = _read_client(db, form, user, None), None
    if form.ok:
        try:
            client = roster.create_client(
                db, user, values, via=VIA, confirm_shared=form.checkbox("confirm_shared")
            )
        except roster.SharedPhone as warning:
            shared = warning.warning  # shown with a box to tick; nothing written yet
    if not form.ok or shared:
        page = _render(db, user, form, None, shared=shared)
        return (page, 422) if not shared else page
    db.commit()
    flash("Client added.")
    return _client_page(client)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
def edit(client_id: int) -> Response | str | tuple[str, int]:
    """Change a client; a new time zone, language or phone re-plans unsent texts."""
    db, user = get_session(), current_user()
    client = client_or_404(db, client_id, for_change=request.method == "POST")
    own = client.own_contact
    defaults = {
        "name": client.name,
        "timezone": client.timezone,
        "language": client.language,
        "notes": client.notes,
        "phone": phone_links.phone(own.phone) if own else "",
        "therapist_id": str(client.therapist_id or ""),
        "checkin_days": (client.checkin_days or "").replace(",", ", "),
        "calendar_name": client.calendar_name or "",
    }
    form = Form(request.form if request.method == "POST" else None, defaults)
    if not form.submitted:
        return _render(db, user, form, client)
    values, shared = _read_client(db, form, user, client), None
    changes = asdict(values)
    if form.ok:
        try:
            roster.update_client(
                db,
                current_settings(),
                user,
                client,
                changes,
                utcnow(),
                via=VIA,
                confirm_shared=form.checkbox("confirm_shared"),
            )
        except roster.PhoneTaken:
            form.errors["phone"] = TAKEN
        except roster.SharedPhone as warning:
            shared = warning.warning
    if not form.ok or shared:
        page = _render(db, user, form, client, shared=shared)
        return (page, 422) if not shared else page
    db.commit()
    flash("Saved.")
    return _client_page(client)


def _read_contact(form: Form, contact: Contact | None, agreed: bool) -> dict[str, object]:
    """Check the contact form; the clean values, or errors recorded on ``form``. ``agreed``:
    the contact's number has the agreement to calls on record (the box showed ticked), so
    the box records it only when newly ticked and withdraws it when unticked."""
    relations = RELATIONS + ((SELF,) if contact is not None and contact.is_own else ())
    values: dict[str, object] = {
        "name": form.text("name", required=True),
        "relation": form.choice("relation", relations, "caregiver"),
        "phone": form.phone("phone", current_settings().default_region, required=True),
        "reminders": form.checkbox("reminders"),
        "checkins": form.checkbox("checkins"),
        "channel": form.choice("channel", tuple(ChannelPreference), ChannelPreference.SMS),
    }
    ticked = form.checkbox("voice_consent")
    if contact is not None and values["phone"] != contact.phone:
        agreed = False  # a new number: ticked, the agreement is recorded for it
    if ticked != agreed:
        values["voice_consent"] = ticked
    return values


def _contact_or_404(db: Session, contact_id: int, *, for_change: bool) -> Contact:
    """The contact when the user may see its client (locked with it for a change); 404."""
    contact = db.get(Contact, contact_id)
    if contact is None:
        abort(404)
    client_or_404(db, contact.client_id)
    if for_change:
        contact = roster.lock_contact(db, contact_id)
        if contact is None:  # removed while we waited
            abort(404)
    return contact


@bp.route("/clients/<int:client_id>/contacts/new", methods=["GET", "POST"])
def add_contact(client_id: int) -> Response | str | tuple[str, int]:
    """Add a caregiver (or another number) who hears about the client."""
    db = get_session()
    client = client_or_404(db, client_id, for_change=request.method == "POST")
    defaults = {"relation": "caregiver", "reminders": "on", "channel": ChannelPreference.SMS}
    form = Form(request.form if request.method == "POST" else None, defaults)
    shared = None
    if form.submitted:
        values = _read_contact(form, None, agreed=False)
        if form.ok:
            try:
                roster.add_contact(
                    db,
                    current_settings(),
                    current_user(),
                    client,
                    values,
                    utcnow(),
                    via=VIA,
                    confirm_shared=form.checkbox("confirm_shared"),
                )
            except roster.PhoneTaken:
                form.errors["phone"] = TAKEN
            except roster.SharedPhone as warning:
                shared = warning.warning  # shown with a box to tick; nothing written yet
            except roster.CallsNotAgreed:
                form.errors["voice_consent"] = NOT_AGREED
            else:
                db.commit()
                flash("Contact added; the plan now includes it.")
                return _client_page(client)
    page = render_template(
        "contacts/form.html",
        form=form,
        client=client,
        relations=RELATIONS,
        channels=CHANNELS,
        shared=shared,
    )
    return (page, 422) if form.submitted and not shared else page


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def edit_contact(contact_id: int) -> Response | str | tuple[str, int]:
    """Change a contact's name, number or which texts it gets."""
    db = get_session()
    contact = _contact_or_404(db, contact_id, for_change=request.method == "POST")
    client, row = contact.client, contact_calls.number_row(db, contact.phone)
    now = contact_calls.standing(row, contact.channel)
    defaults = {
        "name": contact.name,
        "relation": contact.relation,
        "phone": phone_links.phone(contact.phone),
        "reminders": "on" if contact.reminders else "",
        "checkins": "on" if contact.checkins else "",
        **now.fields(),
    }
    form = Form(request.form if request.method == "POST" else None, defaults)
    shared = None
    if form.submitted:
        values = _read_contact(form, contact, now.agreed)
        if contact_calls.changed_since_shown(form, contact, values, now):
            # calls changed since the form was shown: its box and channel say nothing now
            form.errors["voice_consent"] = contact_calls.notice(db, form, row, now, client.timezone)
            form.values.update(now.fields())
        if form.ok:
            try:
                roster.update_contact(
                    db,
                    current_settings(),
                    current_user(),
                    contact,
                    values,
                    utcnow(),
                    via=VIA,
                    confirm_shared=form.checkbox("confirm_shared"),
                )
            except roster.PhoneTaken:
                form.errors["phone"] = TAKEN
            except roster.SharedPhone as warning:
                shared = warning.warning
            except roster.CallsNotAgreed:
                form.errors["voice_consent"] = NOT_AGREED
            else:
                db.commit()
                flash("Contact saved.")
                return _client_page(client)
    page = render_template(
        "contacts/form.html",
        form=form,
        client=client,
        contact=contact,
        relations=RELATIONS,
        channels=CHANNELS,
        shared=shared,
    )
    return (page, 422) if form.submitted and not shared else page


@bp.post("/contacts/<int:contact_id>/remove")
def remove_contact(contact_id: int) -> Response:
    """Remove a contact; texts still planned to it are cancelled by the re-plan."""
    db = get_session()
    contact = _contact_or_404(db, contact_id, for_change=True)
    client = contact.client
    roster.remove_contact(db, current_settings(), current_user(), contact, utcnow(), via=VIA)
    db.commit()
    flash("Contact removed; texts planned to it are cancelled.")
    return _client_page(client)
