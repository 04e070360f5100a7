"""The Settings page: admins only, values as the environment writes them, every reason
beside its field, and a save that says how many planned texts it changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import planner
from service.config import settings_of
from service.models import AuditEntry, OutboundMessage, PracticeSetting
from tests import factories
from tests.dashboard.conftest import Staff, Web, counting, now, text_of

FORM = {
    "practice_name": "Bright Path",
    "practice_phone": "+16175550100",
    "practice_timezone": "America/New_York",
    "default_language": "en",
    "reminder_offsets": "24h",
    "checkin_offsets": "24h,72h",
    "quiet_hours": "21:00-08:00",
    "pain_alert_threshold": "8",
    "rebooking_texts": "off",
    "names_in_texts": "as_written",
    "two_step_for_admins": "off",
    "two_step_for_everyone": "off",
    "calendar_initials_only": "off",
}


def rows(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(PracticeSetting.name))) or 0


def test_the_page_shows_each_value_in_force_as_its_variable_is_written(as_boss: Web) -> None:
    response = as_boss.get("/settings")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name, value in FORM.items():
        if name in ("default_language", "names_in_texts") or value in ("on", "off"):
            assert f'<option value="{value}" selected>' in page, name
        else:
            assert f'name="{name}" type' in page and f'value="{value}"' in page, name
    assert "From the environment (QUIET_HOURS) until saved here." in text_of(response)


def test_only_admins_see_the_link_and_the_page(as_ana: Web, as_boss: Web) -> None:
    assert as_ana.get("/settings").status_code == 403
    assert as_ana.post("/settings", {**FORM, "practice_name": "Mine"}).status_code == 403
    assert 'href="/settings"' not in as_ana.get("/").get_data(as_text=True)
    assert 'href="/settings"' in as_boss.get("/").get_data(as_text=True)


def test_a_signed_out_visitor_is_sent_to_sign_in(web: Web) -> None:
    response = web.get("/settings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("practice_timezone", "Mars/Base", "'Mars/Base' is not a known IANA time zone."),
        ("reminder_offsets", "-2h", "'-2h' is not a duration like 24h, 90m or 2d."),
        ("reminder_offsets", "24x", "'24x' is not a duration like 24h, 90m or 2d."),
        ("quiet_hours", "25:00-08:00", "'25:00-08:00' is not a window like 21:00-08:00."),
        ("pain_alert_threshold", "11", "11 is not between 0 and 10."),
        ("practice_phone", "555", "'555' is not a valid phone number."),
        ("practice_name", "", "Required."),
        (
            "practice_name",
            "Spasticity Center",
            "&#34;Spasticity&#34; is a clinical word: a text is seen by whoever holds the phone.",
        ),
    ],
)
def test_a_bad_value_is_refused_beside_its_field_and_nothing_changes(
    app: Flask, as_boss: Web, session: Session, name: str, value: str, reason: str
) -> None:
    client, _ = factories.client_with_phone(session)
    factories.appointment(session, client, now() + timedelta(days=3))
    session.commit()
    planner.replan_client(session, settings_of(app), client.id, now())
    session.commit()
    before = session.scalars(select(OutboundMessage.send_at).order_by(OutboundMessage.id)).all()
    response = as_boss.post("/settings", {**FORM, "names_in_texts": "plain_letters", name: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="f-{name}-error">{reason}</p>'.replace("'", "&#39;") in page
    assert f'value="{value}"'.replace("'", "&#39;") in page  # as typed, to correct
    assert '<option value="plain_letters" selected>' in page  # the good value stays too
    assert rows(session) == 0
    assert (
        session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity == "setting")) == 0
    )
    after = session.scalars(select(OutboundMessage.send_at).order_by(OutboundMessage.id)).all()
    assert after == before


def test_a_save_says_how_many_planned_texts_changed(
    app: Flask, as_boss: Web, boss: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session)
    factories.appointment(session, client, now() + timedelta(days=3))
    session.commit()
    planner.replan_client(session, settings_of(app), client.id, now())
    session.commit()
    response = as_boss.post("/settings", {**FORM, "reminder_offsets": "48h, 2h"})
    assert response.status_code == 302
    page = as_boss.get("/settings")
    # The 24 h reminder cancelled, the 48 h and 2 h ones planned.
    assert "Saved. 3 planned texts changed." in text_of(page)
    assert 'value="2h,48h"' in page.get_data(as_text=True)
    assert "Saved by Bo Boss" in text_of(page)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.entity == "setting")).all()
    assert (entry.user_id, entry.entity_id) == (boss.id, "reminder_offsets")
    assert (entry.detail["old"], entry.detail["new"], entry.detail["via"]) == (
        "24h",
        "2h,48h",
        "dashboard",
    )


def test_a_save_of_the_values_in_force_says_so(as_boss: Web, session: Session) -> None:
    as_boss.post("/settings", FORM)
    assert "Nothing to save" in text_of(as_boss.get("/settings"))
    assert rows(session) == 0


def test_a_saved_name_is_on_every_page_at_once(as_boss: Web, as_ana: Web) -> None:
    as_boss.post("/settings", {**FORM, "practice_name": "Calm Hands", "pain_alert_threshold": "6"})
    assert "Saved." in text_of(as_boss.get("/settings"))
    assert "<title>Inbox · Calm Hands · TouchBase</title>" in as_ana.get("/").get_data(as_text=True)


def test_new_clients_start_in_the_practices_language(as_boss: Web, as_ana: Web) -> None:
    page = as_ana.get("/clients/new").get_data(as_text=True)
    assert '<option value="en" selected>' in page
    as_boss.post("/settings", {**FORM, "default_language": "es"})
    page = as_ana.get("/clients/new").get_data(as_text=True)
    assert '<option value="es" selected>' in page


def test_a_page_reads_the_saved_settings_once(app: Flask, as_ana: Web) -> None:
    with counting(app) as statements:
        assert as_ana.get("/clients/new").status_code == 200
    assert len([s for s in statements if "practice_settings" in s]) == 1
