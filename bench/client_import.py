"""Importing a practice's clients from a CSV file: ``client_import.import_clients`` of N rows
(``--import-rows``, 5,000: the issue's size) in one transaction, against the bare minimum
writing the same rows.

The file is shaped like the slow test's (``tests/api/test_client_import_size.py``): every
client with its own phone, every third with a caregiver, every second with a weekly rhythm
(a first date two days before ``NOW``, so each series has occurrences to book and texts to
plan within the horizon). TouchBase reads the file, checks every row against the database,
writes clients, contacts and series through ``roster`` and ``bookings``, books the
occurrences up to the horizon, plans their texts and records the audit entries, then
commits; it is timed from the text to the commit. The same file is then imported again
(nothing changes: every row "unchanged") and timed too.

The bare side is given every row the TouchBase import wrote (read back from its database
outside the timing: clients, contacts, series, appointments, planned texts, audit entries)
and inserts them into a fresh schema with one executemany of SQLAlchemy Core per table, in
one transaction: what any import must at least write. Afterwards both databases must hold
the same rows.
"""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from bench.common import NOW, Databases, StatementCounter, Timed, app_config, timed
from service import accounts, client_import, create_app
from service.config import settings_of
from service.db import get_db
from service.models import (
    Appointment,
    AppointmentSeries,
    AuditEntry,
    Client,
    Contact,
    OutboundMessage,
    User,
)

DAYS = ("Mon,Thu", "Tue", "Wed,Fri", "Thu", "Mon")
HEADER = "Name,Mobile Phone,Caregiver 1 Name,Caregiver 1 Phone,Days,Time,Length,First Date"
# Parents before children: the order the bare side inserts in.
TABLES = (User, Client, Contact, AppointmentSeries, Appointment, OutboundMessage, AuditEntry)
ADMIN = "admin@practice.example"


def practice_file(rows: int) -> str:
    """``rows`` clients, every third with a caregiver, every second with a weekly rhythm."""
    lines = [HEADER]
    for n in range(rows):
        caregiver = f"Carer {n},617-556-{n % 10000:04d}" if n % 3 == 0 else ","
        rhythm = f'"{DAYS[n % 5]}",{9 + n % 8}:00,60,2027-03-01' if n % 2 == 0 else ",,,"
        lines.append(f"Client {n},617-555-{n % 10000:04d},{caregiver},{rhythm}")
    return "\n".join(lines) + "\n"


def build(dbs: Databases, label: str) -> Flask:
    """An app on a fresh migrated database with one admin account."""
    app = create_app(app_config(dbs.make(label)))
    db = get_db(app)
    dbs.engines.append(db.engine)
    with db.session() as session:
        accounts.create_user(
            session, settings_of(app), ADMIN, "Admin", "bench-password-long-enough", admin=True
        )
        session.commit()
    return app


def touchbase_import(app: Flask, text: str) -> tuple[Timed, dict[str, int]]:
    """Import ``text`` as the admin and commit; the time and the totals."""
    with get_db(app).session() as session, timed() as took:
        admin = session.scalars(select(User).where(User.email == ADMIN)).one()
        result = client_import.import_clients(
            session, settings_of(app), admin, text, NOW, dry_run=False, via="bench"
        )
        assert result.write, result.refused[:3]
        session.commit()
    return took, result.totals


def rows_of(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables an import writes, by table, in id order."""
    with engine.connect() as conn:
        return {
            m.__tablename__: [
                dict(r) for r in conn.execute(select(m.__table__).order_by(m.id)).mappings()
            ]
            for m in TABLES
        }


def bare_write(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> int:
    """The bare minimum: one executemany INSERT per table, one transaction; the
    statements issued."""
    counter = StatementCounter(engine)
    with engine.begin() as conn:
        for model in TABLES:
            if rows[model.__tablename__]:
                conn.execute(insert(model.__table__), rows[model.__tablename__])
    counter.close()
    return counter.statements


def counts(engine: Engine) -> dict[str, int]:
    """How many rows each table holds."""
    with engine.connect() as conn:
        return {
            m.__tablename__: conn.scalar(select(func.count()).select_from(m.__table__)) or 0
            for m in TABLES
        }


def bench_client_import(dbs: Databases, rows: int) -> dict[str, Any]:
    """Import ``rows`` rows through TouchBase, then again; write the same rows bare."""
    app = build(dbs, f"import{rows}")
    bare = dbs.engine(dbs.make(f"import{rows}_bare"))
    engine = get_db(app).engine
    text = practice_file(rows)
    counter = StatementCounter(engine)
    took, totals = touchbase_import(app, text)
    statements = counter.statements
    counter.reset()
    again, again_totals = touchbase_import(app, text)
    again_statements = counter.statements
    counter.close()
    written = rows_of(engine)
    with timed() as bare_took:
        bare_statements = bare_write(bare, written)
    same = rows_of(bare) == written
    print(f"  import {rows} rows: {took.wall:.1f} s", file=sys.stderr, flush=True)
    return {
        "rows": rows,
        "totals": totals,
        "written": counts(engine),
        "touchbase_s": round(took.wall, 2),
        "touchbase_cpu_s": round(took.cpu, 2),
        "sql_statements": statements,
        "again_s": round(again.wall, 2),
        "again_unchanged": again_totals["unchanged"],
        "again_sql_statements": again_statements,
        "bare_s": round(bare_took.wall, 3),
        "bare_sql_statements": bare_statements,
        "ratio": round(took.wall / max(bare_took.wall, 1e-9), 1),
        "same_work": same and again_totals["unchanged"] == rows,
    }


def client_import_lines(r: dict[str, Any]) -> list[str]:
    """The import bench's rows, for ``bench.run``'s table."""
    w = r["written"]
    return [
        f"  {r['rows']} rows: {w['clients']} clients, {w['contacts']} contacts,"
        f" {w['appointment_series']} series, {w['appointments']} appointments,"
        f" {w['outbound_messages']} texts, {w['audit_log']} audit entries",
        f"  TouchBase {r['touchbase_s']:.2f} s ({r['sql_statements']} statements),"
        f" bare {r['bare_s']:.3f} s ({r['bare_sql_statements']}), ratio {r['ratio']};"
        f" again (unchanged) {r['again_s']:.2f} s ({r['again_sql_statements']});"
        f" same work: {r['same_work']}",
    ]
