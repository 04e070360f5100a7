"""Exactly one call per planned call, and one text per text, while Twilio misbehaves (the
spell of tests/reliability/test_exactly_once.py: 500, 429, 503, stalls past the timeout,
calls it placed but answered badly) and while a clock process is killed mid-run.

Twilio's side is counted at the fake: a call by the message id its ``Url`` ends with (every
create, placed or not, and every call placed), a text by recipient and body. Each call goes
to a number of its own (which gets one text as well): two calls of unknown outcome to one
number cannot be told apart (service/sms/voice_gateway.py), so only distinct numbers let
the test name each call's message. The calls are answered by a person who presses nothing:
they fetch their TwiML from the app itself, served over HTTP, and report how they ended to
its ``/voice/status`` while the dispatchers run, so a placed call ends ``delivered`` (by its
report, or by the look-up of a call of unknown outcome, whose report found no sid).
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import dispatch
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain import sending
from service.domain.vocabulary import Channel
from service.models import OutboundMessage
from service.sms.voice_gateway import TwilioVoiceGateway
from tests.fake_twilio import FakeTwilio, Reply
from tests.reliability.conftest import served, statuses, wait_for
from tests.reliability.test_exactly_once import (
    MISBEHAVIOUR,
    STALL,
    TIMEOUT,
    Gateways,
    close,
    gateway_for,
    run_rounds,
)
from tests.sms.test_voice_gateway import PRACTICE
from tests.test_dispatch_processes import clock_process
from tests.test_dispatch_voice import due_mix
from tests.voice.conftest import voice_config

pytestmark = pytest.mark.slow
# Calls as fast as texts: the default of 1 a second (Twilio's) would stretch the run to
# minutes without exercising anything more; the rate has tests of its own.
FAST = {"VOICE_MAX_PER_SECOND": "1000"}
VOICE = voice_config(PUBLIC_BASE_URL="", **FAST)
LEFT = frozenset({"sent", "delivered"})  # a text stays sent, a call answered is delivered


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    """A local Twilio with the account and token the app checks signatures with."""
    with FakeTwilio(VOICE["TWILIO_ACCOUNT_SID"], VOICE["TWILIO_AUTH_TOKEN"]) as server:
        yield server


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app, checking the calls' signatures against the URL the caller reached."""
    return make_app(**VOICE)


@pytest.fixture
def public_url(app: Flask) -> Iterator[str]:
    """The app served over HTTP: the calls' pages and status callbacks."""
    with served(app) as url:
        yield url


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in test_exactly_once: back-off in tenths of seconds, the unknown-outcome wait in
    real seconds that outlast a stall (so a call Twilio placed after the client gave up is
    found by the look-up, as a minute outlasts the 10 s timeout in production)."""
    monkeypatch.setattr(dispatch, "UNKNOWN_RETRY", timedelta(seconds=STALL + 1))
    monkeypatch.setattr(
        sending, "backoff", lambda attempts, rng: timedelta(seconds=rng.uniform(0.1, 0.3))
    )


def gateways_for(fake: FakeTwilio, public_url: str, timeout: float = TIMEOUT) -> Gateways:
    """A dispatcher's gateways: texts and calls, both through the fake."""
    calls = TwilioVoiceGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=PRACTICE,
        public_base_url=public_url,
        api_base_url=fake.base_url,
        timeout=timeout,
    )
    return {Channel.SMS: gateway_for(fake, timeout), Channel.VOICE: calls}


def due_calls_and_texts(session: Session, count: int) -> None:
    """``count`` due manual messages, every other one a call (so calls meet every place of
    a spell's rotation, whose length is odd), each call to a number of its own that also
    gets the next text."""
    due_mix(session, count, calls_every=2, pairs=True)


def message_of(url: str) -> int:
    """The message a call was placed for: its ``Url`` ends with the message's id."""
    return int(url.rsplit("/", 1)[1])


def all_ended(fake: FakeTwilio) -> None:
    """Wait until Twilio is done with every create and every placed call reported its end
    (the app had answered each report before the call counts as finished)."""
    wait_for(
        lambda: fake.done == len(fake.messages) and fake.voice.done == len(fake.voice.creates),
        30,
        "the fake to finish every create",
    )
    fake.voice.wait_for_calls(len(fake.voice.calls), timeout=30)


