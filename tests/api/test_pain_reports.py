"""Importing pain history and reading the relief curve through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Appointment, AuditEntry, ImportedPainReport
from tests.api.conftest import Api, error_of

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


def new_client(api: Api, name: str = "Sam Lee") -> int:
    response = api.post("/clients", {"name": name, "phone": "6175550123", "confirm_shared": True})
    assert response.status_code == 201
    return int(response.get_json()["id"])


def session_at(session: Session, client_id: int, at: datetime, status: str = "completed") -> int:
    row = Appointment(client_id=client_id, starts_at=at, ends_at=at + timedelta(hours=1))
    row.status = status
    session.add(row)
    session.commit()
    return row.id


def iso(at: datetime) -> str:
    return at.isoformat()


def test_an_imported_score_is_stored_marked_and_tied_to_the_latest_session(
    api: Api, session: Session
) -> None:
    client_id = new_client(api)
    earlier = session_at(session, client_id, NOW - 9 * DAY)
    latest = session_at(session, client_id, NOW - 3 * DAY)
    response = api.post(
        f"/clients/{client_id}/pain-reports",
        {"reported_at": iso(NOW - 2 * DAY), "pain": 4, "note": "from the paper diary"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["imported"] is True
    assert (body["pain"], body["appointment_id"], body["note"]) == (
        4,
        latest,
        "from the paper diary",
    )
    assert datetime.fromisoformat(body["reported_at"]) == NOW - 2 * DAY
    named = api.post(
        f"/clients/{client_id}/pain-reports",
        {"reported_at": iso(NOW - 2 * DAY), "pain": 6, "appointment_id": earlier},
    )
    assert named.status_code == 201 and named.get_json()["appointment_id"] == earlier
    assert len(session.scalars(select(ImportedPainReport)).all()) == 2


def test_a_time_without_offset_is_local_to_the_client(api: Api, session: Session) -> None:
    client_id = new_client(api)
    response = api.post(
        f"/clients/{client_id}/pain-reports", {"reported_at": "2026-01-15T09:30", "pain": 3}
    )
    assert response.status_code == 201
    assert response.get_json()["reported_at"] == "2026-01-15T09:30:00-05:00"
    assert response.get_json()["appointment_id"] is None  # no session before it


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reported_at": iso(NOW - DAY), "pain": 11}, "pain"),
        ({"reported_at": iso(NOW - DAY), "pain": -1}, "pain"),
        ({"reported_at": iso(NOW - DAY), "pain": 5.5}, "pain"),
        ({"reported_at": iso(NOW - DAY), "pain": "5"}, "pain"),
        ({"reported_at": iso(NOW - DAY), "pain": True}, "pain"),
        ({"reported_at": iso(NOW - DAY)}, "pain"),
        ({"reported_at": iso(NOW + DAY), "pain": 5}, "reported_at"),
        ({"reported_at": "yesterday", "pain": 5}, "reported_at"),
        ({"reported_at": "99999-01-01T00:00", "pain": 5}, "reported_at"),
        ({"pain": 5}, "reported_at"),
        ({"reported_at": iso(NOW - DAY), "pain": 5, "appointment_id": 2**31}, "appointment_id"),
        ({"reported_at": iso(NOW - DAY), "pain": 5, "appointment_id": 999}, "appointment_id"),
        ({"reported_at": iso(NOW - DAY), "pain": 5, "note": ""}, "note"),
        ({"reported_at": iso(NOW - DAY), "pain": 5, "note": "a\x00b"}, "note"),
        ({"reported_at": iso(NOW - DAY), "pain": 5, "source": "paper"}, "source"),
    ],
)
def test_bad_reports_are_refused_with_422_and_store_nothing(
    api: Api, session: Session, body: dict[str, Any], field: str
) -> None:
    client_id = new_client(api)
    response = api.post(f"/clients/{client_id}/pain-reports", body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert session.scalars(select(ImportedPainReport)).all() == []


def test_a_body_that_is_not_an_object_is_a_400(api: Api) -> None:
    client_id = new_client(api)
    response = api.post(f"/clients/{client_id}/pain-reports", [1, 2])
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_another_clients_or_a_cancelled_appointment_is_refused(
    api: Api, other_api: Api, session: Session
) -> None:
    mine, theirs = new_client(api), new_client(other_api, "Kim Park")
    cancelled = session_at(session, mine, NOW - 3 * DAY, status="cancelled")
    foreign = session_at(session, theirs, NOW - 3 * DAY)
    for appointment_id in (cancelled, foreign):
        response = api.post(
            f"/clients/{mine}/pain-reports",
            {"reported_at": iso(NOW - DAY), "pain": 5, "appointment_id": appointment_id},
        )
        assert response.status_code == 422
        assert "appointment_id" in error_of(response)["fields"]


def test_another_therapists_client_is_a_404_both_ways(api: Api, other_api: Api) -> None:
    theirs = new_client(other_api, "Kim Park")
    posted = api.post(f"/clients/{theirs}/pain-reports", {"reported_at": iso(NOW), "pain": 5})
    read = api.get(f"/clients/{theirs}/relief")
    for response in (posted, read):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert api.get(f"/clients/{2**31}/relief").status_code == 404


def test_an_admin_sees_every_clients_relief(api: Api, admin_api: Api) -> None:
    client_id = new_client(api)
    assert admin_api.get(f"/clients/{client_id}/relief").status_code == 200


def test_without_a_token_it_is_a_401(api: Api) -> None:
    client_id = new_client(api)
    response = api.http.get(f"/api/v1/clients/{client_id}/relief")
    assert response.status_code == 401


def test_a_new_client_has_no_relief_estimate_yet(api: Api) -> None:
    client_id = new_client(api)
    body = api.get(f"/clients/{client_id}/relief").get_json()
    assert body == {
        "baseline": None,
        "relief_days": None,
        "sessions_used": 0,
        "curve": [],
        "usual_gap_days": None,
    }


def test_imported_history_gives_a_relief_estimate(api: Api, session: Session) -> None:
    client_id = new_client(api)
    # Midday UTC is early morning in New York: whole days later stay on the same local date.
    start = (NOW - 7 * 7 * DAY - 2 * DAY).replace(hour=12, minute=0, second=0)
    for week in range(8):
        at = start + 7 * week * DAY
        session_at(session, client_id, at)
        for day, pain in ((1, 2), (2, 2), (3, 3), (4, 7), (5, 7), (6, 7)):
            if at + day * DAY < NOW:
                response = api.post(
                    f"/clients/{client_id}/pain-reports",
                    {"reported_at": iso(at + day * DAY), "pain": pain},
                )
                assert response.status_code == 201
    body = api.get(f"/clients/{client_id}/relief").get_json()
    assert body["baseline"] == 7.0
    assert body["usual_gap_days"] == 7.0
    assert body["sessions_used"] == 8
    assert body["relief_days"] == pytest.approx(3.8, abs=0.3)
    assert [p["day"] for p in body["curve"]] == [1, 2, 3, 4, 5, 6]
    first = body["curve"][0]
    assert (first["median"], first["low"], first["high"], first["n"]) == (2, 2, 2, 8)


def test_reading_relief_and_importing_are_audited(api: Api, session: Session) -> None:
    client_id = new_client(api)
    api.post(f"/clients/{client_id}/pain-reports", {"reported_at": iso(NOW - DAY), "pain": 5})
    api.get(f"/clients/{client_id}/relief")
    actions = session.execute(
        select(AuditEntry.action, AuditEntry.detail).where(
            AuditEntry.entity == "client", AuditEntry.entity_id == str(client_id)
        )
    ).all()
    assert ("view", {"via": "api", "what": "relief"}) in [(a, d) for a, d in actions]
    assert "import_pain" in [a for a, _ in actions]
