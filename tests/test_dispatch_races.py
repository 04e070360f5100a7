"""Cancellations and opt-outs racing the dispatcher: a text never leaves after either."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from service import accounts, consent
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import Appointment, OutboundMessage
from service.sms.gateway import TwilioGateway
from tests import factories
from tests.fake_twilio import FakeTwilio, Reply

NY = ZoneInfo("America/New_York")


class TimedGateway(TwilioGateway):
    """The Twilio gateway, noting when each send came back."""

    returned_at: float = 0.0

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        sid = super().send(to, body, message_id=message_id)
        self.returned_at = time.monotonic()
        return sid


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    # The real clock runs here (the API uses it); keep quiet hours far from now.
    hour = (datetime.now(NY).hour + 12) % 24
    return make_app(QUIET_HOURS=f"{hour:02d}:00-{hour:02d}:30")


@pytest.fixture
def gateway(fake: FakeTwilio) -> Iterator[TimedGateway]:
    gw = TimedGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number="+16175550100",
        messaging_service_sid=None,
        api_base_url=fake.base_url,
        timeout=5,
    )
    yield gw
    gw.close()


def due_reminder(session: Session) -> tuple[Appointment, OutboundMessage]:
    client, contact = factories.client_with_phone(session)
    start = datetime.now(UTC) + timedelta(hours=6)
    appt = factories.appointment(session, client, start)
    key = f"reminder:{appt.id}:{contact.id}:86400:{int(start.timestamp())}"
    row = factories.message(
        session,
        client,
        contact,
        send_at=datetime.now(UTC) - timedelta(seconds=1),
        kind="reminder",
        key=key,
        appointment_id=appt.id,
    )
    session.commit()
    return appt, row


def cancel_through_the_api(app: Flask, appointment_id: int) -> int:
    with get_db(app).session() as session:
        user = accounts.create_user(
            session, settings_of(app), "ana@practice.test", "Ana", "long-enough-pw", admin=True
        )
        token = accounts.create_token(session, user)
        session.commit()
    response = app.test_client().patch(
        f"/api/v1/appointments/{appointment_id}",
        json={"status": "cancelled"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


def test_a_cancellation_between_claim_and_send_stops_the_text(
    app: Flask, session: Session, gateway: TimedGateway, fake: FakeTwilio
) -> None:
    appt, row = due_reminder(session)
    dispatcher = Dispatcher(get_db(app), settings_of(app), {Channel.SMS: gateway})
    [(message_id, status)] = dispatcher.claim("token")
    assert cancel_through_the_api(app, appt.id) == 200
    assert dispatcher.handle(message_id, status, "token") == "cancelled"
    assert fake.messages == []
    session.expire_all()
    assert session.get(OutboundMessage, row.id).error_message == "appointment cancelled"  # type: ignore[union-attr]


def test_an_opt_out_between_claim_and_send_stops_the_text(
    app: Flask, session: Session, gateway: TimedGateway, fake: FakeTwilio
) -> None:
    _, row = due_reminder(session)
    dispatcher = Dispatcher(get_db(app), settings_of(app), {Channel.SMS: gateway})
    [(message_id, status)] = dispatcher.claim("token")
    with get_db(app).session() as other:
        consent.opt_out(other, row.to_phone, datetime.now(UTC))
        other.commit()
    assert dispatcher.handle(message_id, status, "token") == "skipped"
    assert fake.messages == []


def test_a_cancellation_during_the_send_waits_for_it(
    app: Flask, session: Session, gateway: TimedGateway, fake: FakeTwilio
) -> None:
    appt, row = due_reminder(session)
    answer = threading.Event()
    fake.script(Reply(until=answer))  # the provider answers when the test lets it
    dispatcher = Dispatcher(get_db(app), settings_of(app), {Channel.SMS: gateway})
    outcome: list[object] = []
    sender = threading.Thread(target=lambda: outcome.append(dispatcher.run()))
    sender.start()
    deadline = time.monotonic() + 30
    while not fake.messages:  # the request reached the provider, which holds its answer
        assert time.monotonic() < deadline and sender.is_alive(), outcome
        time.sleep(0.01)
    assert gateway.returned_at == 0.0, "the send must still be in flight"
    # The answer comes a little after the cancellation has started: it must wait for it. (On
    # a slow day the cancellation may start later; then it proves less, but never fails.)
    threading.Timer(0.5, answer.set).start()
    assert cancel_through_the_api(app, appt.id) == 200
    cancelled_at = time.monotonic()
    sender.join(timeout=10)
    assert outcome and outcome[0]["sent"] == 1, outcome  # type: ignore[index]
    # The cancellation could only commit once the text was out and recorded as sent:
    # it came after the text, not before it.
    assert gateway.returned_at and cancelled_at >= gateway.returned_at
    session.expire_all()
    assert session.get(OutboundMessage, row.id).status == "sent"  # type: ignore[union-attr]
    assert session.get(Appointment, appt.id).status == "cancelled"  # type: ignore[union-attr]
    assert len(fake.sent) == 1
