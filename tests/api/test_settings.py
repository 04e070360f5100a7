"""GET and PATCH /api/v1/settings: everyone reads, admins change, start-up's reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import planner
from service.config import settings_of
from service.models import AuditEntry, OutboundMessage, PracticeSetting
from tests import factories
from tests.api.conftest import Api, error_of

IN_FORCE = {
    "practice_name": "Bright Path",
    "practice_phone": "+16175550100",
    "practice_timezone": "America/New_York",
    "default_language": "en",
    "reminder_offsets": "24h",
    "checkin_offsets": "24h,72h",
    "quiet_hours": "21:00-08:00",
    "pain_alert_threshold": 8,
    "rebooking_texts": False,
    "names_in_texts": "as_written",
    "two_step_for_admins": False,
    "two_step_for_everyone": False,
    "calendar_initials_only": False,
}


def saved_rows(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(PracticeSetting.name))) or 0


def test_any_user_reads_the_settings_in_force(api: Api) -> None:
    response = api.get("/settings")
    assert response.status_code == 200
    assert response.get_json() == IN_FORCE


def test_a_therapist_may_not_change_them(api: Api, session: Session) -> None:
    response = api.patch("/settings", {"practice_name": "Mine"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert saved_rows(session) == 0


def test_an_admin_changes_them_and_learns_how_many_texts_were_replanned(
    app: Flask, admin_api: Api, session: Session
) -> None:
    client, _ = factories.client_with_phone(session)
    factories.appointment(session, client, datetime.now(UTC) + timedelta(days=3))
    session.commit()
    planner.replan_client(session, settings_of(app), client.id, datetime.now(UTC))
    session.commit()
    response = admin_api.patch(
        "/settings",
        {"reminder_offsets": "48h, 2h", "pain_alert_threshold": 6, "rebooking_texts": True},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        **IN_FORCE,
        "reminder_offsets": "2h,48h",
        "pain_alert_threshold": 6,
        "rebooking_texts": True,
        "replanned": 3,  # the 24 h reminder cancelled, the 48 h and 2 h ones planned
    }
    assert admin_api.get("/settings").get_json()["reminder_offsets"] == "2h,48h"
    planned = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.kind == "reminder", OutboundMessage.status == "planned"
        )
    ).all()
    assert len(planned) == 2
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "setting")).all()
    assert {(e.entity_id, e.detail["old"], e.detail["new"], e.detail["via"]) for e in entries} == {
        ("reminder_offsets", "24h", "2h,48h", "api"),
        ("pain_alert_threshold", "8", "6", "api"),
        ("rebooking_texts", "off", "on", "api"),
    }
    assert {e.user_id for e in entries} == {admin_api.user_id}


def test_a_null_phone_means_the_practice_gives_none(admin_api: Api) -> None:
    response = admin_api.patch("/settings", {"practice_phone": None})
    assert response.get_json()["practice_phone"] is None
    response = admin_api.patch("/settings", {"practice_phone": "(617) 555-0199"})
    assert response.get_json()["practice_phone"] == "+16175550199"


WHOLE = "must be a whole number from 0 to 10"
WINDOW = "'25:00-08:00' is not a window like 21:00-08:00"


CLINICAL = '"{}" is a clinical word: a text is seen by whoever holds the phone'


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("practice_timezone", "Mars/Base", "'Mars/Base' is not a known IANA time zone"),
        ("reminder_offsets", "-2h", "'-2h' is not a duration like 24h, 90m or 2d"),
        ("checkin_offsets", "24x", "'24x' is not a duration like 24h, 90m or 2d"),
        ("quiet_hours", "25:00-08:00", WINDOW),
        ("pain_alert_threshold", 11, WHOLE),
        ("pain_alert_threshold", "8", WHOLE),
        ("practice_phone", "555", "'555' is not a valid phone number"),
        ("rebooking_texts", "on", "must be true or false"),
        ("default_language", "fr", "must be one of en, es"),
        ("practice_name", "Calm\nHands", "'Calm\\nHands' has a line break or a control character"),
        ("practice_name", "Cerebral Palsy Care", CLINICAL.format("Cerebral Palsy")),
        ("practice_name", "Centro Par\u0430lisis", CLINICAL.format("Par\u0430lisis")),
        ("colour", "blue", "unknown field"),
    ],
)
def test_a_refused_value_is_a_422_naming_it_and_nothing_is_saved(
    admin_api: Api, session: Session, field: str, value: object, reason: str
) -> None:
    response = admin_api.patch("/settings", {"practice_name": "Calm Hands", field: value})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {field: reason}
    nothing_saved(admin_api, session)


def nothing_saved(admin_api: Api, session: Session) -> None:
    assert saved_rows(session) == 0
    audited = select(func.count(AuditEntry.id)).where(AuditEntry.entity == "setting")
    assert session.scalar(audited) == 0
    assert admin_api.get("/settings").get_json() == IN_FORCE


def test_every_reason_is_given_at_once(admin_api: Api, session: Session) -> None:
    body = {"practice_name": "Calm Hands", "quiet_hours": "25:00-08:00", "pain_alert_threshold": 11}
    response = admin_api.patch("/settings", body)
    assert error_of(response)["fields"] == {"quiet_hours": WINDOW, "pain_alert_threshold": WHOLE}
    nothing_saved(admin_api, session)


def test_new_clients_start_in_the_practices_language(admin_api: Api, api: Api) -> None:
    assert api.post("/clients", {"name": "Ana Ruiz"}).get_json()["language"] == "en"
    admin_api.patch("/settings", {"default_language": "es", "practice_timezone": "America/Chicago"})
    made = api.post("/clients", {"name": "Luz Ortiz"}).get_json()
    assert (made["language"], made["timezone"]) == ("es", "America/Chicago")
    assert (
        api.post("/clients", {"name": "Sam Lee", "language": "en"}).get_json()["language"] == "en"
    )
