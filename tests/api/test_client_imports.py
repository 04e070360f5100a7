"""POST /api/v1/imports/clients: the preview, all or nothing, re-imports, updates, limits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service.models import (
    Appointment,
    AppointmentSeries,
    AuditEntry,
    Client,
    Contact,
    OutboundMessage,
)
from tests.api.conftest import Api, error_of, make_api

NOW = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)  # a Wednesday
HEADER = (
    "First Name,Last Name,Mobile Phone,Time Zone,Language,Therapist Email,Notes,"
    "Caregiver 1 Name,Caregiver 1 Relation,Caregiver 1 Phone,Caregiver 1 Reminders,"
    "Caregiver 1 Check-ins,Days,Time,Length,First Date"
)
MARIA = (
    "Maria,Lopez,(617) 555-0101,America/Chicago,es,ana@practice.test,left shoulder,"
    'Rosa,daughter,617-555-0199,yes,no,"Mon,Thu",10:00,60,2027-03-01'
)
SAM = "Sam,Lee,617 555 0102,,,,,,,,,,,,,"
FILE = f"{HEADER}\r\n{MARIA}\r\n{SAM}\r\n"


def send(api: Api, text: str | bytes, *, dry_run: bool = False, **headers: str) -> TestResponse:
    body = text.encode() if isinstance(text, str) else text
    with time_machine.travel(NOW, tick=False):
        return api.http.post(
            "/api/v1/imports/clients",
            data=body,
            query_string={"dry_run": "1"} if dry_run else {},
            headers={"Authorization": f"Bearer {api.token}", "Content-Type": "text/csv", **headers},
        )


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_it_imports_clients_caregivers_and_rhythms(
    admin_api: Api, api: Api, session: Session
) -> None:
    response = send(admin_api, FILE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["totals"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 0}
    assert [r["outcome"] for r in body["rows"]] == ["created", "created"]
    assert [r["row"] for r in body["rows"]] == [2, 3]
    maria = session.get(Client, body["rows"][0]["client_id"])
    assert maria is not None
    assert (maria.name, maria.timezone, maria.language, maria.notes, maria.therapist_id) == (
        "Maria Lopez",
        "America/Chicago",
        "es",
        "left shoulder",
        api.user_id,
    )
    phones = sorted((c.phone, c.relation, c.reminders, c.checkins) for c in maria.contacts)
    assert phones == [
        ("+16175550101", "self", True, True),
        ("+16175550199", "daughter", True, False),
    ]
    [series] = session.scalars(select(AppointmentSeries)).all()
    assert (series.rrule, series.starts_local, series.duration_minutes, series.timezone) == (
        "FREQ=WEEKLY;BYDAY=MO,TH",
        datetime(2027, 3, 1, 10, 0),
        60,
        "America/Chicago",
    )
    # Planned as any other series: sessions from now on only, their texts never in the past.
    starts = sorted(session.scalars(select(Appointment.starts_at)))
    assert starts[0] == datetime(2027, 3, 4, 16, 0, tzinfo=UTC)  # Thu 10:00 in Chicago
    sends = list(session.scalars(select(OutboundMessage.send_at)))
    assert sends and min(sends) >= NOW
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()
    assert (entry.user_id, entry.detail["created"], entry.detail["updated"]) == (
        admin_api.user_id,
        2,
        0,
    )


def test_a_dry_run_previews_and_writes_nothing(admin_api: Api, api: Api, session: Session) -> None:
    response = send(admin_api, FILE, dry_run=True)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["dry_run"], body["written"]) == (True, False)
    assert body["rows"] == [{"row": 2, "outcome": "created"}, {"row": 3, "outcome": "created"}]
    assert count(session, Client) == count(session, AuditEntry) == 0


def test_one_refused_row_and_nothing_is_written(admin_api: Api, api: Api, session: Session) -> None:
    bad = [
        "Ann,Bad,555,,,,,,,,,,,,,",
        "Ann,Zone,617-555-0103,Mars/Base,,,,,,,,,,,,",
        "Ann,Nobody,617-555-0104,,,who@practice.test,,,,,,,,,,",
        "Ann,Days,617-555-0105,,,,,,,,,,Funday,10:00,,",
    ]
    response = send(admin_api, "\n".join([HEADER, MARIA, *bad, SAM]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "refused"
    assert "4 rows are refused: nothing was imported" in error["message"]
    body = response.get_json()
    reasons = {r["row"]: r["reason"] for r in body["rows"]}
    assert sorted(reasons) == [3, 4, 5, 6]
    assert reasons[3].startswith("Phone: invalid phone number")
    assert reasons[4] == "Time Zone 'Mars/Base' is not a known time zone"
    assert "who@practice.test" in reasons[5]
    assert "Funday" in reasons[6]
    assert body["totals"]["created"] == 2 and body["totals"]["refused"] == 4
    assert count(session, Client) == count(session, AppointmentSeries) == 0
    assert count(session, AuditEntry) == 0


def test_reimporting_the_same_file_changes_nothing(
    admin_api: Api, api: Api, session: Session
) -> None:
    assert send(admin_api, FILE).status_code == 200
    before = (count(session, Client), count(session, Contact), count(session, AppointmentSeries))
    audits = count(session, AuditEntry)
    outbox = count(session, OutboundMessage)
    again = send(admin_api, FILE.replace("Maria,Lopez", "MARIA,LOPEZ").replace(",Mon,Thu", ""))
    assert again.status_code == 200
    assert [r["outcome"] for r in again.get_json()["rows"]] == ["updated", "unchanged"]
    same = send(admin_api, FILE)  # the name back as it was
    assert [r["outcome"] for r in same.get_json()["rows"]] == ["updated", "unchanged"]
    third = send(admin_api, FILE)
    assert [r["outcome"] for r in third.get_json()["rows"]] == ["unchanged", "unchanged"]
    after = (count(session, Client), count(session, Contact), count(session, AppointmentSeries))
    assert after == before
    assert count(session, OutboundMessage) == outbox
    # One entry per import, and the two name changes: nothing for the unchanged rows.
    assert count(session, AuditEntry) == audits + 3 + 2


def test_a_row_updates_a_client_with_the_same_phone_and_name(
    admin_api: Api, api: Api, other_api: Api, session: Session
) -> None:
    assert send(admin_api, FILE).status_code == 200
    changed = MARIA.replace("left shoulder", "right hip").replace("ana@", "ben@")
    changed = changed.replace("yes,no", "no,yes").replace("10:00,60", "11:00,45")
    response = send(admin_api, f"{HEADER}\n{changed}\n")
    assert response.status_code == 200
    [row] = response.get_json()["rows"]
    assert row["outcome"] == "updated"
    session.expire_all()
    maria = session.get(Client, row["client_id"])
    assert maria is not None
    assert (maria.notes, maria.therapist_id) == ("right hip", other_api.user_id)
    rosa = next(c for c in maria.contacts if not c.is_own)
    assert (rosa.reminders, rosa.checkins) == (False, True)
    assert row["reason"] == "weekly rhythm changed"
    [series] = session.scalars(select(AppointmentSeries)).all()  # changed, not a second one
    assert (series.starts_local, series.duration_minutes) == (datetime(2027, 3, 1, 11, 0), 45)


def test_a_same_phone_with_another_name_is_refused(admin_api: Api, api: Api) -> None:
    assert send(admin_api, FILE).status_code == 200
    response = send(admin_api, f"{HEADER}\n{SAM.replace('Sam', 'Samantha')}\n")
    assert response.status_code == 422
    assert "This number is shared" in response.get_json()["rows"][0]["reason"]


def test_one_number_for_two_caregivers_or_the_client_is_refused(admin_api: Api) -> None:
    header = "Name,Phone,Caregiver 1 Phone,Caregiver 2 Phone"
    rows = ["Ana,617-555-0101,617-555-0199,(617) 555-0199", "Ben,617-555-0102,617-555-0102,"]
    response = send(admin_api, "\n".join([header, *rows]))
    assert response.status_code == 422
    assert [r["reason"] for r in response.get_json()["rows"]] == [
        "Caregiver 1 Phone and Caregiver 2 Phone are the same number",
        "Caregiver 1 Phone is the client's own phone",
    ]


def test_the_same_client_twice_in_a_file_is_refused(admin_api: Api) -> None:
    response = send(admin_api, f"{HEADER}\n{SAM}\n{SAM}\n")
    assert response.status_code == 422
    assert response.get_json()["rows"] == [
        {"row": 3, "outcome": "refused", "reason": "the same client (name and phone) as row 2"}
    ]


def test_only_an_admin_imports(api: Api, client: FlaskClient, session: Session) -> None:
    assert send(api, FILE).status_code == 403
    response = client.post(
        "/api/v1/imports/clients", data=FILE, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 401
    assert count(session, Client) == 0


def test_bad_input_is_a_clear_4xx(admin_api: Api) -> None:
    cases = [
        (b"", 400, "empty"),
        (b"\xff\xfeN\x00a\x00", 400, "not UTF-8"),
        (b"Phone\n1\n", 400, "no name column"),
        (b"Name,Phone\n" + b"Ana,1\n" * 5001, 400, "more than 5000 rows"),
        (b"Name,Phone\nAna,\x00\n", 400, "NUL"),
        (b"x" * (2 * 1024 * 1024 + 1), 413, "2 MB"),
    ]
    for body, status, words in cases:
        response = send(admin_api, body)
        assert response.status_code == status, (body[:20], response.get_json())
        assert words in error_of(response)["message"]
    wrong_type = send(admin_api, FILE, **{"Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    response = admin_api.http.post(
        "/api/v1/imports/clients?dry_run=maybe",
        data=FILE,
        headers={"Authorization": f"Bearer {admin_api.token}", "Content-Type": "text/csv"},
    )
    assert error_of(response)["fields"] == {
        "dry_run": "must be 1 (or true) to preview, or 0 (or false)"
    }


def test_the_sample_file_in_docs_imports(admin_api: Api, app: Flask, session: Session) -> None:
    make_api(app, "ana@practice.example")
    make_api(app, "ben@practice.example")
    sample = Path(__file__).resolve().parents[2] / "docs" / "clients-sample.csv"
    response = send(admin_api, sample.read_bytes())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["totals"]["created"] == 4
    assert count(session, AppointmentSeries) == 4
