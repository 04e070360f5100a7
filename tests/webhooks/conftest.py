"""Webhook fixtures: an app that knows its Twilio auth token, and posts signed like Twilio's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import count

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

AUTH_TOKEN = "webhook-test-token"
PUBLIC = "https://touchbase.example"
PRACTICE_NUMBER = "+16175550100"
_sids = count(1)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=PRACTICE_NUMBER,
        PUBLIC_BASE_URL=PUBLIC,
    )


def sign(url: str, form: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    """The signature Twilio would send, computed by the SDK itself."""
    return str(RequestValidator(token).compute_signature(url, dict(form)))


@dataclass
class Twilio:
    """Posts to our webhooks the way Twilio does."""

    http: FlaskClient

    def post(
        self, path: str, form: Mapping[str, str], *, signature: str | None = None
    ) -> TestResponse:
        return self.http.post(
            path,
            data=dict(form),
            headers={
                "X-Twilio-Signature": signature
                if signature is not None
                else sign(PUBLIC + path, form)
            },
        )

    def text(self, sender: str, body: str, **extra: str) -> TestResponse:
        """An inbound text with a fresh MessageSid."""
        form = {
            "MessageSid": f"SM{next(_sids):032d}",
            "AccountSid": "AC" + "1" * 32,
            "From": sender,
            "To": PRACTICE_NUMBER,
            "Body": body,
            "NumMedia": "0",
            **extra,
        }
        return self.post("/sms/inbound", form)


@pytest.fixture
def twilio(client: FlaskClient) -> Twilio:
    return Twilio(client)


def reply_text(response: TestResponse) -> str | None:
    """The text of the TwiML <Message>, or None for an empty response."""
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert response.mimetype == "application/xml"
    if "<Message>" not in body:
        return None
    return body.split("<Message>", 1)[1].split("</Message>", 1)[0]
