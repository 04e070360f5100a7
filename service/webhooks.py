"""Twilio's webhooks: inbound texts and delivery status.

Every post is checked with the SDK's ``RequestValidator`` against the URL Twilio signed:
``PUBLIC_BASE_URL`` + path when it is configured, else the request's own URL (rebuilt from
``X-Forwarded-*`` when ``TRUSTED_PROXIES`` says a proxy sits in front). Without an auth
token nothing is accepted here at all. Logs carry masked numbers and never a body.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Request, Response, abort, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from service import delivery, outbox, replies
from service.config import settings_of
from service.db import get_db, get_session, utcnow
from service.phones import mask

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
INBOUND_PATH, STATUS_PATH = "/sms/inbound", "/sms/status"
WEBHOOK_PATHS = frozenset([INBOUND_PATH, STATUS_PATH])


def _form() -> MultiDict[str, str]:
    """The posted form, decoded strictly: bytes that are not UTF-8 are a 400, not a guess."""
    raw = request.get_data(cache=True)  # a body over MAX_CONTENT_LENGTH is a 413 here
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        abort(400, "the body is not UTF-8 form data")
    return MultiDict(pairs)


def _verify(form: MultiDict[str, str]) -> None:
    """403 unless X-Twilio-Signature is Twilio's signature of this URL and form."""
    # The token and the public URL are the environment's alone (the practice cannot edit
    # them), so checking a signature reads nothing from the database.
    settings = settings_of(current_app)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.twilio_auth_token or not signature:
        why = "no signature" if settings.twilio_auth_token else "no auth token configured"
        log.warning("webhook %s refused: %s", request.path, why)
        abort(403)
    if settings.public_base_url:
        query = request.query_string.decode("latin-1")
        url = settings.public_base_url + request.path + (f"?{query}" if query else "")
    else:
        url = request.url
    if not RequestValidator(settings.twilio_auth_token).validate(url, form, signature):
        log.warning("webhook %s refused: bad signature", request.path)
        abort(403)


def _twiml(reply: str | None) -> Response:
    """TwiML answering with ``reply``, if any: what the SDK's ``MessagingResponse`` writes
    (tests/webhooks/test_inbound.py holds the two to the same text), without building an
    element tree for one element."""
    message = f"<Message>{escape(reply)}</Message>" if reply else ""
    body = f"<Response>{message}</Response>" if message else "<Response />"
    return Response(TWIML_HEAD + body, mimetype="application/xml")


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL; keep it visible as the symbol for NUL (U+2400).
    return value.replace("\x00", "\u2400")


def handle_inbound(form: MultiDict[str, str]) -> str | None:
    """Store an inbound text, then act on it; the reply to send back, if any."""
    sid, sender = form.get("MessageSid", "").strip(), form.get("From", "").strip()
    if not sid or not sender or len(sid) > 64:
        abort(400, "MessageSid and From are required")
    media = form.get("NumMedia", "0")
    inbound = replies.Inbound(
        sid=_storable(sid),
        from_phone=_storable(sender),
        to_phone=_storable(form.get("To", "")),
        body=_storable(form.get("Body", "")),
        num_media=int(media) if media.isascii() and media.isdigit() and len(media) < 4 else 0,
        fields={_storable(k): _storable(v[:2000]) for k, v in form.items() if k != "Body"},
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
    form = _form()
    _verify(form)
    return _twiml(handle_inbound(form))


@bp.post(STATUS_PATH)
def status() -> Response:
    """Twilio's status callback for a text we sent."""
    form = _form()
    _verify(form)
    sid, state = form.get("MessageSid", "").strip(), form.get("MessageStatus", "").strip()
    if not sid or not state:
        abort(400, "MessageSid and MessageStatus are required")
    # PostgreSQL cannot even compare text holding NUL; such a sid or number is none of ours.
    sid = _storable(sid)
    code_text = form.get("ErrorCode", "").strip()
    code = (
        int(code_text)
        if code_text.isascii() and code_text.isdigit() and len(code_text) < 8
        else None
    )
    session, now = get_session(), utcnow()
    to_phone = _storable(form.get("To", "").strip())[:20] or None
    outcome = delivery.apply_status(session, sid, state.lower(), code, now)
    if outcome == delivery.UNKNOWN_SID and to_phone:
        # It may belong to a send still in flight to that number: a fresh transaction waits
        # for that send to be recorded, then the report is applied after all.
        session.commit()
        outbox.wait_for_sends_to(session, to_phone)
        # Hold no message's lock while applying it: a batch locks numbers before messages,
        # and an opt-out code updates the number.
        session.commit()
        outcome = delivery.apply_status(session, sid, state.lower(), code, now)
    session.commit()
    log.info("status %s: %s (%s)", sid, state, outcome)
    return Response("", status=204)


class SessionsOutsideWebhooks(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a post to a webhook opens none (an empty
    one, never saved): Twilio sends no cookie and nothing here reads or writes a session,
    so building the cookie's signer for every text would be work for nothing."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session for a webhook; the cookie's session for anything else."""
        if request.path in WEBHOOK_PATHS:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Register the webhooks."""
    app.register_blueprint(bp)
    app.session_interface = SessionsOutsideWebhooks()
