"""The wording pages, for admins: the list of every text, the edit page with its previews,
refusals shown beside the field with nothing written, saving a version, and the reset."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service import planner, wording_versions
from service.config import settings_of
from service.dashboard.message_templates import LABELS, LANGUAGE_NAMES
from service.db import get_db
from service.domain import segments
from service.domain import wording as rules
from service.domain.vocabulary import TextKind
from service.models import AuditEntry, Contact, MessageTemplate
from tests import factories
from tests.dashboard.conftest import Staff, Web, counting, make_staff, now, signed_in, text_of

EDIT = "/settings/texts/reminder/en"
LONG = "{first_name}, this is " + "a long reminder " * 6 + "on {when}. {reply_hint}"


def _versions(session: Session, kind: str = "reminder", language: str = "en") -> list[str | None]:
    """The saved bodies of one kind and language, oldest first."""
    session.expire_all()
    return list(
        session.scalars(
            select(MessageTemplate.body)
            .where(MessageTemplate.kind == kind, MessageTemplate.language == language)
            .order_by(MessageTemplate.version)
        )
    )


def words(response: TestResponse) -> str:
    """The page's text as a person reads it (entities decoded)."""
    return html.unescape(text_of(response))


def _counts(page: str) -> list[str]:
    """The count line under each preview, as shown."""
    return re.findall(r'class="preview-count"[^>]*>([^<]+)<', page)


def test_every_kind_has_a_label_in_the_practices_words() -> None:
    assert set(LABELS) == set(TextKind)
    assert len(set(LABELS.values())) == len(LABELS)


def test_a_therapist_gets_403_and_sees_no_link(as_ana: Web) -> None:
    assert as_ana.get("/settings/texts").status_code == 403
    assert as_ana.get(EDIT).status_code == 403
    assert as_ana.post(EDIT, {"body": "Hi {reply_hint}", "action": "save"}).status_code == 403
    assert as_ana.post(EDIT + "/reset").status_code == 403
    assert "/settings/texts" not in as_ana.get("/").get_data(as_text=True)