def assert_each_exactly_once(session: Session, fake: FakeTwilio) -> Counter[int]:
    """Each message is settled: a sent one left once (a call: its one placed call's sid
    recorded, and, answered by a person, delivered), any other never, with a reason;
    nothing was posted more often than it was tried. Returns the creates posted per call."""
    all_ended(fake)
    session.expire_all()
    texts = Counter((m["To"], m["Body"]) for m in fake.sent)
    text_posts = Counter((m.get("To"), m.get("Body")) for m in fake.messages)
    placed: dict[int, list[str]] = {}
    for call in fake.voice.calls:
        placed.setdefault(message_of(call.form["Url"]), []).append(call.sid)
    call_posts = Counter(message_of(form["Url"]) for form in fake.voice.creates)
    assert max(texts.values(), default=0) <= 1, "a text was accepted twice"
    twice = {m: sids for m, sids in placed.items() if len(sids) > 1}
    assert not twice, f"calls placed twice: {twice}"
    rows = session.scalars(select(OutboundMessage)).all()
    for row in rows:
        assert row.status in LEFT | {"failed"}, (row.id, row.status, row.error_message)
        if row.channel == Channel.VOICE:
            left, posted = placed.get(row.id, []), call_posts[row.id]
        else:
            key = (row.to_phone, row.body)
            left, posted = [row.provider_sid] * texts[key], text_posts[key]
        assert posted <= row.attempts, (row.id, row.channel, posted, row.attempts)
        if row.status in LEFT:
            assert left == [row.provider_sid] and row.provider_sid, (row.id, left)
            ended = "delivered" if row.channel == Channel.VOICE else "sent"
            assert row.status == ended, (row.id, row.channel, row.status, "end not recorded")
        else:
            assert left == [], (row.id, row.channel, "left but was recorded unsent")
            assert row.error_message, (row.id, "failed without a reason")
    sids = {r.provider_sid for r in rows if r.provider_sid}
    assert sids == {m["Sid"] for m in fake.sent} | {c.sid for c in fake.voice.calls}
    return call_posts


def test_three_dispatchers_through_a_misbehaving_twilio_place_each_call_once(
    app: Flask,
    session: Session,
    fake: FakeTwilio,
    public_url: str,
    dialect: str,
    quick_retries: None,
) -> None:
    count = 300 if dialect == "postgresql" else 120  # every other one a call
    due_calls_and_texts(session, count)
    calls = count // 2
    fake.misbehave(MISBEHAVIOUR, seconds=6)
    run_rounds(
        app,
        lambda: gateways_for(fake, public_url),
        dispatchers=3,
        deadline=time.monotonic() + 150,
    )
    call_posts = assert_each_exactly_once(session, fake)
    assert len(call_posts) == calls, "a planned call was never tried"
    # The spell bit calls both ways: some were refused and tried again, some were placed
    # while their create's answer was an error or came too late (found by the look-up).
    assert max(call_posts.values()) > 1, "no call was tried again"
    unheard = [c for c in fake.voice.calls if c.answer.create.status >= 400 or c.answer.create.hang]
    assert unheard, "no call was placed with its answer lost"
    result = statuses(session)
    assert set(result) <= LEFT | {"failed"}
    assert result["sent"] + result["delivered"] > count // 2, result


def test_a_clock_killed_while_twilio_misbehaves_loses_no_call_and_places_none_twice(
    app: Flask,
    session: Session,
    database_url: str,
    fake: FakeTwilio,
    public_url: str,
    dialect: str,
    tmp_path: Path,
) -> None:
    count = 300 if dialect == "postgresql" else 150  # every other one a call
    due_calls_and_texts(session, count)
    calls = count - count // 2
    # Failures that answer at once (the clock's timeout is 10 s), slowed a little so the
    # kill lands mid-batch with texts and calls in flight.
    fake.misbehave(
        [
            Reply(hang=0.01),
            Reply(status=500, hang=0.01),
            Reply(status=429, hang=0.01),
            Reply(status=500, accept_then_hang=True, hang=0.01),
            Reply(hang=0.01),
        ],
        seconds=120,
    )
    more = {"TWILIO_FROM_NUMBER": PRACTICE, "PUBLIC_BASE_URL": public_url, **FAST}
    process = clock_process(database_url, fake, tmp_path / "clock.log", **more)

    def posted() -> int:  # calls: a batch hands its texts out before calls wait for slots
        return len(fake.voice.creates)

    deadline = time.monotonic() + 90
    while posted() < calls // 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert 0 < len(fake.voice.calls) < calls, "the kill must land mid-run, calls placed"
    fake.behave()
    # What the dead clock had asked for is in Twilio's records before anything looks, and
    # its calls ended (their reports found no sid if the clock died before recording it).
    all_ended(fake)
    # The restart comes once the dead clock's leases ran out: what it had in hand is
    # looked up at Twilio before anything is sent or called again.
    gateways = gateways_for(fake, public_url, timeout=5)
    later = Dispatcher(
        get_db(app),
        settings_of(app),
        gateways,
        now=lambda: datetime.now(UTC) + timedelta(minutes=6),
    )
    later.run()
    later.run()  # what came back from an unknown outcome as "resend" goes now
    close(gateways)
    call_posts = assert_each_exactly_once(session, fake)
    result = statuses(session)
    assert set(result) <= LEFT and sum(result.values()) == count, result
    assert len(call_posts) == len(fake.voice.calls) == calls
    log = (tmp_path / "clock.log").read_text()
    assert "+16175550001" not in log  # the numbers of calls stay masked in the logs


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, left
