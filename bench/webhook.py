"""Webhook: signed inbound replies posted to TouchBase under gunicorn (2 workers), against a
bare Flask endpoint that only validates the signature and one that also stores the raw reply
(the reference issue 17's targets are ratios to), under the same gunicorn settings.

The load generator is plain Python: threads, one raw socket per request (gunicorn's sync
workers close every connection anyway), every request's bytes built and signed before the
clock starts, so the generator costs little next to either server.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from bench.common import (
    FROM_NUMBER,
    PUBLIC_BASE_URL,
    ROOT,
    ZONE,
    Databases,
    app_config,
    ms,
    percentile,
    phone,
)
from service import create_app
from service.db import get_db, utcnow
from service.models import Appointment, Client, Contact, InboundMessage, OutboundMessage

AUTH_TOKEN = "bench-webhook-token"
PATH = "/sms/inbound"
WORKERS = 2
# Issue 17's targets are ratios to the store-only reference (validate, insert the raw reply,
# commit, answer empty TwiML): the least a webhook that must never lose a reply can do.
TARGET_RATIO_TO_STORE = {"postgresql": 0.5, "sqlite": 0.35}
TARGET_P99_MS = 50.0
_PORTS = itertools.count()


# -- what is posted ----------------------------------------------------------------------------


def seed_clients(engine: Engine, clients: int) -> None:
    """C clients, each sent a check-in an hour ago, so a digit back is a pain score."""
    now = utcnow()
    ended = now - timedelta(hours=25)
    with engine.begin() as conn:
        client_ids = conn.scalars(
            insert(Client).returning(Client.id, sort_by_parameter_order=True),
            [
                {"name": f"Client {i}", "timezone": ZONE, "language": "en", "notes": ""}
                for i in range(clients)
            ],
        ).all()
        contact_ids = conn.scalars(
            insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [
                {"client_id": c, "name": f"Client {i}", "relation": "self", "phone": phone(i)}
                | {"reminders": True, "checkins": True}
                for i, c in enumerate(client_ids)
            ],
        ).all()
        appointment_ids = conn.scalars(
            insert(Appointment).returning(Appointment.id, sort_by_parameter_order=True),
            [
                {"client_id": c, "starts_at": ended - timedelta(hours=1), "ends_at": ended}
                | {"status": "scheduled", "detached": False}
                for c in client_ids
            ],
        ).all()
        conn.execute(
            insert(OutboundMessage),
            [
                {
                    "idempotency_key": f"checkin:{a}:{k}:86400",
                    "client_id": c,
                    "contact_id": k,
                    "appointment_id": a,
                    "to_phone": phone(i),
                    "kind": "checkin",
                    "body": "How is your pain today, 0 to 10?",
                    "send_at": now - timedelta(hours=1),
                    "sent_at": now - timedelta(hours=1),
                    "status": "sent",
                    "attempts": 1,
                }
                for i, (c, k, a) in enumerate(
                    zip(client_ids, contact_ids, appointment_ids, strict=True)
                )
            ],
        )


def signed_requests(count: int, clients: int, host: str, label: str) -> list[bytes]:
    """``count`` raw HTTP posts of pain scores from the seeded clients, each signed."""
    validator = RequestValidator(AUTH_TOKEN)
    posts = []
    for i in range(count):
        form = {
            "MessageSid": f"SM{label}{i:0{32 - len(label)}d}",
            "AccountSid": "AC" + "0" * 32,
            "From": phone(i % clients),
            "To": FROM_NUMBER,
            "Body": str(i % 6),  # 0-5: a pain score under the alert threshold
            "NumMedia": "0",
        }
        body = urlencode(form).encode()
        signature = validator.compute_signature(PUBLIC_BASE_URL + PATH, form)
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        posts.append(head.encode() + body)
    return posts


# -- gunicorn ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A gunicorn serving one app on 127.0.0.1."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def host(self) -> str:
        """Host and port, for the Host header."""
        return f"127.0.0.1:{self.port}"


@contextmanager
def gunicorn(name: str, app: str, env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    """Serve ``app`` with gunicorn as the Procfile does; stop it (SIGTERM) on the way out."""
    port = _free_port()
    log = log_dir / f"{name}.log"
    # The Procfile's settings (gunicorn.conf.py: sync workers, timeouts, an access log line
    # per request), with the bind and the worker count fixed here, for both sides alike.
    command = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py")]
    command += ["--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", app]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(server: Server, timeout: float = 30.0) -> None:
    """Wait until both workers could answer /healthz."""
    request = f"GET /healthz HTTP/1.1\r\nHost: {server.host}\r\nConnection: close\r\n\r\n"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if _send(server.port, request.encode()) == 200:
                time.sleep(0.5)  # let the second worker finish booting too
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"bench: gunicorn {server.name} did not start; see {server.log}")


def _send(port: int, raw: bytes) -> int:
    """Post one request on a fresh connection; return the HTTP status once fully answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head = b"".join(chunks)[:12]
    return int(head[9:12]) if head.startswith(b"HTTP/") else 0


