"""Exactly once while Twilio misbehaves (500, 429, 503, stalls past the timeout, texts it
accepted but answered badly) and while dispatchers crash: every due text ends sent once or
accounted for (failed, skipped, expired, with a reason), none is accepted twice.

Twilio's side is counted at the fake: every POST (accepted or not) by recipient and body.
"""

from __future__ import annotations

import random
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
from service.sms.gateway import Gateway, TwilioGateway
from tests.fake_twilio import FakeTwilio, Reply
from tests.reliability.conftest import FINAL, assert_exactly_once, due_texts, statuses
from tests.test_dispatch_processes import clock_process

pytestmark = pytest.mark.slow
TIMEOUT = 1.0  # the gateway's read timeout here; stalls below last longer
STALL = TIMEOUT + 1.0
Gateways = dict[Channel, Gateway]

# Round and round while the spell lasts: one answer in three is a success.
MISBEHAVIOUR = [
    Reply(),
    Reply(status=500),  # nothing was created, but a 500 is an unknown outcome for us
    Reply(status=429, code=20429, message="Too Many Requests"),
    Reply(hang=STALL),  # no answer within the timeout, nothing created
    Reply(),
    Reply(status=500, accept_then_hang=True),  # created, then a 500
    Reply(status=503),  # turned away at the door
    Reply(hang=STALL, accept_then_hang=True),  # created, then no answer in time
    Reply(),
]


def gateway_for(fake: FakeTwilio, timeout: float = TIMEOUT) -> TwilioGateway:
    return TwilioGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number="+16175550100",
        messaging_service_sid=None,
        api_base_url=fake.base_url,
        timeout=timeout,
    )


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-off in tenths of seconds and the unknown-outcome wait in seconds, in real time.

    Real time matters: a text's claim time is where the lookup of an unknown outcome
    starts, so shifting the dispatcher's clock would hide texts Twilio really holds. The
    wait still outlasts a stall, as a minute outlasts the 10 s timeout in production: a
    stalled request that Twilio completes after the client gave up is then found.
    """
    monkeypatch.setattr(dispatch, "UNKNOWN_RETRY", timedelta(seconds=STALL + 1))
    monkeypatch.setattr(
        sending, "backoff", lambda attempts, rng: timedelta(seconds=rng.uniform(0.1, 0.3))
    )


def close(gateways: Gateways) -> None:
    for gateway in gateways.values():
        gateway.close()  # type: ignore[attr-defined]


def run_rounds(
    app: Flask, make: Callable[[], Gateways], *, dispatchers: int, deadline: float
) -> None:
    """Run ``dispatchers`` at once (threads), again and again, until every message is
    settled; a dispatcher that raises fails the test."""
    db, settings = get_db(app), settings_of(app)
    sets = [make() for _ in range(dispatchers)]
    errors: list[BaseException] = []

    def run(dispatcher: Dispatcher) -> None:
        try:
            dispatcher.run()
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)

    try:
        while True:
            with db.session() as session:
                open_ = set(statuses(session)) - FINAL
            if not open_:
                return
            assert time.monotonic() < deadline, f"still {open_} at the deadline"
            workers = [
                threading.Thread(
                    target=run,
                    args=(
                        Dispatcher(
                            db,
                            settings,
                            gateways,
                            rng=random.Random(n),
                            lease=timedelta(seconds=30),
                        ),
                    ),
                )
                for n, gateways in enumerate(sets)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            assert not errors, errors
            time.sleep(0.2)
    finally:
        for gateways in sets:
            close(gateways)


def assert_posts_within_attempts(session: Session, fake: FakeTwilio) -> None:
    """No text was posted to Twilio more often than it was claimed to be sent."""
    posts = Counter((m.get("To"), m.get("Body")) for m in fake.messages)
    for row in session.scalars(select(OutboundMessage)):
        assert posts[(row.to_phone, row.body)] <= row.attempts, (row.id, row.attempts)


def test_three_dispatchers_through_a_misbehaving_twilio_send_each_text_once(
    app: Flask,
    session: Session,
    fake: FakeTwilio,
    dialect: str,
    quick_retries: None,
) -> None:
    count = 600 if dialect == "postgresql" else 150
    due_texts(session, count)
    fake.misbehave(MISBEHAVIOUR, seconds=8)

    def texts_only() -> Gateways:
        return {Channel.SMS: gateway_for(fake)}

    run_rounds(app, texts_only, dispatchers=3, deadline=time.monotonic() + 150)
    assert_exactly_once(session, fake)
    assert_posts_within_attempts(session, fake)
    result = statuses(session)
    assert set(result) <= {"sent", "failed"}
    assert result["sent"] > count // 2, result
    posts = Counter(m["Body"] for m in fake.messages)
    assert max(posts.values()) > 1, "no text was ever retried: the spell did not bite"


def test_a_clock_killed_while_twilio_misbehaves_loses_nothing(
    app: Flask,
    session: Session,
    database_url: str,
    fake: FakeTwilio,
    dialect: str,
    tmp_path: Path,
) -> None:
    count = 400 if dialect == "postgresql" else 150
    due_texts(session, count)
    # Failures that answer at once (the clock's own timeout is 10 s), slowed a little so
    # the kill lands mid-batch with texts in flight.
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
    process = clock_process(database_url, fake, tmp_path / "clock.log")
    deadline = time.monotonic() + 90
    while len(fake.messages) < count // 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert 0 < len(fake.sent) < count, "the kill must land mid-run"
    fake.behave()
    # The restart comes once the dead clock's leases ran out: what it had in hand is
    # looked up at Twilio before anything is sent again.
    gateway = gateway_for(fake, timeout=5)
    later = Dispatcher(
        get_db(app),
        settings_of(app),
        {Channel.SMS: gateway},
        now=lambda: datetime.now(UTC) + timedelta(minutes=6),
    )
    later.run()
    later.run()  # what came back from an unknown outcome as "resend" goes now
    gateway.close()
    assert_exactly_once(session, fake)
    assert_posts_within_attempts(session, fake)
    assert statuses(session) == {"sent": count}


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, left
