"""Migrations: the only source of the schema, and it matches the models exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from service import migrate
from service.db import Base, make_engine
from service.models import OutboundMessage


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_it_migrates_down_to_nothing_and_up_again(make_database: Callable[[], str]) -> None:
    url = make_database()
    migrate.upgrade(url)
    engine = make_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    migrate.downgrade(url, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_0004_reads_the_planned_start_of_existing_texts_out_of_their_keys(
    make_database: Callable[[], str],
) -> None:
    url = make_database()
    migrate.upgrade(url, "0003")
    engine = make_engine(url)
    start = datetime(2027, 3, 4, 15, 0, tzinfo=UTC)
    at = start if engine.dialect.name == "postgresql" else start.replace(tzinfo=None)
    with engine.begin() as conn:
        for key, kind in (
            (f"reminder:4:9:86400:{int(start.timestamp())}", "reminder"),
            (f"checkin:4:9:259200:{int(start.timestamp())}", "checkin"),
            ("manual:2f6c1a3e-0000-4000-8000-000000000000", "manual"),
        ):
            conn.execute(
                text(
                    "INSERT INTO outbound_messages (idempotency_key, to_phone, kind, body, "
                    "send_at, status, attempts, created_at, updated_at) VALUES (:key, "
                    "'+16175550123', :kind, 'Hi', :at, 'planned', 0, :at, :at)"
                ),
                {"key": key, "kind": kind, "at": at},
            )
    migrate.upgrade(url)
    with Session(engine) as session:
        rows = session.execute(
            select(
                OutboundMessage.kind, OutboundMessage.planned_start, OutboundMessage.channel
            ).order_by(OutboundMessage.id)
        ).all()
    engine.dispose()
    assert rows == [("reminder", start, "sms"), ("checkin", start, "sms"), ("manual", None, "sms")]
