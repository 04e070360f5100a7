"""A call of unknown outcome that the look-up finds has its end recorded by the calls' rules.

Twilio reports how a call ended to ``/voice/status`` once, soon after it ends. When the
create's answer was lost (a 500 after the call was placed, a timeout), the call's row has
no sid yet, so that report finds no message and is dropped; the call is found by the
dispatcher's look-up a minute later, often after it ended. The look-up then takes the
status Twilio lists for the call: it must be read as a call's (completed by a person:
delivered; busy or no answer: undelivered, and called again as the retry rules allow), not
as a text's, whose statuses a call never has. Here the reports go to a page that drops
them, as the practice's does for a sid it does not know.

A report that comes while the look-up is under way (it read the list before the call
ended, and has not recorded the sid yet) waits for the look-up, as it waits for a send in
flight, and is then applied (``outbox.wait_for_sends_to``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import delivery
from service.db import get_db
from service.domain import follow_up_calls
from service.domain.vocabulary import Channel, MessageKind
from service.models import OutboundMessage
from service.sms.gateway import SentRecord
from service.sms.voice_gateway import TwilioVoiceGateway
from tests import factories
from tests.app_server import app_server
from tests.fake_twilio import FakeTwilio, Reply
from tests.fake_voice import Answer
from tests.sms.test_voice_gateway import PRACTICE, callee_app
from tests.test_dispatch_voice import TO, dispatcher_for, enqueue_call, noon_zone, real_clock, row
from tests.voice.conftest import Twilio, voice_config

LOST = Reply(status=500, accept_then_hang=True)  # placed, then the create's answer was a 500


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def gateways(fake: FakeTwilio) -> Iterator[dict[Channel, object]]:
    with app_server(callee_app([])) as public_url:
        calls = TwilioVoiceGateway(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number=PRACTICE,
            public_base_url=public_url,
            api_base_url=fake.base_url,
            timeout=0.5,
        )
        yield {Channel.VOICE: calls}
        calls.close()


@pytest.mark.parametrize(
    ("outcome", "status", "recorded"),
    [
        ("human", "completed", "delivered"),
        ("machine_start", "completed", "undelivered"),  # not a reminder: nothing was left
        ("busy", "busy", "undelivered"),
        ("no-answer", "no-answer", "undelivered"),
        ("failed", "failed", "failed"),
    ],
)
def test_a_call_found_by_the_look_up_after_it_ended_records_how_it_ended(
    make_app: Callable[..., Flask],
    gateways: dict[Channel, object],
    fake: FakeTwilio,
    outcome: str,
    status: str,
    recorded: str,
) -> None:
    app, dispatcher, clock = real_clock(make_app, gateways)
    with get_db(app).session() as session:
        client, _ = factories.client_with_phone(session, timezone=noon_zone())
        call_id = enqueue_call(session, client, clock[0])
        fake.voice.script(Answer(outcome=outcome, create=LOST))
        assert dispatcher.run()["unknown"] == 1
        [call] = fake.voice.wait_for_calls(1)  # ended, its report dropped: no sid yet
        assert call.status == status
        clock[0] += timedelta(minutes=2)
        assert dispatcher.run()["settled_sent"] == 1
        message = row(session, call_id)
        assert (message.status, message.provider_sid) == (recorded, call.sid)
        assert len(fake.voice.creates) == 1


def test_a_busy_reminder_call_found_by_the_look_up_is_called_again(
    make_app: Callable[..., Flask], gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    app, dispatcher, clock = real_clock(make_app, gateways)
    with get_db(app).session() as session:
        client, contact = factories.client_with_phone(session, timezone=noon_zone())
        contact.channel = Channel.VOICE
        start = clock[0] + timedelta(hours=5)
        appointment = factories.appointment(session, client, start)
        call_id = enqueue_call(
            session,
            client,
            clock[0],
            kind=MessageKind.REMINDER,
            appointment_id=appointment.id,
            contact_id=contact.id,
            planned_start=start,
        )
        fake.voice.script(Answer(outcome="busy", create=LOST))
        assert dispatcher.run()["unknown"] == 1
        fake.voice.wait_for_calls(1)
        clock[0] += timedelta(minutes=2)
        assert dispatcher.run()["settled_sent"] == 1
        assert row(session, call_id).status == "undelivered"
        again = session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.idempotency_key.startswith(follow_up_calls.retries_of(call_id))
            )
        ).all()
        assert [(m.channel, m.status, m.kind) for m in again] == [("voice", "planned", "reminder")]
        assert again[0].send_at > clock[0]  # 30 minutes after the busy line, not at once


class ListedBeforeTheEnd:
    """The voice gateway, whose call list shows the call still in progress (read a moment
    before it ended), and whose look-up lets ``during`` run while it is under way."""

    simulated = False

    def __init__(self, inner: TwilioVoiceGateway, during: Callable[[], None]) -> None:
        self.inner, self.during = inner, during

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        return self.inner.send(to, body, message_id=message_id)

    def find_sent(self, to: str, since: datetime) -> list[SentRecord]:
        records = [replace(r, status="in-progress") for r in self.inner.find_sent(to, since)]
        self.during()
        return records


def test_a_report_that_comes_while_its_call_is_looked_up_is_applied_after_it(
    make_app: Callable[..., Flask],
    gateways: dict[Channel, object],
    fake: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On PostgreSQL the report waits for the look-up's lock of the row; on SQLite, for the
    # one write lock the look-up holds.
    app = make_app(**voice_config())
    tried = threading.Event()  # the report looked for its sid once, and found none
    apply = delivery.apply_call_status

    def applying(*args: Any, **kwargs: Any) -> str:
        outcome = apply(*args, **kwargs)
        tried.set()
        return outcome

    monkeypatch.setattr(delivery, "apply_call_status", applying)
    reports: list[int] = []
    webhook = threading.Thread()

    def report_busy() -> None:
        # Twilio's report of the call's end comes while the look-up holds the row.
        twilio = Twilio(app.test_client(), sid=fake.voice.calls[0].sid)
        nonlocal webhook
        webhook = threading.Thread(
            target=lambda: reports.append(
                twilio.post("/voice/status", {"CallStatus": "busy", "To": TO}).status_code
            )
        )
        webhook.start()
        assert tried.wait(10)
        webhook.join(timeout=2)  # it waits for the look-up (or, before the fix, was dropped)

    voice = ListedBeforeTheEnd(gateways[Channel.VOICE], report_busy)  # type: ignore[arg-type]
    clock = [datetime.now(UTC)]
    dispatcher = dispatcher_for(app, {Channel.VOICE: voice}, clock)
    with get_db(app).session() as session:
        client, _ = factories.client_with_phone(session, phone=TO, timezone=noon_zone())
        call_id = enqueue_call(session, client, clock[0])
        fake.voice.script(Answer(outcome="busy", create=LOST))
        assert dispatcher.run()["unknown"] == 1
        fake.voice.wait_for_calls(1)
        clock[0] += timedelta(minutes=2)
        assert dispatcher.run()["settled_sent"] == 1
        webhook.join()
        assert reports == [204]
        assert row(session, call_id).status == "undelivered"
