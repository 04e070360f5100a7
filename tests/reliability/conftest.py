"""Reliability fixtures: a local Twilio, the app behind a real threaded HTTP server, a private
PostgreSQL cluster that a test may stop and start, and helpers to count what left."""

from __future__ import annotations

import glob
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from service.models import Client, OutboundMessage
from tests.fake_twilio import FakeTwilio

INITDB_OPTIONS = ("-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
FINAL = frozenset({"sent", "delivered", "failed", "skipped", "expired", "cancelled"})


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    """A local Twilio-compatible server."""
    with FakeTwilio() as server:
        yield server


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """Serve ``app`` with werkzeug's threaded server on a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)  # one line per request would drown the report
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)
        access_log.setLevel(level)


def due_texts(session: Session, count: int, *, prefix: str = "text") -> None:
    """``count`` due manual texts, each to its own number, each with its own body."""
    client = Client(name="Load Test", timezone="America/New_York", language="en")
    session.add(client)
    session.flush()
    now = datetime.now(UTC) - timedelta(minutes=1)
    session.execute(
        insert(OutboundMessage),
        [
            {
                "idempotency_key": f"load:{prefix}:{i}",
                "client_id": client.id,
                "to_phone": f"+1617555{i:04d}",
                "kind": "manual",
                "body": f"{prefix} {i}",
                "send_at": now + timedelta(microseconds=i),
                "status": "planned",
                "attempts": 0,
            }
            for i in range(count)
        ],
    )
    session.commit()


def statuses(session: Session) -> Counter[str]:
    """How many outbox rows the dispatcher sends (not TwiML answers) are in each status."""
    session.expire_all()
    rows = session.execute(
        select(OutboundMessage.status, func.count())
        .where(OutboundMessage.kind != "reply")
        .group_by(OutboundMessage.status)
    )
    return Counter({str(status): int(n) for status, n in rows})


def assert_exactly_once(session: Session, fake: FakeTwilio) -> None:
    """Each text is settled; a sent one was accepted by Twilio once, any other never."""
    session.expire_all()
    accepted = Counter((m["To"], m["Body"]) for m in fake.sent)
    twice = [key for key, n in accepted.items() if n > 1]
    assert not twice, f"{len(twice)} texts accepted more than once"
    rows = session.scalars(select(OutboundMessage)).all()
    for row in rows:
        assert row.status in FINAL, (row.id, row.status)
        key = (row.to_phone, row.body)
        if row.kind == "reply" and row.provider_sid is None and row.status == "sent":
            assert accepted[key] == 0, (row.id, "answered as TwiML, yet sent through the API")
            continue
        if row.status in ("sent", "delivered"):
            assert accepted[key] == 1, (row.id, row.status)
            assert row.provider_sid is not None
        else:
            assert accepted[key] == 0, (row.id, row.status, "left but was recorded unsent")
            assert row.error_message, (row.id, row.status, "settled without a reason")
    sids = {r.provider_sid for r in rows if r.provider_sid}
    assert sids == {m["Sid"] for m in fake.sent}


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Cluster:
    """A PostgreSQL cluster of this test's own, which it may stop and start at will."""

    bin_dir: Path
    data: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        """A psycopg URL of the cluster's ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str, check: bool = True) -> None:
        command = [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]
        subprocess.run(command, check=check, capture_output=True, timeout=60)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=100"
        )
        self._ctl("-o", options, "-l", str(self.data / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` ends every session, as a crash or failover would)."""
        self._ctl("-m", mode, "-w", "stop")

    def running(self) -> bool:
        """Whether the server's pid file names a live server."""
        return (self.data / "postmaster.pid").exists()


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture
def private_postgres(dialect: str) -> Iterator[Cluster]:
    """A fresh PostgreSQL cluster on a free port, always stopped and removed afterwards."""
    if dialect != "postgresql":
        pytest.skip("stopping the database under load needs a PostgreSQL server to stop")
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
    root = Path(tempfile.mkdtemp(prefix="touchbase-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    cluster = Cluster(bin_dir, data, free_port(), as_user)
    try:
        subprocess.run(
            [*as_user, str(bin_dir / "initdb"), "-D", str(data), *INITDB_OPTIONS],
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            cluster._ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)
