"""Migrations: the only source of the schema, and it matches the models exactly."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from service import migrate
from service.db import Base, make_engine


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
