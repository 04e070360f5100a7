"""The voice gateway: the real twilio SDK placing calls on the local Twilio's Calls resource."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, Response

from service.config import settings_of
from service.domain.vocabulary import Channel
from service.sms import MATCHERS, make_gateways
from service.sms import voice_gateway as voice
from service.sms.gateway import SendError, SentRecord, SimulatorGateway, TwilioGateway
from service.sms.voice_gateway import (
    SimulatedVoiceGateway,
    TwilioVoiceGateway,
    UnplaceableVoiceGateway,
)
from tests.app_server import app_server
from tests.fake_twilio import FakeTwilio, Reply
from tests.fake_voice import Answer

TO = "+16175550123"
PRACTICE = "+16175550100"


def callee_app(hits: list[str]) -> Flask:
    """The practice's voice pages as far as a placed call needs them: a page that hangs up
    and a status callback that is accepted. It keeps the path of each request."""
    app = Flask("callee")

    @app.post("/voice/call/<int:message_id>")
    def call(message_id: int) -> Response:
        hits.append(f"/voice/call/{message_id}")
        return Response("<Response><Hangup/></Response>", mimetype="text/xml")

    @app.post("/voice/status")
    def status() -> tuple[str, int]:
        hits.append("/voice/status")
        return "", 204

    return app


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def hits() -> list[str]:
    return []


@pytest.fixture
def public_url(hits: list[str]) -> Iterator[str]:
    with app_server(callee_app(hits)) as url:
        yield url


def voice_gateway(
    fake: FakeTwilio, public_url: str, *, timeout: float = 0.5, api: str = ""
) -> TwilioVoiceGateway:
    return TwilioVoiceGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=PRACTICE,
        public_base_url=public_url,
        api_base_url=api or fake.base_url,
        timeout=timeout,
    )


@pytest.fixture
def gateway(fake: FakeTwilio, public_url: str) -> Iterator[TwilioVoiceGateway]:
    gw = voice_gateway(fake, public_url)
    yield gw
    gw.close()


def send_error(gateway: TwilioVoiceGateway) -> SendError:
    with pytest.raises(SendError) as raised:
        gateway.send(TO, "words", message_id=7)
    return raised.value


def test_a_call_is_placed_with_its_page_status_callback_and_machine_detection(
    gateway: TwilioVoiceGateway, fake: FakeTwilio, public_url: str, hits: list[str]
) -> None:
    sid = gateway.send(TO, "See you tomorrow at 10:00", message_id=42)
    [call] = fake.voice.wait_for_calls(1)
    assert sid == call.sid and sid.startswith("CA")
    form = call.form
    assert (form["To"], form["From"]) == (TO, PRACTICE)
    assert form["Url"] == f"{public_url}/voice/call/42"
    assert form["StatusCallback"] == f"{public_url}/voice/status"
    assert (form["MachineDetection"], form["Timeout"]) == ("Enable", "25")
    assert "Body" not in form  # the page reads the message, the call carries no words
    assert hits == ["/voice/call/42", "/voice/status"]


def test_a_call_needs_its_message_id(gateway: TwilioVoiceGateway, fake: FakeTwilio) -> None:
    with pytest.raises(ValueError, match="id of its message"):
        gateway.send(TO, "words")
    assert fake.voice.creates == []


@pytest.mark.parametrize("code", [21211, 21215, 21216, 21217])
def test_a_refused_call_is_permanent_with_its_code(
    gateway: TwilioVoiceGateway, fake: FakeTwilio, code: int
) -> None:
    fake.voice.script(Reply(status=400, code=code))
    error = send_error(gateway)
    assert (error.permanent, error.unknown_outcome, error.code) == (True, False, code)
    assert fake.voice.calls == []


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (503, None)])
def test_throttling_and_a_turned_away_call_are_transient(
    gateway: TwilioVoiceGateway, fake: FakeTwilio, status: int, code: int | None
) -> None:
    fake.voice.script(Reply(status=status, code=code))
    error = send_error(gateway)
    assert (error.permanent, error.unknown_outcome, error.status) == (False, False, status)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_twilio_is_transient(fake: FakeTwilio, public_url: str) -> None:
    gateway = voice_gateway(fake, public_url, api=f"http://127.0.0.1:{unused_port()}")
    error = send_error(gateway)
    assert (error.permanent, error.unknown_outcome) == (False, False)


@pytest.mark.parametrize(
    "reply",
    [Reply(status=500), Reply(no_answer=True), Reply(accept_then_hang=True, no_answer=True)],
)
def test_a_server_error_or_a_lost_answer_is_of_unknown_outcome(
    gateway: TwilioVoiceGateway, fake: FakeTwilio, reply: Reply
) -> None:
    fake.voice.script(reply)
    error = send_error(gateway)
    assert (error.permanent, error.unknown_outcome) == (False, True)


def test_find_sent_finds_a_queued_call_to_the_number_only(
    gateway: TwilioVoiceGateway, fake: FakeTwilio, public_url: str
) -> None:
    held = threading.Event()
    fake.voice.script_for(TO, Answer(hold=held))
    since = datetime.now(UTC)
    sid = gateway.send(TO, "words", message_id=1)
    gateway.send("+16175550999", "words", message_id=2)
    # A call to the same number from another of the account's numbers is not the practice's.
    fake.voice.client().calls.create(
        to=TO, from_="+16175550155", url=f"{public_url}/voice/call/3", timeout=25
    )
    [found] = gateway.find_sent(TO, since)  # still queued: it has not started
    assert (found.sid, found.to, found.status, found.body) == (sid, TO, "queued", None)
    assert found.date_created is not None
    held.set()
    fake.voice.wait_for_calls(3)
    assert gateway.find_sent(TO, since + timedelta(minutes=5)) == []


def test_find_sent_pages_through_the_window(
    gateway: TwilioVoiceGateway, fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(voice, "FIND_SENT_LIMIT", 1)
    since = datetime.now(UTC)
    sids = {gateway.send(TO, "words", message_id=i) for i in range(3)}
    fake.voice.wait_for_calls(3)
    assert {r.sid for r in gateway.find_sent(TO, since)} == sids


def test_find_sent_fails_transient_when_twilio_is_unreachable(
    fake: FakeTwilio, public_url: str
) -> None:
    gateway = voice_gateway(fake, public_url, api=f"http://127.0.0.1:{unused_port()}")
    with pytest.raises(SendError) as raised:
        gateway.find_sent(TO, datetime.now(UTC))
    assert not raised.value.permanent


def test_the_simulator_remembers_calls_and_places_none(fake: FakeTwilio) -> None:
    gateway = SimulatedVoiceGateway()
    since = datetime.now(UTC) - timedelta(seconds=1)
    sid = gateway.send(TO, "words", message_id=5)
    assert sid.startswith("CA") and gateway.simulated
    assert [r.sid for r in gateway.find_sent(TO, since)] == [sid]
    assert gateway.find_sent("+16175550999", since) == []
    assert fake.voice.creates == []


def test_calls_that_cannot_be_placed_fail_permanently() -> None:
    gateway = UnplaceableVoiceGateway("PUBLIC_BASE_URL is not set")
    with pytest.raises(SendError, match="PUBLIC_BASE_URL is not set") as raised:
        gateway.send(TO, "words", message_id=1)
    assert raised.value.permanent and not gateway.simulated
    assert gateway.find_sent(TO, datetime.now(UTC)) == []


def test_a_text_is_known_by_its_words_and_a_call_by_being_a_call() -> None:
    now = datetime.now(UTC)
    text = SentRecord("SM1", TO, "sent", now, "See you")
    call = SentRecord("CA1", TO, "queued", now, None)
    assert MATCHERS[Channel.SMS](text, "See you") and not MATCHERS[Channel.SMS](text, "Hi")
    assert MATCHERS[Channel.VOICE](call, "any words")


@pytest.mark.parametrize(
    ("config", "sms", "calls"),
    [
        ({}, SimulatorGateway, SimulatedVoiceGateway),
        ({"PUBLIC_BASE_URL": ""}, TwilioGateway, UnplaceableVoiceGateway),
        (
            {"TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32},
            TwilioGateway,
            UnplaceableVoiceGateway,
        ),
        ({"PUBLIC_BASE_URL": "https://touchbase.example"}, TwilioGateway, TwilioVoiceGateway),
    ],
)
def test_every_channel_gets_a_gateway(
    make_app: Callable[..., Flask], config: dict[str, str], sms: type, calls: type
) -> None:
    twilio = {
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_FROM_NUMBER": PRACTICE,
    }
    settings = settings_of(make_app(**({**twilio, **config} if config else {})))
    gateways: dict[Channel, Any] = make_gateways(settings)
    assert set(gateways) == {Channel.SMS, Channel.VOICE}
    assert isinstance(gateways[Channel.SMS], sms)
    assert isinstance(gateways[Channel.VOICE], calls)
    for gateway in gateways.values():
        if hasattr(gateway, "close"):
            gateway.close()
