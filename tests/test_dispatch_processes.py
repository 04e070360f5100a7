"""Exactly once across processes: real clock processes, one database, one local Twilio."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import Client, OutboundMessage
from service.sms.gateway import TwilioGateway
from tests.fake_twilio import FakeTwilio, Reply

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def due_texts(session: Session, count: int) -> None:
    """``count`` due manual texts, each to its own number, each with its own body."""
    client = Client(name="Load Test", timezone="America/New_York", language="en")
    session.add(client)
    session.flush()
    now = datetime.now(UTC) - timedelta(minutes=1)
    session.execute(
        insert(OutboundMessage),
        [
            {
                "idempotency_key": f"load:{i}",
                "client_id": client.id,
                "to_phone": f"+1617555{i:04d}",
                "kind": "manual",
                "body": f"text {i}",
                "send_at": now + timedelta(microseconds=i),
                "status": "planned",
                "attempts": 0,
            }
            for i in range(count)
        ],
    )
    session.commit()


def clock_env(database_url: str, fake: FakeTwilio, **more: str) -> dict[str, str]:
    """The environment of a clock process on the test database, sending to the fake."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "TOUCHBASE_ENV": "test",
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": "+16175550100",
        "TWILIO_API_BASE_URL": fake.base_url,
        **more,
    }


def clock_process(
    database_url: str, fake: FakeTwilio, log: Path, **more: str
) -> subprocess.Popen[bytes]:
    """Start ``python -m jobs.clock --once`` against the test database and the fake."""
    env = clock_env(database_url, fake, **more)
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "jobs.clock", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def assert_each_sent_once(session: Session, fake: FakeTwilio, count: int) -> None:
    bodies = Counter(m["Body"] for m in fake.sent)
    assert len(bodies) == count
    assert max(bodies.values()) == 1, [b for b, n in bodies.items() if n > 1][:5]
    session.expire_all()
    statuses = dict(
        session.execute(
            select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
        ).all()
    )
    assert statuses == {"sent": count}
    sids = set(session.scalars(select(OutboundMessage.provider_sid)))
    assert sids == {m["Sid"] for m in fake.sent}


def test_three_dispatchers_send_each_text_exactly_once(
    app: Flask, session: Session, database_url: str, fake: FakeTwilio, dialect: str, tmp_path: Path
) -> None:
    count = 3000 if dialect == "postgresql" else 600
    due_texts(session, count)
    log = tmp_path / "clock.log"
    processes = [clock_process(database_url, fake, log) for _ in range(3)]
    for process in processes:
        assert process.wait(timeout=240) == 0, log.read_text()[-2000:]
    assert_each_sent_once(session, fake, count)
    text = log.read_text()
    assert "text 1" not in text and "+16175550001" not in text  # no bodies, no numbers


def test_a_killed_dispatcher_loses_nothing_and_sends_nothing_twice(
    app: Flask, session: Session, database_url: str, fake: FakeTwilio, tmp_path: Path
) -> None:
    count = 400
    due_texts(session, count)
    # Slow every answer a little so the kill lands mid-batch, some texts in flight.
    fake.misbehave([Reply(hang=0.01)], seconds=120)
    process = clock_process(database_url, fake, tmp_path / "clock.log")
    deadline = time.monotonic() + 60
    while len(fake.sent) < count // 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    sent_before = len(fake.sent)
    assert 0 < sent_before < count, "the kill must land mid-run"
    fake.behave()  # the restart need not be slowed down
    # The restart comes after the dead process's leases ran out.
    gateway = TwilioGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number="+16175550100",
        messaging_service_sid=None,
        api_base_url=fake.base_url,
    )
    dispatcher = Dispatcher(
        get_db(app),
        settings_of(app),
        {Channel.SMS: gateway},
        now=lambda: datetime.now(UTC) + timedelta(minutes=6),
    )
    dispatcher.run()
    gateway.close()
    assert_each_sent_once(session, fake, count)
