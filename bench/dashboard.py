"""Dashboard: the inbox and a client page for a practice of 2,000 clients and 200,000
replies, through Flask's test client as a signed-in therapist, against the same pages'
reads as hand-written SQL with the rows joined into a string (no ORM, no template)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import bindparam, insert, text
from sqlalchemy.engine import Connection, Engine

from bench.common import (
    ZONE,
    Databases,
    StatementCounter,
    app_config,
    median,
    ms,
    percentile,
    phone,
)
from service import accounts, create_app
from service.config import settings_of
from service.db import UTCDateTime, get_db, utcnow
from service.models import (
    Appointment,
    AppointmentSeries,
    Client,
    Contact,
    InboundMessage,
    OutboundMessage,
)

EMAIL = "ana@practice.example"
PASSWORD = "bench-password-long-enough"
TARGET_MS = 200.0
CHUNK = 20_000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def seed_practice(app: Flask, clients: int, replies: int) -> int:
    """A therapist with ``clients`` clients, a weekly session each, a check-in after every
    past session and as many pain replies; one in twenty alerts, the latest 300 open.
    Bulk-loaded with plain multi-row inserts; returns the therapist's id."""
    db = get_db(app)
    with db.session() as session:
        user = accounts.create_user(session, settings_of(app), EMAIL, "Ana Ruiz", PASSWORD)
        session.commit()
        therapist = user.id
    now = utcnow()
    weeks = max(1, replies // clients)
    with db.engine.begin() as conn:
        client_ids = conn.scalars(
            insert(Client).returning(Client.id, sort_by_parameter_order=True),
            [
                {"name": f"Client {i:05d}", "timezone": ZONE, "language": "en", "notes": ""}
                | {"therapist_id": therapist}
                for i in range(clients)
            ],
        ).all()
        # One client in three has a caregiver too, so pages differ in what they show.
        contacts = [
            {"client_id": c, "name": f"Client {i:05d}", "relation": "self", "phone": phone(i)}
            | {"reminders": True, "checkins": True}
            for i, c in enumerate(client_ids)
        ] + [
            {"client_id": c, "name": "Carer", "relation": "parent", "phone": phone(i + clients)}
            | {"reminders": True, "checkins": False}
            for i, c in enumerate(client_ids)
            if i % 3 == 0
        ]
        conn.execute(insert(Contact), contacts)
        own = "SELECT client_id, id, phone FROM contacts WHERE relation = 'self'"
        found = conn.execute(text(own)).all()
        contact_of = {c: k for c, k, _ in found}
        phone_of = {c: p for c, _, p in found}
        conn.execute(
            insert(AppointmentSeries),
            [
                {"client_id": c, "rrule": "FREQ=WEEKLY", "timezone": ZONE}
                | {"starts_local": (now - timedelta(weeks=weeks)).replace(tzinfo=None)}
                | {"duration_minutes": 60, "planned_until": now + timedelta(days=14)}
                for c in client_ids
            ],
        )
        for rows in _chunks(
            [
                {"client_id": c, "starts_at": now - timedelta(weeks=w, hours=i % 48)}
                | {"ends_at": now - timedelta(weeks=w, hours=i % 48 - 1)}
                | {"status": "completed" if w > 0 else "scheduled", "detached": False}
                for i, c in enumerate(client_ids)
                for w in range(-2, weeks)
            ]
        ):
            conn.execute(insert(Appointment), rows)
        appointments = conn.execute(
            text("SELECT id, client_id, ends_at FROM appointments WHERE status = 'completed'")
        ).all()
        outbound = [
            {
                "idempotency_key": f"checkin:{a}:{contact_of[c]}:86400",
                "client_id": c,
                "contact_id": contact_of[c],
                "appointment_id": a,
                "to_phone": phone_of[c],
                "kind": "checkin",
                "body": "How is your pain today, 0 to 10? Reply with a number.",
                "send_at": now,
                "sent_at": now,
                "status": "delivered",
                "attempts": 1,
            }
            for a, c, _ in appointments
        ]
        for rows in _chunks(outbound):
            conn.execute(insert(OutboundMessage), rows)
        inbound = [
            {
                "provider_sid": f"SM{k:032d}",
                "from_phone": phone_of[client_ids[k % clients]],
                "to_phone": "+16175550100",
                "body": str(k % 11),
                "num_media": 0,
                "fields": {},
                "received_at": now - timedelta(weeks=k % weeks, hours=k % 48 - 20),
                "client_id": client_ids[k % clients],
                "contact_id": contact_of[client_ids[k % clients]],
                "intent": "pain",
                "pain_score": k % 11,
                "processed_at": now,
            }
            for k in range(replies)
        ]
        for rows in _chunks(inbound):
            conn.execute(insert(InboundMessage), rows)
        # Every alert points at a reply; the newest 300 are still open.
        conn.execute(
            text(
                "INSERT INTO alerts (kind, client_id, inbound_id, detail, created_at, handled_at)"
                " SELECT 'pain', client_id, id, 'pain ' || pain_score || '/10', received_at,"
                " CASE WHEN id > :open_after THEN NULL ELSE received_at END"
                " FROM inbound_messages WHERE id % 20 = 0"
            ),
            {"open_after": replies - 300 * 20},
        )
    return therapist


def sign_in(app: Flask) -> FlaskClient:
    """A test client signed in as the therapist, the way a browser would."""
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None, "no CSRF token on the login page"
    answer = browser.post(
        "/login", data={"csrf_token": token.group(1), "email": EMAIL, "password": PASSWORD}
    )
    if answer.status_code != 302:
        raise SystemExit(f"bench: dashboard sign-in failed ({answer.status_code})")
    return browser


def time_page(
    browser: FlaskClient, path: str, counter: StatementCounter, times: int
) -> dict[str, Any]:
    """Fetch ``path`` ``times`` times (after one warm-up); latency and statements each."""
    browser.get(path)
    latencies, statements, size = [], set(), 0
    for _ in range(times):
        counter.reset()
        began = time.perf_counter()
        answer = browser.get(path)
        latencies.append(time.perf_counter() - began)
        if answer.status_code != 200:
            raise SystemExit(f"bench: {path} answered {answer.status_code}")
        statements.add(counter.statements)
        size = len(answer.get_data())
    return {
        "path": path,
        "median_ms": ms(median(latencies)),
        "p90_ms": ms(percentile(latencies, 0.9)),
        "best_ms": ms(min(latencies)),
        "sql_statements": sorted(statements),
        "bytes": size,
    }


INBOX_SQL = """
SELECT a.id, a.kind, a.detail, a.created_at, c.id, c.name, i.body, i.received_at
FROM alerts a LEFT JOIN clients c ON c.id = a.client_id
LEFT JOIN inbound_messages i ON i.id = a.inbound_id
WHERE c.therapist_id = :user AND a.handled_at IS NULL
ORDER BY a.created_at DESC, a.id DESC LIMIT 200
"""
INBOX_COUNT_SQL = """
SELECT count(a.id) FROM alerts a LEFT JOIN clients c ON c.id = a.client_id
WHERE c.therapist_id = :user AND a.handled_at IS NULL
"""
CLIENT_SQL = [
    "SELECT * FROM users WHERE id = :user",
    "SELECT * FROM clients WHERE id = :client AND therapist_id = :user",
    "SELECT * FROM contacts WHERE client_id = :client ORDER BY id",
    "SELECT * FROM appointment_series WHERE client_id = :client",
    "SELECT * FROM appointments WHERE client_id = :client AND starts_at >= :recent"
    " ORDER BY starts_at, id LIMIT 30",
    "SELECT * FROM outbound_messages WHERE client_id = :client AND status = 'planned'"
    " ORDER BY send_at LIMIT 5",
    "SELECT a.*, u.name FROM alerts a LEFT JOIN users u ON u.id = a.handled_by_id"
    " WHERE a.client_id = :client ORDER BY a.created_at DESC, a.id DESC LIMIT 30",
    "SELECT * FROM outbound_messages WHERE client_id = :client"
    " AND status IN ('sent', 'delivered', 'undelivered', 'failed', 'unknown')"
    " ORDER BY send_at DESC, id DESC LIMIT 150",
    "SELECT * FROM inbound_messages WHERE client_id = :client"
    " ORDER BY received_at DESC, id DESC LIMIT 150",
    "SELECT received_at, pain_score FROM inbound_messages WHERE client_id = :client"
    " AND pain_score IS NOT NULL AND received_at >= :since ORDER BY received_at",
]


def _bare_page(conn: Connection, statements: list[str], params: dict[str, Any]) -> int:
    """Run the statements and join every row into one string: the floor of a page."""
    parts: list[str] = []
    for sql in statements:
        query = text(sql)
        for name in ("recent", "since"):
            if f":{name}" in sql:
                query = query.bindparams(bindparam(name, type_=UTCDateTime()))
        parts.extend(" ".join(map(str, row)) for row in conn.execute(query, params))
    return len("\n".join(parts))


def time_bare(engine: Engine, statements: list[str], params: dict[str, Any], times: int) -> float:
    """Median seconds of the bare page, on a pooled connection like the app's."""
    latencies = []
    with engine.connect() as conn:
        _bare_page(conn, statements, params)
        for _ in range(times):
            began = time.perf_counter()
            _bare_page(conn, statements, params)
            conn.rollback()
            latencies.append(time.perf_counter() - began)
    return median(latencies)


def bench_dashboard(dbs: Databases, clients: int, replies: int, times: int) -> dict[str, Any]:
    """Seed the practice, sign in, time the inbox and three client pages; then the bare."""
    url = dbs.make("dashboard")
    app = create_app(app_config(url))
    db = get_db(app)
    dbs.engines.append(db.engine)
    began = time.perf_counter()
    therapist = seed_practice(app, clients, replies)
    seeded_s = time.perf_counter() - began
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    browser = sign_in(app)
    counter = StatementCounter(db.engine)
    with db.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM clients ORDER BY id"))]
    # A client with a caregiver, one without, and the last one loaded.
    chosen = [ids[0], ids[1], ids[-1]]
    pages = [time_page(browser, "/", counter, times)]
    pages += [time_page(browser, f"/clients/{c}", counter, times) for c in chosen]
    counter.close()
    now = utcnow()
    params = {
        "user": therapist,
        "client": chosen[0],
        "recent": now - timedelta(days=14),
        "since": now - timedelta(days=365),
    }
    bare_engine = dbs.engine(url)
    bare_inbox = time_bare(bare_engine, [INBOX_SQL, INBOX_COUNT_SQL], params, times)
    bare_client = time_bare(bare_engine, CLIENT_SQL, params, times)
    inbox, client_pages = pages[0], pages[1:]
    client_ms = max(p["median_ms"] for p in client_pages)
    client_statements = sorted({s for p in client_pages for s in p["sql_statements"]})
    return {
        "clients": clients,
        "replies": replies,
        "seed_seconds": round(seeded_s, 1),
        "requests_per_page": times,
        "inbox": inbox | {"bare_median_ms": ms(bare_inbox)},
        "client_pages": client_pages,
        "client_page_median_ms": client_ms,
        "client_page_bare_median_ms": ms(bare_client),
        "client_page_sql_statements": client_statements,
        "inbox_ratio": round(inbox["median_ms"] / max(ms(bare_inbox), 0.01), 1),
        "client_page_ratio": round(client_ms / max(ms(bare_client), 0.01), 1),
        "target_ms": TARGET_MS,
        "met_time": max(inbox["median_ms"], client_ms) < TARGET_MS,
        "met_constant_statements": len(inbox["sql_statements"]) == 1
        and len(client_statements) == 1,
    }
