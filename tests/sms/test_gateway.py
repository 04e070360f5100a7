"""The gateways, with the real twilio SDK talking HTTP to a local Twilio-compatible server."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.sms.gateway import (
    INVALID_NUMBER_CODES,
    OPTED_OUT_CODES,
    SendError,
    SimulatorGateway,
    TwilioGateway,
)
from tests.fake_twilio import FakeTwilio, Reply, serve

TO = "+15005550006"
FROM = "+15005550001"
SERVICE = "MG" + "a" * 32
CALLBACK = "https://touchbase.example/sms/status"
TIMEOUT = 0.5

MakeGateway = Callable[..., TwilioGateway]


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    yield from serve()


@pytest.fixture
def make_gateway(fake: FakeTwilio) -> Iterator[MakeGateway]:
    made: list[TwilioGateway] = []

    def make(**overrides: Any) -> TwilioGateway:
        options: dict[str, Any] = {
            "account_sid": fake.account_sid,
            "auth_token": fake.auth_token,
            "from_number": FROM,
            "messaging_service_sid": None,
            "api_base_url": fake.base_url,
            "status_callback": CALLBACK,
            "timeout": TIMEOUT,
        }
        gateway = TwilioGateway(**{**options, **overrides})
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


@pytest.fixture
def gateway(make_gateway: MakeGateway) -> TwilioGateway:
    return make_gateway()


def send_error(gateway: TwilioGateway, to: str = TO) -> SendError:
    with pytest.raises(SendError) as caught:
        gateway.send(to, "See you tomorrow at 10:00")
    return caught.value


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_it_returns_the_sid_twilio_assigned(gateway: TwilioGateway, fake: FakeTwilio) -> None:
    sid = gateway.send(TO, "See you tomorrow at 10:00")

    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)
    [seen] = fake.sent
    assert seen["Sid"] == sid
    assert seen["To"] == TO
    assert seen["From"] == FROM
    assert seen["Body"] == "See you tomorrow at 10:00"
    assert seen["StatusCallback"] == CALLBACK


def test_it_sends_from_the_messaging_service_rather_than_the_number(
    make_gateway: MakeGateway, fake: FakeTwilio
) -> None:
    make_gateway(messaging_service_sid=SERVICE).send(TO, "Hello")

    [seen] = fake.sent
    assert seen["MessagingServiceSid"] == SERVICE
    assert "From" not in seen


def test_it_leaves_out_the_status_callback_when_none_is_set(
    make_gateway: MakeGateway, fake: FakeTwilio
) -> None:
    make_gateway(status_callback=None).send(TO, "Hello")

    assert "StatusCallback" not in fake.sent[0]


@pytest.mark.parametrize("code", [21211, 21610, 21614])
def test_it_marks_a_refused_recipient_permanent_with_twilios_code(
    gateway: TwilioGateway, fake: FakeTwilio, code: int
) -> None:
    fake.script(Reply(status=400, code=code))

    error = send_error(gateway)

    assert error.permanent
    assert not error.unknown_outcome
    assert (error.code, error.status) == (code, 400)
    assert code in OPTED_OUT_CODES | INVALID_NUMBER_CODES
    assert fake.sent == []


def test_it_sorts_opt_outs_apart_from_invalid_numbers() -> None:
    assert 21610 in OPTED_OUT_CODES
    assert {21211, 21614} <= INVALID_NUMBER_CODES
    assert not OPTED_OUT_CODES & INVALID_NUMBER_CODES


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (503, 20503)])
def test_it_marks_rate_limits_and_unavailability_transient(
    gateway: TwilioGateway, fake: FakeTwilio, status: int, code: int | None
) -> None:
    fake.script(Reply(status=status, code=code))

    error = send_error(gateway)

    assert not error.permanent
    assert not error.unknown_outcome
    assert (error.status, error.code) == (status, code)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_server_error_on_a_send_may_have_sent_it(
    gateway: TwilioGateway, fake: FakeTwilio, status: int
) -> None:
    fake.script(Reply(status=status))

    error = send_error(gateway)

    assert error.unknown_outcome and not error.permanent
    assert error.status == status


def test_it_leaves_retrying_to_the_caller(gateway: TwilioGateway, fake: FakeTwilio) -> None:
    fake.script(Reply(status=500), Reply(status=503))

    send_error(gateway)

    assert len(fake.messages) == 1


def test_it_marks_bad_credentials_permanent(make_gateway: MakeGateway) -> None:
    error = send_error(make_gateway(auth_token="wrong"))

    assert error.permanent
    assert (error.status, error.code) == (401, 20003)


def test_it_reports_an_unknown_outcome_when_twilio_answers_too_late(
    gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    fake.script(Reply(hang=5.0))
    started = time.monotonic()

    error = send_error(gateway)

    assert error.unknown_outcome
    assert not error.permanent
    assert time.monotonic() - started < 3 * TIMEOUT
    assert len(fake.messages) == 1  # no resend inside the SDK either


def test_it_marks_connection_refused_transient(make_gateway: MakeGateway) -> None:
    gateway = make_gateway(api_base_url=f"http://127.0.0.1:{unused_port()}")

    error = send_error(gateway)

    assert not error.permanent
    assert not error.unknown_outcome
    assert error.status is None


def test_find_sent_finds_a_text_accepted_before_the_timeout(
    gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    since = datetime.now(UTC)
    gateway.send("+15005550009", "For someone else")
    fake.script(Reply(accept_then_hang=True, hang=5.0))
    assert send_error(gateway).unknown_outcome

    [found] = gateway.find_sent(TO, since)

    assert found.sid == fake.sent[-1]["Sid"]
    assert (found.to, found.status, found.body) == (TO, "queued", "See you tomorrow at 10:00")
    assert found.date_created is not None
    assert found.date_created >= since.replace(microsecond=0)


def test_find_sent_skips_texts_from_before_since(gateway: TwilioGateway) -> None:
    gateway.send(TO, "Old news")

    assert gateway.find_sent(TO, datetime.now(UTC) + timedelta(minutes=5)) == []


def test_find_sent_reads_naive_times_as_utc(gateway: TwilioGateway) -> None:
    sid = gateway.send(TO, "Hello")
    naive_utc = (datetime.now(UTC) - timedelta(minutes=5)).replace(tzinfo=None)

    assert [r.sid for r in gateway.find_sent(TO, naive_utc)] == [sid]


def test_find_sent_fails_transient_when_twilio_is_unreachable(
    make_gateway: MakeGateway,
) -> None:
    gateway = make_gateway(api_base_url=f"http://127.0.0.1:{unused_port()}")

    with pytest.raises(SendError) as caught:
        gateway.find_sent(TO, datetime.now(UTC))

    assert not caught.value.permanent
    assert not caught.value.unknown_outcome


def test_find_sent_marks_bad_credentials_permanent(make_gateway: MakeGateway) -> None:
    with pytest.raises(SendError) as caught:
        make_gateway(auth_token="wrong").find_sent(TO, datetime.now(UTC))

    assert caught.value.permanent
    assert caught.value.status == 401


def test_it_needs_a_sender() -> None:
    with pytest.raises(ValueError, match="from_number or a messaging_service_sid"):
        TwilioGateway(
            account_sid="AC" + "0" * 32,
            auth_token="token",
            from_number=None,
            messaging_service_sid=None,
        )


def test_simulator_returns_distinct_sids_without_touching_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the simulator tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    simulator = SimulatorGateway()
    since = datetime.now(UTC)

    sids = [simulator.send(TO, f"Reminder {n}") for n in range(3)]
    simulator.send("+15005550009", "For someone else")

    assert simulator.simulated
    assert len(set(sids)) == 3
    assert all(re.fullmatch(r"SM[0-9a-f]{32}", sid) for sid in sids)
    assert [r.sid for r in simulator.find_sent(TO, since)] == sids[::-1]
    assert simulator.find_sent(TO, since + timedelta(minutes=5)) == []


def test_only_the_simulator_calls_itself_simulated() -> None:
    assert SimulatorGateway.simulated
    assert not TwilioGateway.simulated
