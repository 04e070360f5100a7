"""Calls keep a send rate of their own (VOICE_MAX_PER_SECOND), apart from the texts'
(SMS_MAX_PER_SECOND): a batch takes each call's slot from the calls' row and each text's
from the texts', so a backlog of calls holds no text back, and any number of clocks
together place calls no faster than the calls' rate."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, dispatch_batch, outbox, send_rate
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel, MessageKind
from service.models import Client, OutboundMessage
from service.send_rate import SendRate
from service.sms.voice_gateway import TwilioVoiceGateway
from tests.app_server import app_server
from tests.fake_twilio import FakeTwilio
from tests.test_dispatch_processes import clock_env
from tests.test_dispatch_voice import AGREED_AT, noon_zone
from tests.test_send_rate import DISPATCHER, LATE, ROOT, busiest_second, gaps

PRACTICE = "+16175550100"
# How much sooner than its slot a send may be seen: the clocks are read a few milliseconds
# apart. Only ever subtracted from a spacing the rate demands (no test asserts speed).
EARLY = 0.05


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def answered() -> Iterator[tuple[str, list[float]]]:
    """The practice's call pages, served for the fake's calls: their URL, and when each
    call fetched its page (``time.time()``), that is, soon after it was placed."""
    fetched: list[float] = []
    callee = Flask("callee")

    @callee.post("/voice/call/<int:message_id>")
    def page(message_id: int) -> Response:
        fetched.append(time.time())
        return Response("<Response><Hangup/></Response>", mimetype="text/xml")

    @callee.post("/voice/status")
    def status() -> tuple[str, int]:
        return "", 204

    with app_server(callee) as url:
        yield url, fetched


class TimedVoiceGateway(TwilioVoiceGateway):
    """The real voice gateway, noting when each call's request left (``time.time()``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.placed_at: list[float] = []
        self._lock = threading.Lock()

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        with self._lock:
            self.placed_at.append(time.time())
        return super().send(to, body, message_id=message_id)


def due(session: Session, calls: int, texts: int) -> None:
    """``calls`` due calls, then ``texts`` due texts (all older calls first, as a backlog of
    calls at 9:00 would be), each to its own number agreed to calls, in call hours."""
    client = Client(name="Load Test", timezone=noon_zone(), language="en")
    session.add(client)
    session.flush()
    now = datetime.now(UTC) - timedelta(minutes=1)
    drafts = []
    for i in range(calls + texts):
        channel = Channel.VOICE if i < calls else Channel.SMS
        phone = f"+1617556{i:04d}"
        if channel == Channel.VOICE:
            call_consent.record_consent(session, None, phone, AGREED_AT, via="test")
        drafts.append(
            outbox.Draft(
                idempotency_key=f"rate:{i}",
                kind=MessageKind.MANUAL,
                to_phone=phone,
                body=f"message {i}",
                send_at=now + timedelta(microseconds=i),
                client_id=client.id,
                channel=channel,
            )
        )
    outbox.enqueue(session, drafts, now)
    session.commit()


def statuses(session: Session) -> Counter[tuple[str, str]]:
    session.expire_all()
    rows = session.execute(select(OutboundMessage.channel, OutboundMessage.status))
    return Counter((channel, status) for channel, status in rows)


def test_a_backlog_of_calls_holds_back_no_text_of_the_same_batch(
    app: Flask, session: Session, fake: FakeTwilio, answered: tuple[str, list[float]]
) -> None:
    calls, texts, rate = 2, 8, 2.0
    due(session, calls, texts)
    # Another clock reserved the next two seconds of calls: this batch's calls wait for
    # their slots after those; its texts (no text rate) have theirs now.
    backlog = time.time()
    SendRate(get_db(app), 1.0, channel="voice").reserve(2)
    settings = replace(
        settings_of(app),
        voice_max_per_second=rate,
        sms_max_per_second=None,
        sms_send_concurrency=1,  # one sending thread: a call it waited on would hold all
    )
    voice = TimedVoiceGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=PRACTICE,
        public_base_url=answered[0],
        api_base_url=fake.base_url,
        timeout=5,
    )
    gateways = {Channel.SMS: fake.gateway(timeout=5), Channel.VOICE: voice}
    dispatcher = Dispatcher(get_db(app), settings, gateways)  # type: ignore[arg-type]
    assert (dispatcher.batch_limit(), dispatcher.call_limit()) == (50, 2)
    counts = dispatcher.run()
    fake.voice.wait_for_calls(calls)
    for gateway in gateways.values():
        gateway.close()  # type: ignore[attr-defined]
    assert counts["claimed"] == calls + texts and counts["sent"] == calls + texts, counts
    assert statuses(session) == {("voice", "sent"): calls, ("sms", "sent"): texts}
    # One batch, its sends handed to the one sending thread in the order of their slots:
    # every text reached Twilio before the first call was even asked for, although the
    # calls are older (with the calls' slots shared with the texts', or a sending thread
    # sleeping until a call's slot, the texts would have come after the calls).
    assert len(fake.sent_at) == texts
    assert max(fake.sent_at) <= min(voice.placed_at)
    # The calls kept to their own rate, after the backlog: none before its slot (a call
    # that started late may leave less than an interval to the next, never more calls).
    placed = sorted(voice.placed_at)
    assert all(at >= backlog + 2 + i / rate - EARLY for i, at in enumerate(placed)), placed


