"""Re-importing a client whose weekly rhythm differs: the one running series changes (from
now on, as an edit on the series' page), several running series refuse the row, an
identical rhythm or none changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Appointment, AppointmentSeries, AuditEntry, Client
from tests.api.conftest import Api
from tests.api.test_client_imports import HEADER, MARIA, NOW, count, send

# Maria first comes on Mondays and Thursdays at 10:00 (Chicago) for an hour.
TUESDAYS = MARIA.replace('"Mon,Thu",10:00,60', '"Tue",11:00,45')


def _series(session: Session) -> list[tuple[str, datetime, int]]:
    session.expire_all()
    found = session.scalars(select(AppointmentSeries).order_by(AppointmentSeries.id))
    return [(s.rrule, s.starts_local, s.duration_minutes) for s in found]


def _future_starts(session: Session) -> list[datetime]:
    query = select(Appointment.starts_at).where(
        Appointment.starts_at > NOW, Appointment.status == "scheduled"
    )
    return sorted(session.scalars(query))


def _second_series(admin_api: Api, client_id: int) -> None:
    with time_machine.travel(NOW, tick=False):
        response = admin_api.http.post(
            "/api/v1/series",
            json={
                "client_id": client_id,
                "starts_at": "2027-03-05T15:00:00",
                "rrule": "FREQ=WEEKLY;BYDAY=FR",
                "duration_minutes": 30,
            },
            headers={"Authorization": f"Bearer {admin_api.token}"},
        )
    assert response.status_code == 201, response.get_json()


def test_a_changed_rhythm_is_previewed_as_an_update_and_writes_nothing(
    admin_api: Api, api: Api, session: Session
) -> None:
    assert send(admin_api, f"{HEADER}\n{MARIA}\n").status_code == 200
    before, starts = _series(session), _future_starts(session)
    response = send(admin_api, f"{HEADER}\n{TUESDAYS}\n", dry_run=True)
    assert response.status_code == 200
    [row] = response.get_json()["rows"]
    assert (row["outcome"], row["reason"]) == ("updated", "weekly rhythm changed")
    assert (_series(session), _future_starts(session)) == (before, starts)


def test_a_changed_rhythm_changes_the_one_running_series_from_now_on(
    admin_api: Api, api: Api, session: Session
) -> None:
    created = send(admin_api, f"{HEADER}\n{MARIA}\n").get_json()["rows"][0]
    assert _future_starts(session)[0] == datetime(2027, 3, 4, 16, 0, tzinfo=UTC)  # Thu 10:00
    response = send(admin_api, f"{HEADER}\n{TUESDAYS}\n")
    assert response.status_code == 200
    [row] = response.get_json()["rows"]
    assert (row["outcome"], row["client_id"]) == ("updated", created["client_id"])
    assert _series(session) == [("FREQ=WEEKLY;BYDAY=TU", datetime(2027, 3, 1, 11, 0), 45)]
    # Its sessions to come follow: Tuesdays at 11:00 in Chicago (17:00 UTC), 45 minutes.
    starts = _future_starts(session)
    assert starts[:2] == [
        datetime(2027, 3, 9, 17, 0, tzinfo=UTC),
        datetime(2027, 3, 16, 16, 0, tzinfo=UTC),  # daylight saving time began on the 14th
    ]
    ends = session.scalars(select(Appointment.ends_at).where(Appointment.starts_at > NOW))
    assert {e - s for s, e in zip(starts, sorted(ends), strict=True)} == {
        datetime(2027, 3, 9, 17, 45) - datetime(2027, 3, 9, 17, 0)
    }
    fields = session.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.entity == "series", AuditEntry.action == "update"
        )
    ).all()
    assert fields == [
        {
            "client_id": created["client_id"],
            "fields": ["duration_minutes", "rrule", "starts_local"],
            "via": "api",
        }
    ]


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_rhythm_for_a_client_with_several_running_series_is_refused(
    admin_api: Api, api: Api, session: Session, dry_run: bool
) -> None:
    created = send(admin_api, f"{HEADER}\n{MARIA}\n").get_json()["rows"][0]
    _second_series(admin_api, created["client_id"])
    before = _series(session)
    response = send(admin_api, f"{HEADER}\n{TUESDAYS}\n", dry_run=dry_run)
    assert response.status_code == 422
    [row] = response.get_json()["rows"]
    assert row["outcome"] == "refused"
    assert row["reason"].startswith("the client has 2 weekly series running")
    assert "change it on the client's page" in row["reason"]
    assert _series(session) == before


@pytest.mark.parametrize(
    ("again", "outcome"),
    [
        (MARIA, "unchanged"),  # the same rhythm
        (MARIA.replace('"Mon,Thu",10:00,60,2027-03-01', ",,,"), "unchanged"),  # none given
    ],
)
def test_the_same_rhythm_or_none_changes_no_series(
    admin_api: Api, api: Api, session: Session, again: str, outcome: str
) -> None:
    assert send(admin_api, f"{HEADER}\n{MARIA}\n").status_code == 200
    before, starts = _series(session), _future_starts(session)
    [row] = send(admin_api, f"{HEADER}\n{again}\n").get_json()["rows"]
    assert (row["outcome"], row.get("reason")) == (outcome, None)
    assert (_series(session), _future_starts(session)) == (before, starts)


def test_a_rhythm_for_a_client_whose_series_ended_starts_a_new_one(
    admin_api: Api, api: Api, session: Session
) -> None:
    created = send(admin_api, f"{HEADER}\n{MARIA}\n").get_json()["rows"][0]
    [series_id] = session.scalars(select(AppointmentSeries.id)).all()
    with time_machine.travel(NOW, tick=False):
        ended = admin_api.http.delete(
            f"/api/v1/series/{series_id}",
            headers={"Authorization": f"Bearer {admin_api.token}"},
        )
    assert ended.status_code == 204
    [row] = send(admin_api, f"{HEADER}\n{TUESDAYS}\n").get_json()["rows"]
    assert (row["outcome"], row.get("reason")) == ("updated", None)
    assert [s[0] for s in _series(session)] == ["FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=WEEKLY;BYDAY=TU"]
    assert count(session, Client) == 1 and created["client_id"] == row["client_id"]
