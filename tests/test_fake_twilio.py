"""The local Twilio's stalls that other tests rely on: none of them races the wall clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from service.sms.gateway import SendError, TwilioGateway
from tests.fake_twilio import FakeTwilio, Reply

TO = "+16175550123"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def gateway_to(fake: FakeTwilio, timeout: float) -> TwilioGateway:
    return fake.gateway(status_callback=None, timeout=timeout)


def wait_until(condition: Callable[[], object], what: str) -> None:
    """Poll ``condition``; a deadline only so that a broken fake fails instead of hanging."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.01)


def test_a_request_without_an_answer_is_never_accepted(fake: FakeTwilio) -> None:
    gateway = gateway_to(fake, timeout=0.3)
    fake.script(Reply(no_answer=True))
    with pytest.raises(SendError) as raised:
        gateway.send(TO, "Lost on the way")
    assert raised.value.unknown_outcome
    # The server lets go of the connection once the client has closed it, accepting nothing:
    # however long the client took to give up, the text never arrived.
    wait_until(lambda: fake.done == 1, "the server finished with the request")
    assert fake.sent == []
    assert [m["Body"] for m in fake.messages] == ["Lost on the way"]
    sid = gateway.send(TO, "The next one")  # the script is used up: a normal answer
    assert [(m["Body"], m["Sid"]) for m in fake.sent] == [("The next one", sid)]
    gateway.close()


def test_an_accepted_text_whose_answer_is_lost(fake: FakeTwilio) -> None:
    gateway = gateway_to(fake, timeout=0.3)
    fake.script(Reply(accept_then_hang=True, no_answer=True))
    with pytest.raises(SendError) as raised:
        gateway.send(TO, "Accepted, never answered")
    assert raised.value.unknown_outcome
    wait_until(lambda: fake.done == 1, "the server finished with the request")
    assert [m["Body"] for m in fake.sent] == ["Accepted, never answered"]
    gateway.close()


def test_a_held_answer_waits_for_the_test(fake: FakeTwilio) -> None:
    gateway = gateway_to(fake, timeout=30)
    gate = threading.Event()
    fake.script(Reply(until=gate))
    sids: list[str] = []
    sender = threading.Thread(target=lambda: sids.append(gateway.send(TO, "Held")))
    sender.start()
    wait_until(lambda: fake.messages, "the request reached the server")
    assert sender.is_alive() and fake.sent == [] and fake.done == 0
    gate.set()
    sender.join(timeout=30)
    assert not sender.is_alive()
    assert [(m["Body"], m["Sid"]) for m in fake.sent] == [("Held", sids[0])]
    gateway.close()


def test_stopping_ends_every_stall_without_accepting_anything() -> None:
    fake = FakeTwilio().start()
    gateway = gateway_to(fake, timeout=0.3)
    fake.script(Reply(until=threading.Event()), Reply(no_answer=True))
    for body in ("Held forever", "Never answered"):
        with pytest.raises(SendError):
            gateway.send(TO, body)
    gateway.close()
    stopping = threading.Thread(target=fake.stop)
    stopping.start()
    stopping.join(timeout=30)
    assert not stopping.is_alive(), "stop() waited on a stalled request"
    assert fake.sent == [] and fake.done == 2
