"""Texting a client's contact from the client page or an inbox item (``compose`` checks
and queues it).

Inside quiet hours the text waits for a second, explicit choice: "Send at 8:00 AM" (the
first minute after quiet hours where the client lives) or "Send anyway". From the inbox
the form comes back on a short page of its own, never the whole client page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service import audit
from service.access import client_for
from service.config import current_settings
from service.dashboard import compose
from service.dashboard.auth import current_user
from service.dashboard.client_page import render_client_page
from service.dashboard.forms import Form
from service.dashboard.timefmt import clock
from service.db import get_session, utcnow
from service.models import Client, Contact
from service.phones import mask

log = logging.getLogger(__name__)
bp = Blueprint("messages", __name__)
LATER = "later"


def _read(form: Form, client: Client) -> tuple[str | None, Contact | None]:
    """The text and the contact it goes to, or errors recorded on ``form``."""
    body = form.text("body", required=True, max_length=100_000)
    too_long = compose.too_long(form.raw("body"))
    if too_long is not None:
        form.errors["body"], body = too_long, None
    contact = {str(c.id): c for c in client.contacts}.get(form.raw("contact_id"))
    if contact is None:
        form.errors["contact_id"] = "Choose who gets the text."
    if not compose.valid_key(form.raw("key")):
        # A form from before a deploy, or hand-made: give it a key so the retry works.
        form.values["key"] = compose.new_key()
        form.errors.setdefault("body", "The form was incomplete; check the text and send again.")
    return body, contact


@bp.post("/clients/<int:client_id>/messages")
def send(client_id: int) -> Response | tuple[str, int]:
    """Queue a text to one of the client's contacts, refusing numbers that must not get one."""
    db, user, now = get_session(), current_user(), utcnow()
    client = client_for(db, user, client_id)
    if client is None:
        abort(404)
    form = Form(request.form)
    body, contact = _read(form, client)
    from_inbox = form.raw("from") == "inbox"
    quiet = current_settings().quiet_hours

    def again(status: int, **shown: Any) -> tuple[str, int]:
        """The form once more, as typed (a view of the record too): on its own short page
        when it came from the inbox, else on the client page."""
        audit.record(db, user, "view", "client", client.id, via=request.endpoint)
        db.commit()
        later = compose.send_later_at(client, quiet, now)
        if not from_inbox:
            return render_client_page(client, form, status=status, later=later, **shown)
        page = render_template(
            "answer.html",
            client=client,
            contact=contact,
            form=form,
            later=later,
            now=now,
            max_body=compose.MAX_BODY,
            **shown,
        )
        return page, status

    if not form.ok or contact is None or body is None:
        return again(422)
    refused = compose.refusal(db, contact.phone, client.timezone)
    if refused is not None:
        return again(422, refusal=refused)
    choice = form.raw("confirm_quiet")
    if compose.quiet_now(client, quiet, now) and choice not in ("yes", LATER):
        return again(200, quiet_warning=True)
    send_at = compose.send_later_at(client, quiet, now) if choice == LATER else now
    message_id = compose.queue(db, client, contact, body, form.raw("key"), user, now, send_at)
    if message_id is not None:
        audit.record(
            db, user, "send_text", "client", client.id, contact_id=contact.id, message_id=message_id
        )
        log.info("manual text queued for %s by user %s", mask(contact.phone), user.id)
        # Flash messages travel in the (signed, not encrypted) cookie: no names in them.
        if send_at > now:
            flash(f"Text queued; it goes out at {clock(send_at, client.timezone)} their time.")
        else:
            flash("Text queued; it goes out within a minute.")
    else:
        flash("That text was already queued.")
    db.commit()
    if from_inbox:
        return redirect(url_for("dashboard.inbox.index"))
    return redirect(url_for("dashboard.clients.show", client_id=client.id) + "#thread")
