"""The bookkeeping that lets a planning tick read only the series due: each series'
``planned_until`` and ``next_start`` (its first occurrence not yet materialized), right
after a tick, a series' start, edit, end and restore, across a DST switch, and as migrated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from service import bookings, migrate, planner, series_plan
from service.config import Settings, settings_of
from service.db import make_engine
from service.models import Appointment, AppointmentSeries, Client
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
HORIZON = NOW + timedelta(days=14)  # the default PLANNING_HORIZON_DAYS; DST begins 3/14
THURSDAY_9 = datetime(2027, 3, 4, 9, 0)  # local New York wall-clock time


@pytest.fixture
def settings(app: Flask) -> Settings:
    found = settings_of(app)
    assert found.planning_horizon_days == 14
    return found


def _series(session: Session, rrule: str, *, ends_at: datetime | None = None) -> int:
    """A series of a new client, never planned (as the demo or a test writes one)."""
    client, _ = factories.client_with_phone(session)
    series = AppointmentSeries(
        client_id=client.id,
        rrule=rrule,
        starts_local=THURSDAY_9,
        timezone="America/New_York",
        duration_minutes=60,
        ends_at=ends_at,
        created_at=NOW,
    )
    session.add(series)
    session.commit()
    return series.id


def _bookkeeping(session: Session, series_id: int) -> tuple[datetime | None, datetime | None]:
    session.expire_all()
    series = session.get(AppointmentSeries, series_id)
    assert series is not None
    return series.planned_until, series.next_start


def _starts(session: Session, series_id: int) -> list[datetime]:
    session.expire_all()
    query = select(Appointment.starts_at).where(Appointment.series_id == series_id)
    return sorted(session.scalars(query))


def _utc(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rrule", "ends_at", "next_start"),
    [
        # 09:00 New York is 14:00 UTC before the switch on 3/14 and 13:00 UTC after it.
        ("FREQ=WEEKLY", None, _utc(18, 13)),
        ("FREQ=WEEKLY;INTERVAL=2", None, _utc(18, 13)),
        ("FREQ=DAILY", None, _utc(18, 13)),
        ("FREQ=MONTHLY", None, _utc(4, 13, month=4)),  # past the tick's first walk
        ("FREQ=WEEKLY;COUNT=2", None, None),  # both occurrences inside the horizon
        ("FREQ=WEEKLY", _utc(20, 0), _utc(18, 13)),
        ("FREQ=WEEKLY", _utc(18, 13), None),  # the end is exclusive
    ],
)
def test_a_tick_records_the_horizon_and_the_first_occurrence_at_or_after_it(
    settings: Settings,
    session: Session,
    rrule: str,
    ends_at: datetime | None,
    next_start: datetime | None,
) -> None:
    series_id = _series(session, rrule, ends_at=ends_at)
    planner.plan_horizon(session, settings, NOW)
    session.commit()
    assert _bookkeeping(session, series_id) == (HORIZON, next_start)
    assert all(at < HORIZON for at in _starts(session, series_id))


def test_a_tick_reads_a_series_again_only_once_its_next_occurrence_enters_the_horizon(
    settings: Settings, session: Session
) -> None:
    series_id = _series(session, "FREQ=WEEKLY")
    planner.plan_horizon(session, settings, NOW)
    session.commit()
    assert _starts(session, series_id) == [_utc(4, 14), _utc(11, 14)]
    # Five minutes later nothing is due: the series is not even marked planned further.
    quiet = planner.plan_horizon(session, settings, NOW + timedelta(minutes=5))
    session.commit()
    assert (quiet.materialized, _bookkeeping(session, series_id)) == (0, (HORIZON, _utc(18, 13)))
    # The day the 3/18 session (after the DST switch) comes into the horizon, it is made.
    later = NOW + timedelta(days=1)
    grown = planner.plan_horizon(session, settings, later)
    session.commit()
    assert grown.materialized == 1
    assert _starts(session, series_id)[-1] == _utc(18, 13)
    assert _bookkeeping(session, series_id) == (later + timedelta(days=14), _utc(25, 13))


def test_a_next_start_earlier_than_the_truth_as_migrated_is_made_exact_by_the_next_tick(
    settings: Settings, session: Session
) -> None:
    series_id = _series(session, "FREQ=WEEKLY")
    planner.plan_horizon(session, settings, NOW)
    session.commit()
    s = AppointmentSeries
    session.execute(update(s).where(s.id == series_id).values(next_start=s.planned_until))
    session.commit()
    again = planner.plan_horizon(session, settings, NOW + timedelta(minutes=5))
    session.commit()
    assert again.materialized == 0  # nothing made twice
    assert _bookkeeping(session, series_id) == (NOW + timedelta(minutes=5, days=14), _utc(18, 13))


def _start(session: Session, settings: Settings, rrule: str) -> AppointmentSeries:
    client, _ = factories.client_with_phone(session)
    series = bookings.start_series(
        session,
        settings,
        None,
        client,
        starts_local=THURSDAY_9,
        rrule=rrule,
        duration=60,
        ends_at=None,
        now=NOW,
        via="test",
    )
    session.commit()
    return series


def test_a_series_started_is_marked_with_its_next_occurrence_past_the_horizon(
    settings: Settings, session: Session
) -> None:
    series = _start(session, settings, "FREQ=MONTHLY")
    assert _bookkeeping(session, series.id) == (HORIZON, _utc(4, 13, month=4))
    # Its next session is three weeks away: ticks until then read nothing of it.
    quiet = planner.plan_horizon(session, settings, NOW + timedelta(days=7))
    session.commit()
    assert (quiet.materialized, _bookkeeping(session, series.id)[0]) == (0, HORIZON)


def test_an_edit_marks_the_series_by_its_new_rule_and_the_next_tick_follows_it(
    settings: Settings, session: Session
) -> None:
    series = _start(session, settings, "FREQ=MONTHLY")
    edited_at = NOW + timedelta(hours=1)
    locked = bookings.lock_series(session, series.id)
    assert locked is not None
    changes = {"rrule": "FREQ=WEEKLY"}
    bookings.change_series(session, settings, None, locked, changes, edited_at, via="test")
    session.commit()
    assert _bookkeeping(session, series.id) == (edited_at + timedelta(days=14), _utc(18, 13))
    # A day later the weekly 3/18 session is due (by the monthly rule nothing would be).
    grown = planner.plan_horizon(session, settings, NOW + timedelta(days=1))
    session.commit()
    assert grown.materialized == 1
    assert _starts(session, series.id) == [_utc(4, 14), _utc(11, 14), _utc(18, 13)]


def test_an_ended_series_has_no_next_start_and_a_restored_one_has_it_back(
    settings: Settings, session: Session
) -> None:
    series = _start(session, settings, "FREQ=WEEKLY")
    ended_at = NOW + timedelta(hours=2)
    locked = bookings.lock_series(session, series.id)
    assert locked is not None
    bookings.end_series(session, settings, None, locked, ended_at, via="test")
    session.commit()
    assert _bookkeeping(session, series.id) == (ended_at + timedelta(days=14), None)
    assert _starts(session, series.id) == []
    restored_at = NOW + timedelta(hours=3)
    locked = bookings.lock_series(session, series.id)
    assert locked is not None
    bookings.restore_series(session, settings, None, locked, restored_at, via="test")
    session.commit()
    assert _bookkeeping(session, series.id) == (restored_at + timedelta(days=14), _utc(18, 13))
    assert _starts(session, series.id) == [_utc(4, 14), _utc(11, 14)]
    grown = planner.plan_horizon(session, settings, NOW + timedelta(days=1))
    session.commit()
    assert grown.materialized == 1


def test_a_tick_marks_a_series_the_session_has_loaded_as_well(
    settings: Settings, session: Session
) -> None:
    series_id = _series(session, "FREQ=WEEKLY")
    loaded = session.get(AppointmentSeries, series_id)
    assert loaded is not None and loaded.next_start is None
    planner.plan_horizon(session, settings, NOW)
    assert (loaded.planned_until, loaded.next_start) == (HORIZON, _utc(18, 13))
    session.commit()


def test_0014_gives_every_planned_series_its_planned_until_as_next_start(
    make_database: Callable[[], str],
) -> None:
    url = make_database()
    migrate.upgrade(url, "0013")
    engine = make_engine(url)
    at = HORIZON if engine.dialect.name == "postgresql" else HORIZON.replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO clients (name, timezone, language, notes, created_at, updated_at) "
                "VALUES ('Sam', 'America/New_York', 'en', '', :at, :at)"
            ),
            {"at": at},
        )
        for planned in (at, None):
            conn.execute(
                text(
                    "INSERT INTO appointment_series (client_id, rrule, starts_local, timezone, "
                    "duration_minutes, planned_until, created_at, updated_at) VALUES ("
                    "(SELECT min(id) FROM clients), 'FREQ=WEEKLY', :first, 'America/New_York', "
                    "60, :planned, :at, :at)"
                ),
                {"first": THURSDAY_9, "planned": planned, "at": at},
            )
    migrate.upgrade(url)
    with Session(engine) as session:
        rows = session.execute(
            select(AppointmentSeries.planned_until, AppointmentSeries.next_start).order_by(
                AppointmentSeries.id
            )
        ).all()
        assert session.scalar(select(func.count()).select_from(Client)) == 1
    engine.dispose()
    assert rows == [(HORIZON, HORIZON), (None, None)]


def test_a_series_changed_after_the_tick_read_it_keeps_the_marks_of_the_change(
    settings: Settings, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    series_id = _series(session, "FREQ=WEEKLY")
    materialize = series_plan._materialize
    edit_marks = (NOW + timedelta(days=14), _utc(5, 14))  # an edit to daily, say

    def edited_meanwhile(*args: Any, **kwargs: Any) -> list[tuple[int, int]]:
        created = materialize(*args, **kwargs)
        # What an edit committing between the tick's read and its marks leaves behind.
        s = AppointmentSeries
        session.execute(
            update(s)
            .where(s.id == series_id)
            .values(
                planned_until=edit_marks[0],
                next_start=edit_marks[1],
                updated_at=NOW + timedelta(seconds=1),
            )
        )
        return created

    monkeypatch.setattr(series_plan, "_materialize", edited_meanwhile)
    planner.plan_horizon(session, settings, NOW)
    session.commit()
    assert _bookkeeping(session, series_id) == edit_marks
