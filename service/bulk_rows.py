"""Inserting many rows of one table at once, the cheapest way each database offers.

PostgreSQL takes them as one array per column, unnested into rows by the server: a handful
of parameters whatever the number of rows. (As an executemany, SQLAlchemy writes pages of
``VALUES`` rows with a dozen parameters each, and psycopg parses every such page anew: most
of a planning tick's time went there.) SQLite, in process, takes them as an executemany.
Either way a row whose unique key is taken is left as it is, and the columns asked for are
returned for the rows created.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.db import Base, insert

CHUNK = 20_000  # rows per statement on PostgreSQL: the arrays stay a few megabytes


def insert_new(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    unique: Sequence[str],
    returning: Sequence[Any],
) -> list[tuple[Any, ...]]:
    """Insert these rows (every one with the same keys) unless their ``unique`` columns are
    taken; ``returning`` of each row created."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        plain = insert(session, model).on_conflict_do_nothing(index_elements=list(unique))
        return [tuple(r) for r in session.execute(plain.returning(*returning), list(rows))]
    names = list(rows[0])
    columns = model.__table__.c
    created: list[tuple[Any, ...]] = []
    for first in range(0, len(rows), CHUNK):
        chunk = rows[first : first + CHUNK]
        arrays = [
            cast(
                bindparam(f"p{i}", [r[name] for r in chunk], ARRAY(columns[name].type)),
                ARRAY(columns[name].type),
            )
            for i, name in enumerate(names)
        ]
        unnested = func.unnest(*arrays).table_valued(*names).render_derived()
        statement = (
            insert(session, model)
            .from_select(names, select(*unnested.c))
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(*returning)
        )
        created += [tuple(r) for r in session.execute(statement)]
    return created
