"""What every bench shares: databases made and dropped per run, the fake Twilio in a process
of its own, timing, statement counting, and the record of where the numbers were measured."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from service import migrate
from service.config import parse_database_url
from service.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Wednesday 11:00 in New York: outside quiet hours, so every text is sent or planned as is,
# whatever the wall clock says when the bench runs (for the benches that pass time in).
NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
ZONE = "America/New_York"
FROM_NUMBER = "+16175550100"
PUBLIC_BASE_URL = "https://touchbase.example"


# -- the fake Twilio, in a process of its own ------------------------------------------------


def _serve_fake(pipe: Pipe, latency: float = 0.0) -> None:
    """Run a FakeTwilio that answers each text ``latency`` seconds after it arrives, and
    answer the parent's commands until told to stop."""
    # tests/ is not an installed package: make the repository importable in this process.
    sys.path.insert(0, str(ROOT))
    from tests.fake_twilio import FakeTwilio

    with FakeTwilio(latency=latency) as fake:
        pipe.send((fake.base_url, fake.account_sid, fake.auth_token))
        while True:
            command = pipe.recv()
            if command == "count":
                pipe.send(len(fake.sent))
            elif command == "sent":
                pipe.send([(m["To"], m["Sid"]) for m in fake.sent])
            elif command == "sent_at":
                pipe.send(fake.sent_at)
            elif command == "reset":
                fake.reset()
                pipe.send(None)
            else:
                break


@dataclass
class FakeServer:
    """A FakeTwilio served from a child process, so its request handling does not share
    the bench's GIL and slow down the side being measured."""

    base_url: str
    account_sid: str
    auth_token: str
    pipe: Pipe
    process: Any

    def count(self) -> int:
        """How many texts the fake accepted since the last reset."""
        self.pipe.send("count")
        return int(self.pipe.recv())

    def sent(self) -> list[tuple[str, str]]:
        """The number and sid of each text accepted since the last reset, in arrival order."""
        self.pipe.send("sent")
        return [(str(to), str(sid)) for to, sid in self.pipe.recv()]

    def sent_at(self) -> list[float]:
        """When each of those texts arrived at the server (``time.time()``), in that order."""
        self.pipe.send("sent_at")
        return [float(t) for t in self.pipe.recv()]

    def reset(self) -> None:
        """Forget every text accepted so far."""
        self.pipe.send("reset")
        self.pipe.recv()


@contextmanager
def fake_twilio(latency: float = 0.0) -> Iterator[FakeServer]:
    """Start the fake Twilio process, answering each text after ``latency`` seconds; stop it
    on the way out."""
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    process = context.Process(target=_serve_fake, args=(theirs, latency), daemon=True)
    process.start()
    base_url, sid, token = mine.recv()
    try:
        yield FakeServer(base_url, sid, token, mine, process)
    finally:
        mine.send("stop")
        process.join(timeout=10)


# -- databases ---------------------------------------------------------------------------------


class Databases:
    """Makes empty, migrated databases for one run and removes them all at the end."""

    def __init__(self, kind: str) -> None:
        """Prepare for ``kind`` (sqlite or postgresql); nothing is created yet."""
        self.kind = kind
        self.created: list[str] = []
        self.engines: list[Engine] = []
        self.tmp = tempfile.TemporaryDirectory(prefix="touchbase-bench-")
        self.admin_url = parse_database_url("DATABASE_URL", POSTGRES_ADMIN_URL)
        self.run_id = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"

    def make(self, label: str) -> str:
        """A new database with TouchBase's schema, made by its migrations; return its URL."""
        if self.kind == "sqlite":
            url = f"sqlite:///{self.tmp.name}/{label}.sqlite3"
        else:
            name = f"touchbase_bench_{self.run_id}_{label}"
            with self._admin() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            self.created.append(name)
            url = make_url(self.admin_url).set(database=name).render_as_string(False)
        migrate.upgrade(url)
        return url

    def engine(self, url: str) -> Engine:
        """An engine made the way TouchBase makes its own, disposed of at close."""
        engine = make_engine(url)
        self.engines.append(engine)
        return engine

    @contextmanager
    def _admin(self) -> Iterator[Any]:
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                yield conn
        finally:
            admin.dispose()

    def server_version(self) -> str:
        """The database server's version, for the record."""
        if self.kind == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        with self._admin() as conn:
            return f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar_one()}"

    def close(self) -> None:
        """Drop every database made by this run."""
        for engine in self.engines:
            engine.dispose()
        if self.created:
            with self._admin() as conn:
                for name in self.created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.tmp.cleanup()


