"""Status callbacks: forward only, duplicates harmless, error codes acted on."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import Alert, OutboundMessage, PhoneNumber
from service.sms.gateway import TwilioGateway
from tests import factories
from tests.fake_twilio import FakeTwilio, Reply
from tests.webhooks.conftest import PUBLIC, Twilio, sign

NOW = datetime.now(UTC)


def a_sent_text(session: Session) -> OutboundMessage:
    client, contact = factories.client_with_phone(session)
    row = factories.sent(session, client, contact, kind="reminder", sent_at=NOW)
    row.status = "sent"
    session.commit()
    return row


def callback(twilio: Twilio, sid: str, status: str, code: str | None = None) -> int:
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "1" * 32}
    if code:
        form["ErrorCode"] = code
    return twilio.post("/sms/status", form).status_code


def status_of(session: Session, row: OutboundMessage) -> tuple[str, int | None]:
    session.expire_all()
    fresh = session.get(OutboundMessage, row.id)
    assert fresh is not None
    return fresh.status, fresh.error_code


def test_delivered_is_recorded_and_never_goes_back(twilio: Twilio, session: Session) -> None:
    row = a_sent_text(session)
    assert callback(twilio, row.provider_sid or "", "delivered") == 204
    assert status_of(session, row) == ("delivered", None)
    for late in ("sent", "queued", "sending", "delivered", "undelivered"):
        assert callback(twilio, row.provider_sid or "", late) == 204
    assert status_of(session, row) == ("delivered", None)
    assert session.scalars(select(Alert)).all() == []


@pytest.mark.parametrize(
    ("code", "alert", "opted_out", "invalid"),
    [
        ("21610", "opt_out", True, False),
        ("30005", "invalid_number", False, True),
        ("30006", "invalid_number", False, True),
        ("30004", "delivery_failed", False, False),
    ],
)
def test_an_error_code_is_acted_on_once(
    twilio: Twilio, session: Session, code: str, alert: str, opted_out: bool, invalid: bool
) -> None:
    row = a_sent_text(session)
    for _ in range(2):  # a repeated callback changes nothing more
        assert callback(twilio, row.provider_sid or "", "undelivered", code) == 204
    assert status_of(session, row) == ("undelivered", int(code))
    number = session.get(PhoneNumber, row.to_phone)
    assert bool(number and number.opted_out) is opted_out
    assert bool(number and number.invalid_at) is invalid
    assert [a.kind for a in session.scalars(select(Alert))] == [alert]


def test_a_forged_callback_changes_nothing(twilio: Twilio, session: Session) -> None:
    row = a_sent_text(session)
    form = {"MessageSid": row.provider_sid or "", "MessageStatus": "failed"}
    response = twilio.post(
        "/sms/status", form, signature=sign(PUBLIC + "/sms/status", form, "nope")
    )
    assert response.status_code == 403
    assert status_of(session, row) == ("sent", None)


def test_an_unknown_sid_or_missing_fields(twilio: Twilio) -> None:
    assert callback(twilio, "SMnobody", "delivered") == 204
    assert twilio.post("/sms/status", {"MessageSid": "SMx"}).status_code == 400


def test_a_callback_racing_the_send_waits_for_its_sid(
    app: Flask, twilio: Twilio, session: Session
) -> None:
    # Twilio may call back before the dispatcher has recorded the sid it was just given:
    # the callback must wait for that send to be recorded, not be dropped.
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=datetime.now(UTC))
    session.commit()
    counts: Counter[str] = Counter()
    with FakeTwilio() as fake:
        gateway = TwilioGateway(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number="+16175550100",
            messaging_service_sid=None,
            api_base_url=fake.base_url,
            status_callback=PUBLIC + "/sms/status",
            timeout=10.0,
        )
        dispatcher = Dispatcher(get_db(app), settings_of(app), {Channel.SMS: gateway})
        answer = threading.Event()
        fake.script(Reply(accept_then_hang=True, until=answer))  # accepted, answered later
        sending = threading.Thread(target=lambda: counts.update(dispatcher.run()))
        sending.start()
        deadline = time.monotonic() + 10
        while not fake.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        sid = fake.sent[0]["Sid"]
        form = {"MessageSid": sid, "MessageStatus": "delivered", "To": row.to_phone}
        # The answer comes a little after the callback has started: it must wait for it.
        threading.Timer(0.3, answer.set).start()
        assert twilio.post("/sms/status", form).status_code == 204
        sending.join(10)
        gateway.close()
    assert counts["sent"] == 1
    assert status_of(session, row) == ("delivered", None)
