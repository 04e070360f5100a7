"""Saving the practice's settings: ``practice_settings.save`` changing the reminder offsets
(which re-plans every unsent text in the same transaction) and ``wording_versions.save`` of
an edited reminder (which re-renders every planned reminder), for C clients on weekly
series, against the bare minimum doing the same work: hand-written UPDATEs and INSERTs that
bring the same planned texts to the same new times and words.

Both databases are built the same way (``planning.seed_series``, then one
``planner.plan_horizon`` tick, so the planned texts are the planner's own). The bare side is
given the rows to write (the outbox difference the TouchBase save made, computed outside its
timing): what it measures is what any implementation must at least write, one executemany
per kind of statement in one transaction. Afterwards both outboxes must be the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine

from bench.common import NOW, Databases, StatementCounter, Timed, app_config, timed
from bench.planning import seed_series
from service import create_app, planner, practice_settings, wording_versions
from service.config import settings_of
from service.db import get_db
from service.domain.wording import shipped
from service.models import MessageTemplate, OutboundMessage, PracticeSetting

OFFSETS_BEFORE = "24h"  # app_config's REMINDER_OFFSETS
OFFSETS_AFTER = "48h,2h"
EDITED_REMINDER = shipped("reminder", "en") + " See you soon!"
# What a text is to its recipient and to the dispatcher; ids and updated_at are bookkeeping.
COLUMNS = (
    "idempotency_key",
    "client_id",
    "contact_id",
    "appointment_id",
    "to_phone",
    "kind",
    "body",
    "send_at",
    "planned_start",
    "status",
    "template_id",
    "error_message",
)
CHANGED = ("body", "send_at", "planned_start", "status", "template_id", "error_message")


def snapshot(engine: Engine) -> dict[str, dict[str, Any]]:
    """The outbox by idempotency key."""
    m = OutboundMessage
    with engine.connect() as conn:
        rows = conn.execute(select(*(getattr(m, c) for c in COLUMNS))).mappings()
        return {r["idempotency_key"]: dict(r) for r in rows}


def difference(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows a save changed (key and new values) and the rows it added."""
    changed = [
        {"key": k} | {c: row[c] for c in CHANGED}
        for k, row in after.items()
        if k in before and any(before[k][c] != row[c] for c in CHANGED)
    ]
    added = [row for k, row in after.items() if k not in before]
    return changed, added


def bare_write(
    engine: Engine,
    changed: list[dict[str, Any]],
    added: list[dict[str, Any]],
    extra: Any,
) -> int:
    """The bare minimum: ``extra`` (the setting or the template row), one executemany
    UPDATE of the changed texts by key, one executemany INSERT of the new ones, one
    transaction; the statements issued."""
    m = OutboundMessage
    move = (
        update(m)
        .where(m.idempotency_key == bindparam("key"))
        .values({c: bindparam(c) for c in CHANGED} | {"updated_at": NOW})
    )
    counter = StatementCounter(engine)
    with engine.begin() as conn:
        conn.execute(extra)
        if changed:
            conn.execute(move.execution_options(synchronize_session=False), changed)
        if added:
            conn.execute(insert(m), [r | {"attempts": 0} for r in added])
    counter.close()
    return counter.statements


def build(dbs: Databases, clients: int, label: str) -> tuple[Flask, Engine]:
    """A migrated database with C weekly clients, planned by one planner tick."""
    app = create_app(app_config(dbs.make(label)))
    db = get_db(app)
    dbs.engines.append(db.engine)
    seed_series(db.engine, clients)
    with db.session() as session:
        planner.plan_horizon(session, settings_of(app), NOW)
        session.commit()
    return app, db.engine


def measure(app: Flask, engine: Engine, bare: Engine, save: Any, extra: Any) -> dict[str, Any]:
    """Run ``save`` (in a session, committed) on TouchBase's database, then the bare writes
    of the same difference on the other; time, statements, and whether both ended equal."""
    before = snapshot(engine)
    counter = StatementCounter(engine)
    took: Timed
    with get_db(app).session() as session, timed() as took:
        replanned = save(session)
        session.commit()
    statements = counter.statements
    counter.close()
    after = snapshot(engine)
    changed, added = difference(before, after)
    with timed() as bare_took:
        bare_statements = bare_write(bare, changed, added, extra)
    return {
        "touchbase_s": round(took.wall, 3),
        "sql_statements": statements,
        "replanned": replanned,
        "rows_updated": len(changed),
        "rows_inserted": len(added),
        "bare_s": round(bare_took.wall, 4),
        "bare_sql_statements": bare_statements,
        "ratio": round(took.wall / max(bare_took.wall, 1e-9), 1),
        "same_work": snapshot(bare) == after,
    }


def bench_settings_save(dbs: Databases, clients: int) -> dict[str, Any]:
    """The two saves over C clients, each against its bare writes."""
    app, engine = build(dbs, clients, f"settings{clients}")
    _, bare = build(dbs, clients, f"settings{clients}_bare")
    base = settings_of(app)
    now: datetime = NOW
    with engine.connect() as conn:
        planned = len(conn.execute(select(OutboundMessage.id)).all())

    def offsets(session: Any) -> int:
        values = {"reminder_offsets": OFFSETS_AFTER}
        return practice_settings.save(session, base, None, values, now, via="bench").replanned

    def wording(session: Any) -> int:
        saved = wording_versions.save(
            session, "reminder", "en", EDITED_REMINDER, None, now, settings=base
        )
        return int(saved.replanned)

    setting = insert(PracticeSetting).values(
        name="reminder_offsets", value=OFFSETS_AFTER, updated_at=now
    )
    template = insert(MessageTemplate).values(
        kind="reminder", language="en", version=1, body=EDITED_REMINDER, created_at=now
    )
    moved = measure(app, engine, bare, offsets, setting)
    reworded = measure(app, engine, bare, wording, template)
    return {
        "clients": clients,
        "texts_before": planned,
        "offsets": moved,
        "wording": reworded,
        "same_work": moved["same_work"] and reworded["same_work"],
    }
