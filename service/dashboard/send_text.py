"""Texting a client's contact from the client page (``compose`` checks and queues it).

Inside quiet hours the text waits for a second, explicit confirmation.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from service import audit
from service.access import client_for
from service.config import current_settings
from service.dashboard import compose
from service.dashboard.auth import current_user
from service.dashboard.client_page import render_client_page
from service.dashboard.forms import Form
from service.db import get_session, utcnow
from service.phones import mask

log = logging.getLogger(__name__)
bp = Blueprint("messages", __name__)


@bp.post("/clients/<int:client_id>/messages")
def send(client_id: int) -> Response | tuple[str, int]:
    """Queue a text to one of the client's contacts, refusing numbers that must not get one."""
    db, user, now = get_session(), current_user(), utcnow()
    client = client_for(db, user, client_id)
    if client is None:
        abort(404)
    form = Form(request.form)
    body = form.text("body", required=True, max_length=compose.MAX_BODY)
    contacts = {str(c.id): c for c in client.contacts}
    contact = contacts.get(form.raw("contact_id"))
    if contact is None:
        form.errors["contact_id"] = "Choose who gets the text."
    key = form.raw("key")
    if not compose.valid_key(key):
        # A form from before a deploy, or hand-made: give it a key so the retry works.
        form.values["key"] = compose.new_key()
        form.errors.setdefault("body", "The form was incomplete; check the text and send again.")

    def again(status: int, **shown: Any) -> tuple[str, int]:
        """The client page once more, with the form as typed: a view of the record too."""
        audit.record(db, user, "view", "client", client.id, via=request.endpoint)
        db.commit()
        return render_client_page(client, form, status=status, **shown)

    if not form.ok or contact is None or body is None:
        return again(422)
    refused = compose.refusal(db, contact.phone, client.timezone)
    if refused is not None:
        return again(422, refusal=refused)
    quiet = compose.quiet_now(client, current_settings().quiet_hours, now)
    if quiet and form.raw("confirm_quiet") != "yes":
        return again(200, quiet_warning=True)
    message_id = compose.queue(db, client, contact, body, key, user, now)
    if message_id is not None:
        audit.record(
            db, user, "send_text", "client", client.id, contact_id=contact.id, message_id=message_id
        )
        log.info("manual text queued for %s by user %s", mask(contact.phone), user.id)
        # Flash messages travel in the (signed, not encrypted) cookie: no names in them.
        flash("Text queued; it goes out within a minute.")
    else:
        flash("That text was already queued.")
    db.commit()
    return redirect(url_for("dashboard.clients.show", client_id=client.id) + "#thread")
