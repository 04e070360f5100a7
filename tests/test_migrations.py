"""Migrations: the only source of the schema, and it matches the models exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
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


def test_0017_gives_existing_contacts_texts_and_no_agreement_to_calls(
    make_database: Callable[[], str],
) -> None:
    url = make_database()
    migrate.upgrade(url, "0016")
    engine = make_engine(url)
    now = datetime(2027, 3, 4, 15, 0, tzinfo=UTC)
    at = now if engine.dialect.name == "postgresql" else now.replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO clients (name, timezone, language, notes, created_at, updated_at) "
                "VALUES ('Sam', 'UTC', 'en', '', :at, :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO contacts (client_id, name, relation, phone, reminders, checkins, "
                "created_at) VALUES (1, 'Sam', 'self', '+16175550123', true, true, :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text("INSERT INTO phone_numbers (phone, updated_at) VALUES ('+16175550123', :at)"),
            {"at": at},
        )
    migrate.upgrade(url, "0017")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT channel FROM contacts")).scalar_one() == "sms"
        consent = text("SELECT voice_consent_at, voice_opted_out_at FROM phone_numbers")
        assert conn.execute(consent).one() == (None, None)
    with pytest.raises(IntegrityError), engine.begin() as conn:  # the CHECK keeps the words
        conn.execute(text("UPDATE contacts SET channel = 'fax'"))
    migrate.downgrade(url, "0016")
    contacts = {c["name"] for c in inspect(engine).get_columns("contacts")}
    numbers = {c["name"] for c in inspect(engine).get_columns("phone_numbers")}
    engine.dispose()
    assert "channel" not in contacts
    assert not {"voice_consent_at", "voice_consent_by_id", "voice_opted_out_at"} & numbers


def test_0018_gives_stored_replies_the_text_channel(make_database: Callable[[], str]) -> None:
    url = make_database()
    migrate.upgrade(url, "0017")
    engine = make_engine(url)
    now = datetime(2027, 3, 4, 15, 0, tzinfo=UTC)
    at = now if engine.dialect.name == "postgresql" else now.replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO inbound_messages (provider_sid, from_phone, to_phone, body, "
                "num_media, fields, received_at) VALUES ('SM1', '+16175550123', '', '7', 0, "
                "'{}', :at)"
            ),
            {"at": at},
        )
    migrate.upgrade(url, "0018")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT channel FROM inbound_messages")).scalar_one() == "sms"
    with pytest.raises(IntegrityError), engine.begin() as conn:  # the CHECK keeps the words
        conn.execute(text("UPDATE inbound_messages SET channel = 'fax'"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE inbound_messages SET channel = 'voice'"))
    # A key press is not a text: going below 0018 refuses (on a connection of the test's
    # own, closed however the migration ends).
    with pytest.raises(RuntimeError, match="key presses"), engine.begin() as conn:
        command.downgrade(migrate.alembic_config(connection=conn), "0017")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM inbound_messages"))
    migrate.downgrade(url, "0017")
    columns = {c["name"] for c in inspect(engine).get_columns("inbound_messages")}
    engine.dispose()
    assert "channel" not in columns
