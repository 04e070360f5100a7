"""Dispatch: N due texts sent by TouchBase's dispatcher, against a bare loop of the twilio
SDK's ``messages.create`` at the same concurrency, both to the same fake Twilio."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from bench.common import (
    FROM_NUMBER,
    NOW,
    PUBLIC_BASE_URL,
    ZONE,
    Databases,
    FakeServer,
    StatementCounter,
    Timed,
    app_config,
    median,
    phone,
    timed,
)
from service import create_app
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import Appointment, Client, Contact, OutboundMessage
from service.sms import make_gateway
from service.sms.gateway import TwilioGateway

WARMUP_TEXTS = 20
TARGET_RATIO = 0.7


@dataclass(frozen=True)
class Text:
    """One text to send: recipient and body."""

    to: str
    body: str


def seed_due_texts(app: Flask, first: int, count: int, send_at: datetime) -> list[Text]:
    """Insert ``count`` due reminders, each with its client, contact and appointment."""
    starts = NOW + timedelta(days=1)
    texts = [
        Text(phone(i), f"Hi Client {i}, a reminder of your session tomorrow at 11:00 AM.")
        for i in range(first, first + count)
    ]
    # Bulk inserts with RETURNING: seeding is not measured, and row-by-row ORM adds would
    # take longer than the bench itself.
    with get_db(app).session() as session:
        client_ids = session.scalars(
            insert(Client).returning(Client.id, sort_by_parameter_order=True),
            [
                {"name": f"Client {i}", "timezone": ZONE, "language": "en", "notes": ""}
                for i in range(first, first + count)
            ],
        ).all()
        contact_ids = session.scalars(
            insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [
                {"client_id": c, "name": "self", "relation": "self", "phone": t.to}
                | {"reminders": True, "checkins": True}
                for c, t in zip(client_ids, texts, strict=True)
            ],
        ).all()
        appointment_ids = session.scalars(
            insert(Appointment).returning(Appointment.id, sort_by_parameter_order=True),
            [
                {"client_id": c, "starts_at": starts, "ends_at": starts + timedelta(hours=1)}
                | {"status": "scheduled", "detached": False}
                for c in client_ids
            ],
        ).all()
        session.execute(
            insert(OutboundMessage),
            [
                {
                    # What the planner writes: the key, and the start the text was written for.
                    "idempotency_key": f"reminder:{a}:{c}:86400:{int(starts.timestamp())}",
                    "planned_start": starts,
                    "client_id": cl,
                    "contact_id": c,
                    "appointment_id": a,
                    "to_phone": t.to,
                    "kind": "reminder",
                    "body": t.body,
                    "send_at": send_at,
                    "status": "planned",
                    "attempts": 0,
                }
                for cl, c, a, t in zip(client_ids, contact_ids, appointment_ids, texts, strict=True)
            ],
        )
        session.commit()
    return texts


def bare_client(fake: FakeServer) -> TwilioClient:
    """The twilio SDK's own client, pointed at the fake; no TouchBase code involved."""
    client = TwilioClient(fake.account_sid, fake.auth_token, http_client=TwilioHttpClient(10.0))
    # The SDK's Api domain holds its base URL; swapping it is the least code that reaches
    # a Twilio-compatible server.
    client.api.base_url = fake.base_url
    return client


def bare_send(client: TwilioClient, texts: Sequence[Text], concurrency: int) -> list[str]:
    """The bare minimum: the same SDK call per text, on a thread pool, no database."""

    def send(t: Text) -> str:
        message = client.messages.create(
            to=t.to,
            from_=FROM_NUMBER,
            body=t.body,
            status_callback=f"{PUBLIC_BASE_URL}/sms/status",
        )
        return str(message.sid)

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(send, texts))


def side(t: Timed, n: int) -> dict[str, float]:
    """One side's numbers: seconds, rate, and wall and CPU milliseconds per text."""
    return {
        "seconds": round(t.wall, 4),
        "per_second": round(n / t.wall, 1),
        "ms_per_item": round(t.wall / n * 1000, 3),
        "cpu_ms_per_item": round(t.cpu / n * 1000, 3),
    }


def bench_dispatch(
    dbs: Databases, fake: FakeServer, n: int, concurrency: int, repeat: int
) -> dict[str, Any]:
    """Send N due texts with TouchBase's dispatcher and with a bare SDK loop, ``repeat``
    times, alternating which goes first; compare the best of each and each round's ratio."""
    url = dbs.make("dispatch")
    app = create_app(app_config(url, fake, concurrency))
    settings = settings_of(app)
    db = get_db(app)
    dbs.engines.append(db.engine)
    gateway = make_gateway(settings)
    if not isinstance(gateway, TwilioGateway):
        raise SystemExit("bench: the app did not build a TwilioGateway; check app_config")

    def dispatcher() -> Dispatcher:
        # A fixed clock, as the clock process's would be within one tick.
        return Dispatcher(db, settings, {Channel.SMS: gateway}, now=lambda: NOW)

    # Warm both sides (connections, statement caches, the fake's first threads) untimed.
    warm = seed_due_texts(app, 0, WARMUP_TEXTS, NOW - timedelta(minutes=5))
    client = bare_client(fake)
    bare_send(client, warm, concurrency)
    dispatcher().run()

    rounds: list[dict[str, Any]] = []
    ok = True
    counter = StatementCounter(db.engine)
    for r in range(repeat):
        first = WARMUP_TEXTS + r * n
        texts = seed_due_texts(app, first, n, NOW - timedelta(minutes=1))
        measured: dict[str, Timed] = {}
        for who in ("bare", "touchbase") if r % 2 == 0 else ("touchbase", "bare"):
            fake.reset()
            if who == "bare":
                with timed() as took:
                    sids = bare_send(client, texts, concurrency)
                ok = ok and len(sids) == fake.count() == n
            else:
                counter.reset()
                with timed() as took:
                    counts = dispatcher().run()
                ok = ok and counts["sent"] == fake.count() == n
                statements, connections = counter.statements, counter.connections
            measured[who] = took
        rounds.append(
            {
                "bare": side(measured["bare"], n),
                "touchbase": side(measured["touchbase"], n),
                "ratio": round(measured["bare"].wall / measured["touchbase"].wall, 4),
                "sql_statements_per_text": round(statements / n, 2),
                "new_db_connections_per_text": round(connections / n, 2),
            }
        )
    counter.close()
    gateway.close()
    best_bare = max(x["bare"]["per_second"] for x in rounds)
    best_touchbase = max(x["touchbase"]["per_second"] for x in rounds)
    ratio = round(best_touchbase / best_bare, 3)
    return {
        "texts": n,
        "concurrency": concurrency,
        "repeat": repeat,
        "batch_size": dispatcher().batch_size,
        "batches_at_once": dispatcher().lanes,
        "bare_per_second": best_bare,
        "touchbase_per_second": best_touchbase,
        "ratio": ratio,
        "median_round_ratio": median([x["ratio"] for x in rounds]),
        "target": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO,
        "sql_statements_per_text": rounds[-1]["sql_statements_per_text"],
        "new_db_connections_per_text": rounds[-1]["new_db_connections_per_text"],
        "same_work": ok,
        "rounds": rounds,
    }
