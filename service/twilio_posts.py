"""What every post from Twilio goes through, texts' and calls' alike: the form read strictly,
the signature checked, values made storable, and a status report that may race its own send.

A signature is checked with the SDK's ``RequestValidator`` against the URL Twilio signed:
``PUBLIC_BASE_URL`` + path when it is configured, else the request's own URL (rebuilt from
``X-Forwarded-*`` when ``TRUSTED_PROXIES`` says a proxy sits in front). Without an auth
token nothing is accepted at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

from flask import abort, current_app, request
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from service import delivery, outbox
from service.config import settings_of

log = logging.getLogger(__name__)


def form() -> MultiDict[str, str]:
    """The posted form, decoded strictly: bytes that are not UTF-8 are a 400, not a guess."""
    raw = request.get_data(cache=True)  # a body over MAX_CONTENT_LENGTH is a 413 here
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        abort(400, "the body is not UTF-8 form data")
    return MultiDict(pairs)


def verify(posted: MultiDict[str, str]) -> None:
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
    if not RequestValidator(settings.twilio_auth_token).validate(url, posted, signature):
        log.warning("webhook %s refused: bad signature", request.path)
        abort(403)


def storable(value: str) -> str:
    """``value`` as the database can hold and compare it."""
    # PostgreSQL text cannot hold NUL; keep it visible as the symbol for NUL (U+2400).
    return value.replace("\x00", "\u2400")


def error_code(posted: MultiDict[str, str]) -> int | None:
    """The posted ``ErrorCode``, when it is a number."""
    text = posted.get("ErrorCode", "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 8 else None


def applied_after_sends(session: Session, to_phone: str | None, apply: Callable[[], str]) -> str:
    """``apply`` a status report (what it did, for the log), and commit. A report for a sid
    not recorded yet may belong to a send still in flight to ``to_phone``: a fresh
    transaction waits for that send to be recorded, then the report is applied after all."""
    outcome = apply()
    if outcome == delivery.UNKNOWN_SID and to_phone:
        session.commit()
        outbox.wait_for_sends_to(session, to_phone)
        # Hold no message's lock while applying it: a batch locks numbers before messages,
        # and an opt-out code updates the number.
        session.commit()
        outcome = apply()
    session.commit()
    return outcome