def test_nobody_signed_in_is_sent_to_sign_in(web: Web) -> None:
    response = web.get("/settings/texts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_list_shows_every_kind_and_language_with_its_wording(as_boss: Web) -> None:
    response = as_boss.get("/settings/texts")
    assert response.status_code == 200
    page = words(response)
    for kind, label in LABELS.items():
        for language in LANGUAGE_NAMES:
            assert f"Edit {label} in {LANGUAGE_NAMES[language]}" in page
            assert rules.shipped(kind, language).split("{")[0].strip() in page
    assert "edited" not in page and "shipped wording" in page
    assert 'href="/settings/texts"' in as_boss.get("/").get_data(as_text=True)


def test_unknown_kinds_and_languages_are_404(as_boss: Web) -> None:
    for path in ("/settings/texts/nope/en", "/settings/texts/reminder/fr", "/settings/texts/x/y"):
        assert as_boss.get(path).status_code == 404
    assert as_boss.post("/settings/texts/nope/en/reset").status_code == 404


def test_the_edit_page_shows_the_wording_placeholders_and_history(as_boss: Web) -> None:
    response = as_boss.get(EDIT)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert rules.shipped("reminder", "en") in page
    for name in rules.allowed("reminder"):
        assert "{" + name + "}" in words(response)
    assert "{client_first_name}" not in words(response).split("Placeholders")[1]
    assert "This is the wording TouchBase ships with" in words(response)
    assert "Reset to default" not in page


def test_a_saved_text_is_a_new_version_shown_in_the_list(
    as_boss: Web, boss: Staff, session: Session
) -> None:
    body = "Hi {first_name}, see you at {practice} on {when}. {reply_hint}"
    response = as_boss.post(EDIT, {"body": body, "action": "save"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/settings/texts#reminder-en")
    assert _versions(session) == [body]
    listing = as_boss.get("/settings/texts")
    page = words(listing)
    assert "Reminder (English): version 1 saved. No planned text needed re-writing." in page
    assert "see you at {practice}" in page and "edited" in page
    history = words(as_boss.get(EDIT))
    assert "Version 1" in history and "by Bo Boss" in history
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "message_template"))
    assert entry is not None and entry.user_id == boss.id


def test_saving_says_how_many_planned_texts_were_re_written(
    app: Flask, as_boss: Web, ana: Staff, session: Session
) -> None:
    for number, name in (("+16175550101", "Sam Lee"), ("+16175550102", "Nia Park")):
        client, _ = factories.client_with_phone(session, name, number, therapist_id=ana.id)
        factories.appointment(session, client, now() + timedelta(days=3))
        planner.replan_client(session, settings_of(app), client.id, now())
    session.commit()
    body = "Hi {first_name}, see you at {practice} on {when}. {reply_hint}"
    as_boss.post(EDIT, {"body": body, "action": "save"})
    assert "2 planned texts were re-written." in words(as_boss.get("/settings/texts"))
    as_boss.post(EDIT + "/reset")
    assert "2 planned texts were re-written." in words(as_boss.get("/settings/texts"))


def test_line_breaks_are_kept_as_the_browser_shows_them(as_boss: Web, session: Session) -> None:
    as_boss.post(
        EDIT, {"body": "Hi {first_name},\r\nsee you {when}. {reply_hint}", "action": "save"}
    )
    assert _versions(session) == ["Hi {first_name},\nsee you {when}. {reply_hint}"]


BAD = [
    ("{first name}", '"{first name}" is not a placeholder'),
    ("Hi { on {when}. {reply_hint}", 'a lone "{"'),
    ("x" * 2000 + " {reply_hint}", "2013 characters"),
    ("Hi\x00 {first_name} {reply_hint}", "NUL"),
    ("   \n  ", "the text is empty"),
    ("See you {when}.", "keep {reply_hint}"),
    ("See you {when}. {reply_hint} Reply STOP to stop.", "carrier keyword"),
    ("Your spasticity session on {when}. {reply_hint}", "clinical word"),
]


@pytest.mark.parametrize(("body", "reason"), BAD, ids=[b[1] for b in BAD])
def test_a_bad_text_is_refused_beside_the_field_and_nothing_changes(
    as_boss: Web, session: Session, body: str, reason: str
) -> None:
    kept = "Hi {first_name}, {practice} on {when}. {reply_hint}"
    as_boss.post(EDIT, {"body": kept, "action": "save"})
    changes = select(func.count()).where(AuditEntry.entity == "message_template")
    assert session.scalar(changes) == 1
    response = as_boss.post(EDIT, {"body": body, "action": "save"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = html.unescape(page.split('id="f-body-error"', 1)[1].split("</ul>", 1)[0])
    assert reason.lower() in field.lower()
    for each in rules.problems("reminder", "en", body.strip()):
        assert each[1:] in field  # every reason, as a sentence
    assert 'aria-invalid="true"' in page and "\x00" not in page
    assert _versions(session) == [kept]
    assert current_body(as_boss) == kept
    assert session.scalar(changes) == 1


def test_a_nul_elsewhere_on_the_page_is_still_a_400(as_boss: Web, session: Session) -> None:
    assert as_boss.post(EDIT, {"body": "Hi {reply_hint}", "action": "save\x00"}).status_code == 400
    assert as_boss.get(EDIT, body="\x00").status_code == 400
    assert as_boss.post(EDIT + "/reset", {"body": "\x00"}).status_code == 400
    assert _versions(session) == []


def current_body(web: Web) -> str:
    """The body the edit page shows in its field."""
    page = web.get(EDIT).get_data(as_text=True)
    found = re.search(r'<textarea id="f-body"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def test_the_preview_button_shows_the_server_rendered_text_and_every_reason(
    as_boss: Web, session: Session
) -> None:
    response = as_boss.post(EDIT, {"body": "{first_name} at {practice}", "action": "preview"})
    assert response.status_code == 200
    page = words(response)
    assert "Keep {reply_hint}: it tells clients what to reply" in page
    longest = rules.LONGEST_NAMES["en"]
    assert f"{longest} at Bright Path {len(longest) + 15} characters, 1 SMS segment" in page
    assert _versions(session) == []


def test_the_preview_counts_a_long_name_and_warns_past_one_segment(
    as_boss: Web, session: Session
) -> None:
    longest = rules.LONGEST_NAMES["en"]
    response = as_boss.post(EDIT, {"body": LONG, "action": "preview"})
    page = response.get_data(as_text=True)
    assert f"For the longest name we plan for ({longest})" in words(response)
    shown = re.findall(r'<p class="preview-text">(.*?)</p>', page, re.S)
    assert len(shown) == 2 and shown[1].startswith(longest + ", this is")
    counted = segments.count(shown[1].replace("&#39;", "'"))
    assert (
        f"{counted.characters} characters, {counted.segments} SMS segments (GSM-7)"
        in (_counts(page)[1])
    )
    assert counted.segments == 2
    warnings = re.findall(r'<p class="warning preview-warning"( hidden)?>', page)
    assert warnings == ["", ""]
    short = as_boss.post(EDIT, {"body": "Hi {first_name}. {reply_hint}", "action": "preview"})
    page = short.get_data(as_text=True)
    assert re.findall(r'<p class="warning preview-warning"( hidden)?>', page) == [
        " hidden",
        " hidden",
    ]
    assert "1 SMS segment (GSM-7)" in _counts(page)[1]


def test_the_preview_is_for_a_client_seen_recently_and_audited(
    as_boss: Web, boss: Staff, ana: Staff, session: Session
) -> None:
    old, _ = factories.client_with_phone(session, "Zed Old", "+16175550101", therapist_id=ana.id)
    factories.appointment(session, old, now() - timedelta(days=30), status="completed")
    lucia, _ = factories.client_with_phone(
        session, "Lucía Soto", "+16175550102", therapist_id=ana.id
    )
    factories.appointment(session, lucia, now() - timedelta(days=2), status="completed")
    factories.appointment(session, lucia, now() + timedelta(days=5))
    lucia.contacts.append(Contact(name="Rosa Soto", relation="mother", phone="+16175550103"))
    session.commit()
    pablo, _ = factories.client_with_phone(
        session, "Pablo Ruiz", "+16175550104", language="es", therapist_id=ana.id
    )
    factories.appointment(session, pablo, now() - timedelta(days=10), status="completed")
    factories.appointment(session, lucia, now() - timedelta(hours=1), status="cancelled")
    session.commit()
    page = words(as_boss.get(EDIT))
    assert "For Lucía (a client seen recently) Hi Lucía, reminder of" in page
    spanish = words(as_boss.get("/settings/texts/reminder/es"))
    assert "For Pablo (a client seen recently) Hola Pablo," in spanish
    caregiver = words(as_boss.get("/settings/texts/reminder_caregiver/en"))
    assert "For Rosa, caring for Lucía" in caregiver
    seen = session.scalars(
        select(AuditEntry.entity_id).where(
            AuditEntry.action == "view",
            AuditEntry.entity == "client",
            AuditEntry.user_id == boss.id,
        )
    ).all()
    assert str(lucia.id) in seen and str(old.id) not in seen


def test_without_clients_the_preview_uses_a_sample_name(as_boss: Web) -> None:
    page = words(as_boss.get("/settings/texts/checkin_caregiver/es"))
    assert "sample names" in page


def test_reset_brings_back_the_shipped_wording(as_boss: Web, session: Session) -> None:
    edited = "Hi {first_name}, {practice} on {when}. {reply_hint}"
    as_boss.post(EDIT, {"body": edited, "action": "save"})
    assert "Reset to default" in as_boss.get(EDIT).get_data(as_text=True)
    response = as_boss.post(EDIT + "/reset")
    assert response.status_code == 302
    assert _versions(session) == [edited, None]
    listing = words(as_boss.get("/settings/texts"))
    assert "back to the shipped wording" in listing
    assert "edited" not in listing  # the reset is in force as the shipped wording
    assert current_body(as_boss) == rules.shipped("reminder", "en")
    history = words(as_boss.get(EDIT))
    assert "Version 2" in history and "Back to the shipped wording" in history
    as_boss.post(EDIT + "/reset")  # a second click writes nothing
    assert "already has the shipped wording" in words(as_boss.get("/settings/texts"))
    assert _versions(session) == [edited, None]


def test_reset_and_save_need_the_forms_token(as_boss: Web, session: Session) -> None:
    assert as_boss.http.post(EDIT + "/reset").status_code == 400
    assert (
        as_boss.http.post(EDIT, data={"body": "x {reply_hint}", "action": "save"}).status_code
        == 400
    )
    assert _versions(session) == []


def _client_seen(session: Session, n: int) -> None:
    """A client with a caregiver, seen ``n + 1`` days ago."""
    client, _ = factories.client_with_phone(session, f"Client{n} Lee", f"+1617555020{n}")
    factories.appointment(session, client, now() - timedelta(days=n + 1), status="completed")
    client.contacts.append(Contact(name=f"Carer{n}", relation="parent", phone=f"+161755503{n}0"))


def test_the_edit_page_runs_as_many_statements_for_a_big_practice(
    app: Flask, as_boss: Web, session: Session
) -> None:
    _client_seen(session, 9)
    session.commit()
    with counting(app) as few:
        as_boss.get(EDIT)
    with app.app_context():
        for n in range(6):
            _client_seen(session, n)
            wording_versions.save(session, "reminder", "en", f"Hi {n}. {{reply_hint}}", None, now())
        session.commit()
    with counting(app) as many:
        page = words(as_boss.get(EDIT))
    assert "Version 6" in page and "For Client0 (a client seen recently)" in page
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("names", "shown", "encoding"),
    [("as_written", "Lucía", "UCS-2"), ("plain_letters", "Lucia", "GSM-7")],
)
def test_the_preview_shows_names_as_the_practice_writes_them_and_the_encoding(
    make_app: Callable[..., Flask], names: str, shown: str, encoding: str
) -> None:
    app = make_app(NAMES_IN_TEXTS=names)
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    with get_db(app).session() as session:
        lucia, _ = factories.client_with_phone(session, "Lucía Soto")
        factories.appointment(session, lucia, now() - timedelta(days=2), status="completed")
        session.commit()
    response = signed_in(app, boss).get(EDIT)
    page = words(response)
    assert f"For Lucía (a client seen recently) Hi {shown}, reminder of" in page
    assert encoding in page.split("For the longest")[0]
    shown_note = '<p class="hint preview-ucs2">' in response.get_data(as_text=True)
    assert shown_note == (names == "as_written")  # why UCS-2 costs more, when it is
