"""Twilio's webhooks: inbound texts and delivery status.

Every post is read and its signature checked by ``twilio_posts`` (the calls' webhooks,
``voice_webhooks``, use the same). Logs carry masked numbers and never a body.
"""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Request, Response, abort, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.datastructures import MultiDict

from service import delivery, replies, twilio_posts
from service.config import settings_of
from service.db import get_db, get_session, utcnow
from service.phones import mask
from service.twilio_posts import storable

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
INBOUND_PATH, STATUS_PATH = "/sms/inbound", "/sms/status"
WEBHOOK_PATHS = frozenset([INBOUND_PATH, STATUS_PATH])
VOICE_PREFIX = "/voice/"  # every path of the calls' webhooks (``voice_webhooks``)


def _twiml(reply: str | None) -> Response:
    """TwiML answering with ``reply``, if any: what the SDK's ``MessagingResponse`` writes
    (tests/webhooks/test_inbound.py holds the two to the same text), without building an
    element tree for one element."""
    message = f"<Message>{escape(reply)}</Message>" if reply else ""
    body = f"<Response>{message}</Response>" if message else "<Response />"
    return Response(TWIML_HEAD + body, mimetype="application/xml")


def handle_inbound(form: MultiDict[str, str]) -> str | None:
    """Store an inbound text, then act on it; the reply to send back, if any."""
    sid, sender = form.get("MessageSid", "").strip(), form.get("From", "").strip()
    if not sid or not sender or len(sid) > 64:
        abort(400, "MessageSid and From are required")
    media = form.get("NumMedia", "0")
    inbound = replies.Inbound(
        sid=storable(sid),
        from_phone=storable(sender),
        to_phone=storable(form.get("To", "")),
        body=storable(form.get("Body", "")),
        num_media=int(media) if media.isascii() and media.isdigit() and len(media) < 4 else 0,
        fields={storable(k): storable(v[:2000]) for k, v in form.items() if k != "Body"},
    )
    db, now = get_db(), utcnow()
    # One connection for both transactions: the second neither waits for a pool checkout
    # (and its liveness ping) nor, on SQLite, opens a new connection.
    with db.engine.connect() as connection:
        # Stored before anything else is tried, committed (on PostgreSQL without waiting
        # for the disk: nothing below answers Twilio before a commit that does).
        stored = replies.store_first(connection, inbound, now)
        if stored is None:  # (the first delivery answers once it is durable)
            log.info("inbound %s from %s: duplicate, already stored", sid, mask(sender))
            return None
        with db.sessions(bind=connection) as session:
            try:
                # The environment's settings: processing reads the saved ones over them
                # (``reply_reads.in_force``), read with the reply's facts and the wording.
                environment = settings_of(current_app)
                sent_by = inbound.from_phone[:64]
                reply = replies.process(session, environment, stored, now, sender=sent_by)
            except Exception:  # the text is kept and the clock retries it
                session.rollback()
                log.exception("inbound %s from %s: stored, processing failed", sid, mask(sender))
                replies.keep(session, stored, "processing failed; it is tried again")
                return None
    log.info("inbound %s from %s: processed", sid, mask(sender))
    return reply


@bp.post(INBOUND_PATH)
def inbound() -> Response:
    """Twilio's incoming-message webhook; answers TwiML."""
    form = twilio_posts.form()
    twilio_posts.verify(form)
    return _twiml(handle_inbound(form))


@bp.post(STATUS_PATH)
def status() -> Response:
    """Twilio's status callback for a text we sent."""
    form = twilio_posts.form()
    twilio_posts.verify(form)
    sid, state = form.get("MessageSid", "").strip(), form.get("MessageStatus", "").strip()
    if not sid or not state:
        abort(400, "MessageSid and MessageStatus are required")
    # PostgreSQL cannot even compare text holding NUL; such a sid or number is none of ours.
    sid = storable(sid)
    code = twilio_posts.error_code(form)
    session, now = get_session(), utcnow()
    to_phone = storable(form.get("To", "").strip())[:20] or None
    outcome = twilio_posts.applied_after_sends(
        session, to_phone, lambda: delivery.apply_status(session, sid, state.lower(), code, now)
    )
    log.info("status %s: %s (%s)", sid, state, outcome)
    return Response("", status=204)


class SessionsOutsideWebhooks(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a post to a webhook opens none (an empty
    one, never saved): Twilio sends no cookie and nothing here reads or writes a session,
    so building the cookie's signer for every text (or key press) would be work for nothing."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session for a webhook; the cookie's session for anything else."""
        if request.path in WEBHOOK_PATHS or request.path.startswith(VOICE_PREFIX):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Register the webhooks."""
    app.register_blueprint(bp)
    app.session_interface = SessionsOutsideWebhooks()
