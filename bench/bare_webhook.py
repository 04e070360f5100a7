"""The webhook bench's reference: a Flask endpoint that only checks Twilio's signature and
answers empty TwiML (``gunicorn bench.bare_webhook:app``, configured from the environment
like TouchBase: ``TWILIO_AUTH_TOKEN`` and ``PUBLIC_BASE_URL``)."""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def create_bare_app(auth_token: str, public_base_url: str) -> Flask:
    """The least a signed webhook can do: validate, answer nothing."""
    app = Flask(__name__)
    validator = RequestValidator(auth_token)

    @app.post("/sms/inbound")
    def inbound() -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(public_base_url + request.path, request.form, signature):
            abort(403)
        return Response(EMPTY_TWIML, mimetype="application/xml")

    @app.get("/healthz")
    def health() -> str:
        return "ok"

    return app


# A WSGI server imports an app; this module exists only to be imported by gunicorn.
app = create_bare_app(os.environ["TWILIO_AUTH_TOKEN"], os.environ["PUBLIC_BASE_URL"])
