"""Voice webhook fixtures: an app that knows its Twilio auth token, posts signed like
Twilio's calls, and calls already placed for reminders and check-ins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service import call_consent, outbox
from service.domain.vocabulary import Channel, MessageKind
from service.models import Appointment, Client, Contact, OutboundMessage
from tests import factories
from tests.webhooks.conftest import AUTH_TOKEN, PRACTICE_NUMBER, PUBLIC, sign

PHONE = "+16175550123"
# Wednesday 11:00 in New York, well ahead of the real clock: every appointment is to come.
NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
_sids = count(1)


def voice_config(**overrides: str) -> dict[str, str]:
    """The Twilio settings of the voice tests' apps."""
    return {
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": PRACTICE_NUMBER,
        "PUBLIC_BASE_URL": PUBLIC,
        **overrides,
    }


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(**voice_config())


def call_sid() -> str:
    """A fresh call sid."""
    return f"CA{next(_sids):032d}"


@dataclass
class Twilio:
    """Posts to our voice webhooks the way Twilio does during one call."""

    http: FlaskClient
    sid: str = ""

    def post(
        self, path: str, form: Mapping[str, str] | None = None, *, signature: str | None = None
    ) -> TestResponse:
        """A signed post (``signature`` to forge one) with a call's parameters."""
        full = {
            "CallSid": self.sid,
            "AccountSid": "AC" + "1" * 32,
            "From": PRACTICE_NUMBER,
            "To": PHONE,
            "Direction": "outbound-api",
            "CallStatus": "in-progress",
            **(form or {}),
        }
        full = {k: v for k, v in full.items() if v is not None}
        signed = signature if signature is not None else sign(PUBLIC + path, full)
        return self.http.post(path, data=full, headers={"X-Twilio-Signature": signed})

    def keys(self, message_id: int, question: str, digits: str, **more: str) -> TestResponse:
        """Keys pressed at ``question`` (``digits`` as Twilio posts them, without #)."""
        form = {"Digits": digits, "FinishedOnKey": "", "msg": "Gather End", **more}
        return self.post(f"/voice/keys/{message_id}/{question}", form)


@pytest.fixture
def twilio(client: FlaskClient) -> Twilio:
    return Twilio(client, call_sid())


def placed_call(
    session: Session,
    client: Client,
    contact: Contact,
    kind: MessageKind,
    *,
    appointment: Appointment | None = None,
    sid: str | None = None,
    status: str = "sent",
) -> OutboundMessage:
    """A reminder or check-in call the dispatcher placed a minute ago (committed)."""
    start = appointment.starts_at if appointment else None
    draft = outbox.Draft(
        idempotency_key=f"test:call:{kind}:{contact.id}:{next(_sids)}",
        kind=kind,
        to_phone=contact.phone,
        body=f"a {kind} call",
        send_at=NOW - timedelta(minutes=1),
        client_id=client.id,
        contact_id=contact.id,
        appointment_id=appointment.id if appointment else None,
        planned_start=start,
        channel=Channel.VOICE,
    )
    [message_id] = outbox.enqueue(session, [draft], NOW)
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    row.status, row.sent_at, row.provider_sid = status, NOW, sid or call_sid()
    session.commit()
    return row


@dataclass
class Arranged:
    """A client who agreed to calls, with a session ahead and one just past."""

    client: Client
    contact: Contact
    ahead: Appointment
    past: Appointment


def arrange(
    session: Session,
    *,
    name: str = "Maria Lopez",
    language: str = "en",
    caregiver: str | None = None,
) -> Arranged:
    """A client (or, with ``caregiver``, a caregiver's phone for her) who agreed to calls."""
    client, contact = factories.client_with_phone(
        session, name, PHONE if caregiver is None else "+16175550999", language=language
    )
    if caregiver is not None:
        contact = Contact(name=caregiver, relation="mother", phone=PHONE)
        client.contacts.append(contact)
    contact.channel = "voice"  # called: the dispatcher calls no contact on texts
    # Agreed a day ago on the real clock, which the webhooks read.
    agreed = datetime.now(UTC) - timedelta(days=1)
    call_consent.record_consent(session, None, PHONE, agreed, via="test")
    # Thursday 10:00 in New York.
    ahead = factories.appointment(session, client, datetime(2027, 3, 4, 15, 0, tzinfo=UTC))
    past = factories.appointment(session, client, NOW - timedelta(days=1), status="completed")
    session.commit()
    return Arranged(client, contact, ahead, past)
