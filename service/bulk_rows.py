"""Many rows of one table at once, the cheapest way each database offers: inserting them,
and matching a column against many values.

PostgreSQL takes rows as one array per column, unnested into rows by the server, and a
value shared by every row once: a handful of parameters whatever the number of rows. (As
an executemany, SQLAlchemy writes pages of ``VALUES`` rows with a dozen parameters each,
and psycopg parses every such page anew: most of a planning tick's time went there.) For
the same reason a long list of values to match is one array (``= ANY``) there, not one
parameter each (``IN``). SQLite, in process, takes an executemany and an ``IN``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, cast, func, select
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
    taken; ``returning`` of each row created (none asked: nothing)."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql" or len(rows) == 1:
        plain = insert(session, model).on_conflict_do_nothing(index_elements=list(unique))
        if returning:
            plain = plain.returning(*returning)  # type: ignore[assignment]
        return _returned(session.execute(plain, list(rows)), returning)
    created: list[tuple[Any, ...]] = []
    for first in range(0, len(rows), CHUNK):
        statement = (
            insert(session, model)
            .from_select(list(rows[0]), _unnested(model, rows[first : first + CHUNK]))
            .on_conflict_do_nothing(index_elements=list(unique))
        )
        if returning:
            statement = statement.returning(*returning)  # type: ignore[assignment]
        created += _returned(session.execute(statement), returning)
    return created


def _returned(result: Any, returning: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in result] if returning else []


def _unnested(model: type[Base], rows: Sequence[dict[str, Any]]) -> Any:
    """A SELECT of these rows, in their keys' order: a column whose value differs between
    rows comes from an unnested array, one all rows share is a single parameter."""
    columns = model.__table__.c
    names = list(rows[0])
    shared = {n for n in names[1:] if all(r[n] == rows[0][n] for r in rows)}
    varying = [n for n in names if n not in shared]  # at least the first: it counts the rows
    arrays = [_array(f"v_{n}", [r[n] for r in rows], columns[n].type) for n in varying]
    unnested = func.unnest(*arrays).table_valued(*varying).render_derived()
    picked = [
        cast(bindparam(f"s_{n}", rows[0][n], columns[n].type), columns[n].type)
        if n in shared
        else unnested.c[n]
        for n in names
    ]
    return select(*picked).select_from(unnested)


def _array(name: str, values: list[Any], item: Any) -> ColumnElement[Any]:
    return cast(bindparam(name, values, ARRAY(item)), ARRAY(item))


def among(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (one array parameter on PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)  # type: ignore[no-any-return]
    return column == any_(_array(f"among_{column.key}", list(values), column.type))  # type: ignore[no-any-return]
