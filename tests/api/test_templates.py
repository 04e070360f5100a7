"""The templates API: every kind listed, admins save and reset, therapists may only read,
bad wording refused with its reasons and the previous version untouched."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from service import wording_versions
from service.db import get_db
from service.domain.vocabulary import TextKind
from service.domain.wording import shipped
from service.models import AuditEntry
from tests.api.conftest import Api, error_of

EDITED = "Hi {first_name}, see you at {practice} on {when}. {reply_hint}"


def test_every_kind_is_listed_in_both_languages_with_the_shipped_wording(api: Api) -> None:
    response = api.get("/templates")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert {(i["kind"], i["language"]) for i in items} == {
        (k.value, lang) for k in TextKind for lang in ("en", "es")
    }
    checkin = next(i for i in items if (i["kind"], i["language"]) == ("checkin_caregiver", "es"))
    assert checkin == {
        "kind": "checkin_caregiver",
        "language": "es",
        "body": shipped("checkin_caregiver", "es"),
        "default": True,
        "version": None,
        "template_id": None,
        "updated_at": None,
        "placeholders": [
            "first_name",
            "practice",
            "practice_phone",
            "reply_hint",
            "client_first_name",
        ],
    }


def test_an_admin_saves_a_version_and_resets_it_in_one_call(admin_api: Api, app: Flask) -> None:
    saved = admin_api.put("/templates/reminder/es", {"body": EDITED})
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert (body["body"], body["default"], body["version"], body["replanned"]) == (
        EDITED,
        False,
        1,
        0,
    )
    listed = {
        (i["kind"], i["language"]): i for i in admin_api.get("/templates").get_json()["items"]
    }
    assert listed[("reminder", "es")]["body"] == EDITED
    assert listed[("reminder", "es")]["template_id"] == body["template_id"]
    assert listed[("reminder", "en")]["default"] is True
    reset = admin_api.delete("/templates/reminder/es").get_json()
    assert (reset["body"], reset["default"], reset["version"]) == (
        shipped("reminder", "es"),
        True,
        2,
    )
    assert reset["template_id"] not in (None, body["template_id"])  # the reset's own version
    # Resetting the shipped wording again changes nothing: no version, no audit row.
    again = admin_api.delete("/templates/reminder/es")
    assert again.status_code == 200
    assert again.get_json() == {**reset, "replanned": 0}
    with get_db(app).session() as session:
        kept = wording_versions.versions(session, "reminder", "es")
        assert [(v.version, v.body) for v in kept] == [(2, None), (1, EDITED)]
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "message_template")
        ).all()
        assert [(a.action, a.entity_id, a.user_id) for a in audits] == [
            ("template_saved", "reminder/es", admin_api.user_id),
            ("template_reset", "reminder/es", admin_api.user_id),
        ]


@pytest.mark.parametrize("language", ["en", "es"])
def test_resetting_wording_never_saved_answers_the_shipped_one_and_writes_nothing(
    admin_api: Api, app: Flask, language: str
) -> None:
    response = admin_api.delete(f"/templates/checkin/{language}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["body"], body["default"], body["version"], body["template_id"]) == (
        shipped("checkin", language),
        True,
        None,
        None,
    )
    assert body["replanned"] == 0
    with get_db(app).session() as session:
        assert wording_versions.versions(session, "checkin", language) == []
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.entity == "message_template")).all()
            == []
        )


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_therapist_may_not_change_the_wording(api: Api, app: Flask, method: str) -> None:
    args = ({"body": EDITED},) if method == "put" else ()
    response = getattr(api, method)("/templates/reminder/en", *args)
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    with get_db(app).session() as session:
        assert wording_versions.versions(session, "reminder", "en") == []


@pytest.mark.parametrize(
    "path", ["/templates/reminders/en", "/templates/reminder/fr", "/templates/REMINDER/en"]
)
def test_an_unknown_kind_or_language_is_a_404(admin_api: Api, path: str) -> None:
    assert admin_api.put(path, {"body": EDITED}).status_code == 404
    assert admin_api.delete(path).status_code == 404


# (body, what the reason names): the bad input, and one of each rule.
BAD = [
    ("Hi {first name}, {when}. {reply_hint}", '"{first name}" is not a placeholder'),
    ("Hi {, {when}. {reply_hint}", 'a lone "{"'),
    ("x" * 2000, "must be at most 600 characters"),
    ("Hi\x00 {when}. {reply_hint}", "must not contain control characters"),
    ("   \n\t ", "must be a non-empty string"),
    ("Hi\t{when}. {reply_hint}", "tab (U+0009)"),
    ("Hi {first_name}, {when}.", "keep {reply_hint}"),
    ("{when}. {reply_hint} Reply STOP to opt out.", '"STOP" is a carrier keyword'),
    ("{when}, sesion de masaje. {reply_hint}", '"masaje" is a clinical word'),
    ("{when} {was}. {reply_hint}", '"{was}" has no value in this text'),
    ("\u200b", "no letter, digit or symbol"),
    ("{when}. \u202e{reply_hint}", "right-to-left override (U+202E)"),
    ("{when}. {reply_hint} To leave, reply with the word stop.", '"stop" is a carrier keyword'),
    ("{when}. {reply_hint} Responda: alto, para salir.", '"alto" is a carrier keyword'),
    ("{when}, for your therapies. {reply_hint}", '"therapies" is a clinical word'),
    ("{when}, sus diagn\u043estic\u043es. {reply_hint}", "clinical word"),  # Cyrillic o
]


@pytest.mark.parametrize(("body", "reason"), BAD)
def test_bad_wording_is_refused_with_its_reason_and_the_previous_version_untouched(
    admin_api: Api, app: Flask, body: str, reason: str
) -> None:
    assert admin_api.put("/templates/reminder/en", {"body": EDITED}).status_code == 200
    response = admin_api.put("/templates/reminder/en", {"body": body})
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert list(fields) == ["body"] and reason in fields["body"], fields
    with get_db(app).session() as session:
        assert [v.body for v in wording_versions.versions(session, "reminder", "en")] == [EDITED]


def test_half_a_character_is_a_400_before_the_rules_and_nothing_is_written(
    admin_api: Api, app: Flask
) -> None:
    response = admin_api.put("/templates/reminder/en", {"body": "{when} \ud83d. {reply_hint}"})
    assert response.status_code == 400  # the JSON layer's: its strings must be Unicode text
    with get_db(app).session() as session:
        assert wording_versions.versions(session, "reminder", "en") == []


def test_every_reason_is_given(admin_api: Api) -> None:
    response = admin_api.put("/templates/checkin/es", {"body": "Hola {nombre}, STOP espasticidad"})
    reasons = error_of(response)["fields"]["body"].split("; ")
    assert len(reasons) == 4, reasons  # placeholder, reply hint, keyword, clinical word


def test_planned_texts_show_the_version_they_were_written_with(admin_api: Api) -> None:
    client = admin_api.post("/clients", {"name": "Sam Lee", "phone": "6175550123"}).get_json()
    booked = admin_api.post(
        "/appointments", {"client_id": client["id"], "starts_at": "2031-06-03T09:00"}
    )
    assert booked.status_code == 201
    saved = admin_api.put("/templates/reminder/en", {"body": EDITED}).get_json()
    assert saved["replanned"] == 1
    [reminder] = admin_api.get("/messages", kind="reminder").get_json()["items"]
    assert reminder["template_id"] == saved["template_id"]
    assert reminder["body"] == (
        "Hi Sam, see you at Bright Path on Tue Jun 3, 9:00 AM. "
        "Reply C to confirm or R to reschedule."
    )
    reset = admin_api.delete("/templates/reminder/en").get_json()
    assert reset["replanned"] == 1
    [reminder] = admin_api.get("/messages", kind="reminder").get_json()["items"]
    assert reminder["template_id"] == reset["template_id"] != saved["template_id"]
    assert reminder["body"].startswith("Hi Sam, reminder of your appointment at Bright Path")