def test_a_claim_takes_about_a_second_of_calls_besides_its_texts(
    app: Flask, session: Session
) -> None:
    due(session, 5, 3)
    settings = replace(settings_of(app), voice_max_per_second=1.0)
    dispatcher = Dispatcher(get_db(app), settings, {})
    claims = dispatcher.claim_batch("token")
    # The three texts, younger than every call, are not left behind the backlog of calls.
    assert Counter(c.channel for c in claims) == {"voice": 1, "sms": 3}
    assert [c.body for c in claims if c.channel == "voice"] == ["message 0"]  # oldest first
    assert statuses(session)[("voice", "planned")] == 4
    faster = Dispatcher(get_db(app), replace(settings, voice_max_per_second=3.5), {})
    assert len(faster.claim_batch("other")) == 3  # 3 of the 4 calls left; no texts left


def test_each_channel_keeps_its_own_row_and_rate(app: Flask) -> None:
    settings = replace(settings_of(app), sms_max_per_second=10.0, voice_max_per_second=1.0)
    limits = Dispatcher(get_db(app), settings, {}).limits
    assert (limits[Channel.SMS].channel, limits[Channel.VOICE].channel) == ("sms", "voice")
    calls = limits[Channel.VOICE].reserve(3)  # its row made by its first reservation
    texts = limits[Channel.SMS].reserve(3)
    assert gaps(calls) == pytest.approx([1.0, 1.0], abs=1e-3)
    assert gaps(texts) == pytest.approx([0.1, 0.1], abs=1e-3)
    assert abs(texts[0] - calls[0]) < 0.5  # the texts did not queue behind the calls


def test_three_clock_processes_together_place_no_more_calls_than_the_call_rate(
    session: Session,
    database_url: str,
    fake: FakeTwilio,
    answered: tuple[str, list[float]],
) -> None:
    calls, texts, call_rate, text_rate = 8, 30, 2, 20
    due(session, calls, texts)
    env = clock_env(
        database_url,
        fake,
        TWILIO_FROM_NUMBER=PRACTICE,
        PUBLIC_BASE_URL=answered[0],
        SMS_MAX_PER_SECOND=str(text_rate),
        VOICE_MAX_PER_SECOND=str(call_rate),
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", DISPATCHER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready", process.communicate()[1]
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=90) for process in processes]
    finally:
        for process in processes:
            process.kill()
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-2000:]
    sent = sum(ast.literal_eval(out.splitlines()[-1]).get("sent", 0) for out, _err in outputs)
    assert sent == calls + texts, [err[-2000:] for _out, err in outputs]
    placed = fake.voice.wait_for_calls(calls)
    assert len(placed) == calls and len({c.form["Url"] for c in placed}) == calls  # once each
    assert statuses(session) == {("voice", "sent"): calls, ("sms", "sent"): texts}
    # Each call fetches its page once placed: at most the call rate in any one second
    # (with the calls sharing the texts' 20 a second, the 8 went out within half a second).
    fetched = answered[1]
    assert len(fetched) == calls
    assert busiest_second(fetched) <= call_rate * (1 + LATE) + 1
    assert max(fetched) - min(fetched) >= (calls - 1) / call_rate - LATE
    # The texts kept to theirs.
    assert busiest_second(fake.sent_at) <= text_rate * (1 + LATE) + 1
    assert max(fake.sent_at) - min(fake.sent_at) >= (texts - 1) / text_rate - LATE


def test_a_batch_late_for_its_slots_reserves_fresh_ones_under_its_own_locks(
    app: Flask, session: Session
) -> None:
    # Taking the locks outlasted the slots (a busy database): fresh ones are reserved while
    # the batch holds its locks. On SQLite that is the one write lock: reserved on another
    # connection, they waited for the batch itself for the whole busy timeout (30 s), then
    # failed with "database is locked" and the batch's texts waited for their lease.
    due(session, 1, 2)
    settings = replace(settings_of(app), sms_max_per_second=20.0, voice_max_per_second=1.0)
    dispatcher = Dispatcher(get_db(app), settings, {})
    claims = dispatcher.claim_batch("token")
    batch = dispatch_batch.Batch(dispatcher, "token", claims)
    passed = send_rate.reserve_each(dispatcher.limits, [c.channel for c in claims])
    passed = {channel: [at - 5 for at in slots] for channel, slots in passed.items()}
    with get_db(app).session() as locked:
        before = time.monotonic()
        dispatch_batch.lock_and_read(locked, claims, "token", dispatcher.now())
        slots = batch.slots_of(locked, claims, passed)
        assert time.monotonic() - before < 10  # no wait for a lock it holds itself
        locked.rollback()
    by_channel: dict[str, list[float]] = {}
    for claim, slot in zip(claims, slots, strict=True):
        by_channel.setdefault(claim.channel, []).append(slot)
    assert by_channel["sms"][1] - by_channel["sms"][0] == pytest.approx(0.05, abs=1e-3)
    assert min(slots) >= before - EARLY  # none of the slots that passed