@contextmanager
def databases(kind: str) -> Iterator[Databases]:
    """Databases for one bench on one backend, dropped on the way out whatever happens."""
    dbs = Databases(kind)
    try:
        yield dbs
    finally:
        dbs.close()


def app_config(
    url: str, fake: FakeServer | None = None, concurrency: int = 4
) -> dict[str, str | bool]:
    """A complete configuration (every variable set), so the environment cannot leak in."""
    return {
        "TESTING": True,
        "TOUCHBASE_ENV": "test",
        "SECRET_KEY": "bench-secret-key",
        "DATABASE_URL": url,
        "TWILIO_ACCOUNT_SID": fake.account_sid if fake else "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": fake.auth_token if fake else "bench-token",
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_API_BASE_URL": fake.base_url if fake else "http://127.0.0.1:9",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "PRACTICE_NAME": "Bright Path",
        "PRACTICE_PHONE": "+16175550101",
        "PRACTICE_TIMEZONE": ZONE,
        "DEFAULT_REGION": "US",
        "QUIET_HOURS": "21:00-08:00",
        "REMINDER_OFFSETS": "24h",
        "CHECKIN_OFFSETS": "24h,72h",
        "PAIN_ALERT_THRESHOLD": "8",
        "PLANNING_HORIZON_DAYS": "14",
        "SMS_SEND_CONCURRENCY": str(concurrency),
        "SMS_MAX_PER_SECOND": "",
        "SMS_MAX_ATTEMPTS": "5",
        "TRUSTED_PROXIES": "",
    }


def phone(i: int) -> str:
    """A distinct E.164 number per recipient, so no two texts share a consent row."""
    return f"+1617{2_000_000 + i:07d}"


# -- measuring ---------------------------------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements and new connections of an engine while it is attached."""

    def __init__(self, engine: Engine) -> None:
        """Start counting on ``engine``."""
        self.engine = engine
        self.statements = 0
        self.connections = 0
        self.lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "connect", self._connect)

    def _statement(self, *_args: Any) -> None:
        with self.lock:
            self.statements += 1

    def _connect(self, *_args: Any) -> None:
        with self.lock:
            self.connections += 1

    def reset(self) -> None:
        """Start again from zero."""
        with self.lock:
            self.statements = self.connections = 0

    def close(self) -> None:
        """Stop counting."""
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "connect", self._connect)


@dataclass
class Timed:
    """Wall-clock and this process's CPU seconds of one measured section."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed() -> Iterator[Timed]:
    """Measure the block's wall-clock and CPU time (all threads of this process)."""
    result = Timed()
    wall, cpu = time.perf_counter(), time.process_time()
    yield result
    result.wall = time.perf_counter() - wall
    result.cpu = time.process_time() - cpu


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ms(seconds: float) -> float:
    """Seconds as milliseconds, rounded for the record."""
    return round(seconds * 1000, 2)


def median(values: Sequence[float]) -> float:
    """The median, rounded for the record."""
    return round(statistics.median(values), 4)


# -- the record --------------------------------------------------------------------------------


def code_version() -> dict[str, Any]:
    """Which TouchBase was measured: the commit, and the files changed on top of it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        # Only trailing space goes: porcelain lines begin with a meaningful one.
        return done.stdout.rstrip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "service", "jobs", "migrations").splitlines()
    # Others edit the tree while benches run: a number is only comparable with the same code.
    return {"commit": git("rev-parse", "HEAD") or None, "uncommitted": [c[3:] for c in changed]}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """Where the numbers were measured."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    probe = Databases("postgresql")
    try:
        postgres = probe.server_version()
    except Exception as exc:  # the SQLite benches still run without a server
        postgres = f"PostgreSQL unreachable ({type(exc).__name__})"
    finally:
        probe.close()
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
    }
