"""The webhook bench's references, served by gunicorn like TouchBase and configured from the
same environment (``TWILIO_AUTH_TOKEN``, ``PUBLIC_BASE_URL``, ``DATABASE_URL``):

- ``bench.bare_webhook:app`` only checks Twilio's signature and answers empty TwiML;
- ``bench.bare_webhook:store_app`` also stores the raw text, one plain INSERT ... ON
  CONFLICT DO NOTHING in its own transaction: the least database work a webhook that must
  never lose a reply can do, on an engine made the way TouchBase makes its own.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, Response, abort, request
from sqlalchemy import bindparam, text
from twilio.request_validator import RequestValidator

from service.config import parse_database_url
from service.db import UTCDateTime, make_engine

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
STORE = text(
    "INSERT INTO inbound_messages"
    " (provider_sid, from_phone, to_phone, body, num_media, fields, received_at)"
    " VALUES (:sid, :sender, :to, :body, 0, '{}', :at)"
    " ON CONFLICT (provider_sid) DO NOTHING"
).bindparams(bindparam("at", type_=UTCDateTime()))


def create_bare_app(auth_token: str, public_base_url: str, database_url: str = "") -> Flask:
    """The least a signed webhook can do: validate, store the raw text if a database is
    given, answer nothing."""
    app = Flask(__name__)
    validator = RequestValidator(auth_token)
    engine = make_engine(database_url) if database_url else None

    @app.post("/sms/inbound")
    def inbound() -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(public_base_url + request.path, request.form, signature):
            abort(403)
        if engine is not None:
            form = request.form
            row = {"sid": form["MessageSid"], "sender": form["From"], "to": form.get("To", "")}
            row |= {"body": form.get("Body", ""), "at": datetime.now(UTC)}
            with engine.begin() as conn:
                conn.execute(STORE, row)
        return Response(EMPTY_TWIML, mimetype="application/xml")

    @app.get("/healthz")
    def health() -> str:
        return "ok"

    return app


# A WSGI server imports an app; this module exists only to be imported by gunicorn.
app = create_bare_app(os.environ["TWILIO_AUTH_TOKEN"], os.environ["PUBLIC_BASE_URL"])
store_app = create_bare_app(
    os.environ["TWILIO_AUTH_TOKEN"],
    os.environ["PUBLIC_BASE_URL"],
    parse_database_url("DATABASE_URL", os.environ["DATABASE_URL"]),
)
