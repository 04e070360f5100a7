"""Many rows at once (``service.bulk_rows``): inserted as given, a taken key left alone,
values shared by every row or differing between them, and a column matched against many
values, the same on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import bulk_rows
from service.models import Appointment, AppointmentSeries
from tests import factories

START = datetime(2027, 3, 4, 14, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _series(session: Session) -> AppointmentSeries:
    client, _ = factories.client_with_phone(session)
    series = AppointmentSeries(
        client_id=client.id,
        rrule="FREQ=DAILY",
        starts_local=datetime(2027, 3, 4, 9, 0),
        timezone="America/New_York",
        duration_minutes=60,
    )
    session.add(series)
    session.flush()
    return series


def _row(series: AppointmentSeries, day: int, **changes: Any) -> dict[str, Any]:
    at = START + timedelta(days=day)
    row = {
        "client_id": series.client_id,
        "series_id": series.id,
        "occurrence_start": at,
        "starts_at": at,
        "ends_at": at + HOUR,
        "status": "scheduled",
        "detached": False,
    }
    return row | changes


def _stored(session: Session) -> list[tuple[Any, ...]]:
    a = Appointment
    query = select(a.occurrence_start, a.starts_at, a.ends_at, a.status, a.detached)
    return [tuple(r) for r in session.execute(query.order_by(a.starts_at))]


@pytest.mark.parametrize("count", [1, 2, 50])
def test_rows_are_inserted_as_given_and_their_created_columns_returned(
    session: Session, count: int
) -> None:
    series = _series(session)
    # Some columns differ between rows, some are the same in all (sent once on PostgreSQL).
    rows = [_row(series, d, status="cancelled" if d % 3 else "scheduled") for d in range(count)]
    created = bulk_rows.insert_new(
        session, Appointment, rows, ["series_id", "occurrence_start"], [Appointment.starts_at]
    )
    assert sorted(at for (at,) in created) == [r["starts_at"] for r in rows]
    assert _stored(session) == [
        (r["occurrence_start"], r["starts_at"], r["ends_at"], r["status"], False) for r in rows
    ]


def test_a_row_whose_key_is_taken_is_left_as_it_is_and_not_returned(session: Session) -> None:
    series = _series(session)
    unique = ["series_id", "occurrence_start"]
    bulk_rows.insert_new(session, Appointment, [_row(series, 1, status="cancelled")], unique, [])
    rows = [_row(series, d) for d in range(3)]
    created = bulk_rows.insert_new(session, Appointment, rows, unique, [Appointment.starts_at])
    assert sorted(at for (at,) in created) == [START, START + timedelta(days=2)]
    assert [status for *_, status, _ in _stored(session)] == ["scheduled", "cancelled", "scheduled"]


def test_the_same_row_twice_in_one_call_is_created_once(session: Session) -> None:
    series = _series(session)
    rows = [_row(series, 0), _row(series, 0), _row(series, 1), _row(series, 1)]
    created = bulk_rows.insert_new(
        session, Appointment, rows, ["series_id", "occurrence_start"], [Appointment.id]
    )
    assert len(created) == 2
    assert len(_stored(session)) == 2


def test_values_that_are_none_in_every_row_or_in_some_are_stored_as_none(
    session: Session,
) -> None:
    series = _series(session)
    rows = [
        _row(series, d, occurrence_start=None if d else START, series_id=None) for d in range(3)
    ]
    bulk_rows.insert_new(session, Appointment, rows, ["series_id", "occurrence_start"], [])
    found = session.execute(
        select(Appointment.series_id, Appointment.occurrence_start).order_by(Appointment.starts_at)
    ).all()
    assert [tuple(r) for r in found] == [(None, START), (None, None), (None, None)]


@pytest.mark.parametrize("wanted", [[], [1], list(range(0, 40, 3))])
def test_among_matches_a_column_against_many_values(session: Session, wanted: list[int]) -> None:
    series = _series(session)
    rows = [_row(series, d) for d in range(40)]
    bulk_rows.insert_new(session, Appointment, rows, ["series_id", "occurrence_start"], [])
    ids = {at: i for i, at in session.execute(select(Appointment.id, Appointment.starts_at))}
    picked = [ids[START + timedelta(days=d)] for d in wanted]
    query = select(Appointment.id).where(bulk_rows.among(session, Appointment.id, picked))
    assert sorted(session.scalars(query)) == sorted(picked)