# -- load --------------------------------------------------------------------------------------


@dataclass
class Load:
    """What one load run saw."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, latency: float, status: int) -> None:
        """Keep one request's latency and status."""
        with self.lock:
            self.latencies.append(latency)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self) -> dict[str, Any]:
        """Requests per second, p50, p99, max, and the statuses seen."""
        n = len(self.latencies)
        return {
            "requests": n,
            "seconds": round(self.seconds, 3),
            "per_second": round(n / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": ms(percentile(self.latencies, 0.50)),
            "p99_ms": ms(percentile(self.latencies, 0.99)),
            "max_ms": ms(max(self.latencies, default=0.0)),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def closed_loop(port: int, posts: Sequence[bytes], concurrency: int) -> Load:
    """Post everything with ``concurrency`` clients, each sending as soon as answered."""
    load, pending, lock = Load(), iter(posts), threading.Lock()

    def client() -> None:
        while True:
            with lock:
                raw = next(pending, None)
            if raw is None:
                return
            start = time.perf_counter()
            status = _send(port, raw)
            load.record(time.perf_counter() - start, status)

    load.seconds = _run_threads(client, concurrency)
    return load


def paced(port: int, posts: Sequence[bytes], rate: float, threads: int = 16) -> Load:
    """Post at a fixed rate; latency counts from when each request was due, so a server
    that falls behind is charged for the wait too (no coordinated omission)."""
    load, lock = Load(), threading.Lock()
    indexes = iter(range(len(posts)))
    start = time.perf_counter() + 0.05

    def client() -> None:
        while True:
            with lock:
                i = next(indexes, None)
            if i is None:
                return
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            status = _send(port, posts[i])
            load.record(time.perf_counter() - due, status)

    load.seconds = _run_threads(client, threads)
    return load


def _run_threads(target: Any, count: int) -> float:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


# -- the bench ---------------------------------------------------------------------------------


def server_env(config: dict[str, str | bool]) -> dict[str, str]:
    """The process environment for a server: ours, with every TouchBase setting replaced."""
    fixed = {*config, "GUNICORN_THREADS", "WEB_CONCURRENCY", "PORT", "GUNICORN_CMD_ARGS"}
    env = {k: v for k, v in os.environ.items() if k not in fixed}
    env.update({k: v for k, v in config.items() if isinstance(v, str)})
    env["PYTHONPATH"] = str(ROOT)
    return env


SIDES = ("bare", "store", "touchbase")


def bench_webhook(
    dbs: Databases,
    requests: int,
    concurrency: int,
    repeat: int,
    rate: float,
    seconds: float,
    clients: int = 1000,
) -> dict[str, Any]:
    """Closed-loop throughput (best of ``repeat``, the order of the sides rotating each
    round) and latency at a fixed rate, for TouchBase's /sms/inbound, the bare endpoint,
    and the bare endpoint that also stores the raw text."""
    url = dbs.make("webhook")
    engine = dbs.engine(url)
    seed_clients(engine, clients)
    config = app_config(url) | {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TOUCHBASE_ENV": "production"}
    env = server_env(config)
    log_dir = Path(dbs.tmp.name)
    runs: dict[str, list[Load]] = {who: [] for who in SIDES}
    fixed: dict[str, Load] = {}
    posted = dict.fromkeys(SIDES, 0)
    with (
        gunicorn("touchbase", "service.wsgi:app", env, log_dir) as touchbase,
        gunicorn("bare", "bench.bare_webhook:app", env, log_dir) as bare,
        gunicorn("store", "bench.bare_webhook:store_app", env, log_dir) as store,
    ):
        servers = {"bare": bare, "store": store, "touchbase": touchbase}

        def post(who: str, count: int, label: str) -> list[bytes]:
            posted[who] += count
            return signed_requests(count, clients, servers[who].host, f"{label}{who[0]}")

        # Warm all: imports, first connections, statement caches.
        for who in SIDES:
            closed_loop(servers[who].port, post(who, 50, "W"), 2)
        for r in range(repeat):
            for who in SIDES[r % 3 :] + SIDES[: r % 3]:
                posts = post(who, requests, f"R{r}")
                runs[who].append(closed_loop(servers[who].port, posts, concurrency))
        count = max(1, int(rate * seconds))
        for who in SIDES:
            fixed[who] = paced(servers[who].port, post(who, count, "F"), rate)
    with engine.connect() as conn:
        stored = int(conn.scalar(select(func.count()).select_from(InboundMessage)) or 0)
        processed = int(
            conn.scalar(select(func.count()).where(InboundMessage.processed_at.is_not(None))) or 0
        )
    # Only TouchBase processes what it stores; the store reference stores raw rows only.
    same = stored == posted["touchbase"] + posted["store"] and processed == posted["touchbase"]
    counted = statements_per_reply(dbs, config, clients)
    return (
        summarize(runs, fixed, requests, concurrency, rate, dbs.kind)
        | counted
        | {
            "posted": posted,
            "stored": stored,
            "processed_by_touchbase": processed,
            "same_work": same and _all_ok(runs, fixed),
        }
    )


def statements_per_reply(
    dbs: Databases, config: dict[str, str | bool], clients: int, count: int = 60
) -> dict[str, float]:
    """SQL statements and commits per reply, counted in process (Flask's test client, a
    ``before_cursor_execute`` listener) on the bench's database after the timed runs: the
    same signed pain scores, the same code, one request at a time."""
    app = create_app(dict(config))
    engine = get_db(app).engine
    dbs.engines.append(engine)
    seen = {"statements": 0, "commits": 0}

    def statement(*_: Any) -> None:
        seen["statements"] += 1

    def commit(*_: Any) -> None:
        seen["commits"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    http = app.test_client()
    for raw in signed_requests(count, clients, "localhost", "SQ"):
        head, body = raw.split(b"\r\n\r\n", 1)
        signature = head.split(b"X-Twilio-Signature: ")[1].split(b"\r\n")[0].decode()
        answer = http.post(
            PATH,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature},
        )
        if answer.status_code != 200:
            raise SystemExit(f"bench: a counted reply was answered {answer.status_code}")
    return {
        "statements_per_reply": round(seen["statements"] / count, 2),
        "commits_per_reply": round(seen["commits"] / count, 2),
    }


def _all_ok(runs: dict[str, list[Load]], fixed: dict[str, Load]) -> bool:
    loads = [*(x for loads in runs.values() for x in loads), *fixed.values()]
    return all(set(x.statuses) == {200} for x in loads)


def summarize(
    runs: dict[str, list[Load]],
    fixed: dict[str, Load],
    requests: int,
    concurrency: int,
    rate: float,
    kind: str,
) -> dict[str, Any]:
    """The webhook bench's record: best closed-loop run per side, the fixed-rate run; the
    throughput target is a ratio to the store-only reference on ``kind``'s database."""
    best = {
        who: max((x.summary() for x in loads), key=lambda s: s["per_second"])
        for who, loads in runs.items()
    }
    ratio = round(best["touchbase"]["per_second"] / best["bare"]["per_second"], 3)
    to_store = round(best["touchbase"]["per_second"] / best["store"]["per_second"], 3)
    at_rate = {who: load.summary() for who, load in fixed.items()}
    p99 = at_rate["touchbase"]["p99_ms"]
    return {
        "requests_per_run": requests,
        "concurrency": concurrency,
        "gunicorn_workers": WORKERS,
        "repeat": len(runs["bare"]),
        **best,
        "ratio": ratio,
        "ratio_to_store": to_store,
        "rounds": {who: [x.summary() for x in loads] for who, loads in runs.items()},
        "fixed_rate_per_second": rate,
        "at_fixed_rate": at_rate,
        # of the store-only reference (``ratio_to_store``), as issue 17 defines it
        "target_ratio": TARGET_RATIO_TO_STORE[kind],
        "target_p99_ms": TARGET_P99_MS,
        "met_ratio": to_store >= TARGET_RATIO_TO_STORE[kind],
        "met_p99": p99 < TARGET_P99_MS,
    }
