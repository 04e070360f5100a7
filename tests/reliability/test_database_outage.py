"""PostgreSQL stopped for a few seconds under load: the web answers 503 with JSON, the clock
logs, waits and resumes, and nothing is lost or sent twice.

The database is a private cluster (``private_postgres``), never the shared one.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from service import accounts, create_app, migrate
from service.accounts import TOKEN_PREFIX
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import Heartbeat, InboundMessage
from service.sms.gateway import TwilioGateway
from tests.conftest import base_config
from tests.fake_twilio import FakeTwilio, Reply
from tests.reliability.conftest import (
    Cluster,
    assert_exactly_once,
    due_texts,
    served,
    statuses,
    wait_for,
)
from tests.webhooks.conftest import AUTH_TOKEN, PUBLIC, sign

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
TEXTS = 1200
# The real clock, with its intervals shortened so a test sees several runs in seconds.
CLOCK = (
    "import sys, jobs.clock as clock; "
    "clock.DISPATCH_EVERY_SECONDS = 1; clock.HEARTBEAT_EVERY_SECONDS = 1; "
    "clock.PLAN_EVERY_SECONDS = 5; sys.exit(clock.main([]))"
)


@dataclass
class Load:
    """Web traffic from a few threads: API reads, health checks and signed replies."""

    base: str
    token: str
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[tuple[str, int, str, object]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sids: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    numbers: itertools.count[int] = field(default_factory=itertools.count)

    def inbound(self, http: requests.Session, sid: str) -> requests.Response:
        form = {
            "MessageSid": sid,
            "AccountSid": "AC" + "1" * 32,
            "From": "+16175559999",
            "To": "+16175550100",
            "Body": "7",
            "NumMedia": "0",
        }
        headers = {"X-Twilio-Signature": sign(PUBLIC + "/sms/inbound", form)}
        return http.post(f"{self.base}/sms/inbound", data=form, headers=headers, timeout=20)

    def one(self, http: requests.Session, kind: str) -> None:
        sid = ""
        try:
            if kind == "api":
                headers = {"Authorization": f"Bearer {self.token}"}
                response = http.get(f"{self.base}/api/v1/clients", headers=headers, timeout=20)
            elif kind == "health":
                response = http.get(f"{self.base}/healthz", timeout=20)
            else:
                sid = f"SMoutage{next(self.numbers):026d}"
                response = self.inbound(http, sid)
        except requests.RequestException as exc:  # a hang or a dropped connection
            with self.lock:
                self.problems.append(f"{kind}: {type(exc).__name__}")
            return
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        body = response.json() if is_json else None
        with self.lock:
            content_type = response.headers.get("Content-Type", "")
            self.answers.append((kind, response.status_code, content_type, body))
            if sid:
                self.sids.setdefault(sid, []).append(response.status_code)

    def run(self) -> None:
        with requests.Session() as http:
            for kind in itertools.cycle(("api", "health", "inbound")):
                if self.stop.is_set():
                    return
                self.one(http, kind)
                time.sleep(0.01)


def clock_process(url: str, fake: FakeTwilio, log: Path) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TOUCHBASE_ENV": "test",
        "SECRET_KEY": "test",
        "DATABASE_URL": url,
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": "+16175550100",
        "TWILIO_API_BASE_URL": fake.base_url,
        "QUIET_HOURS": "00:00-00:01",  # manual texts ignore them; keep the test clock-proof
    }
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", CLOCK], cwd=ROOT, env=env, stdout=stderr, stderr=stderr
        )


def last_beat(app: Flask) -> datetime | None:
    with get_db(app).session() as session:
        return session.scalar(select(Heartbeat.beat_at).where(Heartbeat.name == "clock"))


def test_the_database_going_away_under_load(
    private_postgres: Cluster, fake: FakeTwilio, tmp_path: Path
) -> None:
    url = private_postgres.url
    migrate.upgrade(url)
    app = create_app(
        base_config(
            url,
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_FROM_NUMBER="+16175550100",
            PUBLIC_BASE_URL=PUBLIC,
        )
    )
    db = get_db(app)
    with db.session() as session:
        user = accounts.create_user(
            session, settings_of(app), "ana@practice.test", "Ana", "long-enough-pw"
        )
        token = accounts.create_token(session, user)
        session.commit()
        due_texts(session, TEXTS, prefix="outage")
    # Each send takes a little while, so the outage lands with texts in flight.
    fake.misbehave([Reply(hang=0.02)], seconds=600)
    log = tmp_path / "clock.log"
    clock = clock_process(url, fake, log)
    loaders: list[threading.Thread] = []
    try:
        with served(app) as base:
            load = Load(base, token)
            loaders = [threading.Thread(target=load.run) for _ in range(3)]
            for thread in loaders:
                thread.start()
            wait_for(lambda: len(fake.sent) >= 150, 120, "the clock to be sending")
            private_postgres.stop()
            stopped_at = len(load.answers)
            time.sleep(4)
            down = load.answers[stopped_at:]
            private_postgres.start()
            restarted = datetime.now(UTC)
            fake.behave()
            wait_for(lambda: (last_beat(app) or restarted) > restarted, 60, "the clock's heartbeat")
            wait_for(lambda: not {"planned"} & set(statuses_of(app)), 180, "every text to be tried")
            after = len(load.answers)
            wait_for(lambda: len(load.answers) > after + 30, 60, "traffic after the restart")
            load.stop.set()
            for thread in loaders:
                thread.join(timeout=60)
            recovered = load.answers[after:]
            # Twilio retries a webhook that failed; do the same for the refused replies.
            with requests.Session() as http:
                for sid, codes in list(load.sids.items()):
                    if 200 not in codes:
                        assert load.inbound(http, sid).status_code == 200
    finally:
        load_stop = [t for t in loaders if t.is_alive()]
        assert not load_stop, "load threads did not finish"
        clock.send_signal(signal.SIGTERM)
        try:
            clock.wait(timeout=60)
        finally:
            if clock.poll() is None:
                clock.kill()
                clock.wait()

    assert not load.problems, load.problems[:10]
    # While it was down: nothing hung, nothing was a 500; database work was a JSON 503.
    assert down, "no request was answered while the database was down"
    answered = Counter(status for _, status, _, _ in load.answers)
    assert set(answered) <= {200, 503}, answered
    for _kind, status, content_type, body in load.answers:
        if status == 503:
            assert content_type.startswith("application/json"), content_type
            assert isinstance(body, dict)
            assert ("error" in body) or body.get("database") == "unreachable", body
    assert any(status == 503 for _, status, _, _ in down)
    assert {status for _, status, _, _ in recovered} == {200}

    # The clock said what went wrong, kept running and finished the job.
    text = log.read_text()
    assert clock.returncode == 0, text[-3000:]
    # One line per failed job run ("plan: database unreachable (OperationalError); next
    # tick retries"), not a traceback each time.
    failed = [m.end() for m in re.finditer(r"WARNING jobs\.clock: \w+: database unreachable", text)]
    assert failed, "the clock logged nothing about the outage"
    assert "OperationalError" in text
    resumed = [m.start() for m in re.finditer(r"INFO jobs\.clock: dispatch: ", text)]
    assert resumed and resumed[-1] > failed[-1], "the clock did not dispatch after the outage"
    assert not re.search(r"\+1617555\d{4}", text), "a full phone number was logged"
    assert "outage 1" not in text, "a message body was logged"

    # Texts whose outcome was cut off by the outage are settled once their lease runs out.
    gateway = TwilioGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number="+16175550100",
        messaging_service_sid=None,
        api_base_url=fake.base_url,
        timeout=5,
    )
    later = Dispatcher(
        db,
        settings_of(app),
        {Channel.SMS: gateway},
        now=lambda: datetime.now(UTC) + timedelta(minutes=6),
    )
    later.run()
    gateway.close()
    with db.session() as session:
        assert_exactly_once(session, fake)
        assert statuses(session) == {"sent": TEXTS}
        stored = Counter(session.scalars(select(InboundMessage.provider_sid)))
        assert set(stored) == set(load.sids)
        assert max(stored.values()) == 1
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == len(load.sids)
    db.engine.dispose()


def statuses_of(app: Flask) -> Counter[str]:
    """The outbox's status counts, read through the app's database."""
    with get_db(app).session() as session:
        return statuses(session)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word, like a frozen database."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_a_database_that_never_answers_is_a_503_not_a_hang(silent_server: int) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/touchbase"
    app = create_app(base_config(url))
    bearer = {"Authorization": f"Bearer {TOKEN_PREFIX}well-formed"}
    with served(app) as base, ThreadPoolExecutor(3) as pool:
        # The wait is a deadline, not a measurement: without a connect timeout these hang.
        calls = [
            pool.submit(requests.get, f"{base}/api/v1/clients", headers=bearer, timeout=60),
            pool.submit(requests.get, f"{base}/healthz", timeout=60),
            pool.submit(requests.get, f"{base}/api/v1/messages", headers=bearer, timeout=60),
        ]
        answers = [call.result() for call in calls]
    for response in answers:
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("application/json")
    get_db(app).engine.dispose()
