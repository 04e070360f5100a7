"""The contact form's channel and its box for the agreement to calls, and what the client
page shows of texts and calls for each number."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, consent
from service.models import AuditEntry, Contact, PhoneNumber
from tests import factories
from tests.dashboard.conftest import Staff, Web, text_of

MOM = {"name": "Mia Lee", "relation": "parent", "phone": "617-555-0124", "reminders": "on"}
LONG_AGO = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def _number(session: Session, phone: str) -> PhoneNumber | None:
    session.expire_all()
    return session.get(PhoneNumber, phone)


def test_the_form_offers_the_channel_and_the_agreement_to_calls(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    page = as_ana.get(f"/clients/{client.id}/contacts/new")
    html = page.get_data(as_text=True)
    assert '<option value="sms_then_voice"' in html
    assert "The client or caregiver agreed to receive calls" in text_of(page)


def test_a_call_channel_without_the_box_ticked_is_refused_and_nothing_is_written(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    refused = as_ana.post(f"/clients/{client.id}/contacts/new", {**MOM, "channel": "voice"})
    assert refused.status_code == 422
    assert "Calls need the agreement of the client or caregiver" in text_of(refused)
    session.expire_all()
    assert session.scalar(select(Contact).where(Contact.name == "Mia Lee")) is None


def test_ticking_the_box_records_the_agreement_and_the_page_shows_it(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    body = {**MOM, "channel": "sms_then_voice", "voice_consent": "on"}
    added = as_ana.post(f"/clients/{client.id}/contacts/new", body)
    assert added.status_code == 302
    row = _number(session, "+16175550124")
    assert row is not None and row.voice_consent_by_id == ana.id
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "phone")).all() == [
        "voice_consent"
    ]
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "by text, then a call if no reply" in page
    assert f"Texts: on · Calls: agreed on {_day(row.voice_consent_at)} by {ana.name}" in page
    assert "Texts: on · Calls: not agreed" in page  # the client's own number


def _day(at: datetime | None) -> str:
    assert at is not None
    local = at.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    return f"{local:%b} {local.day}"


def test_unticking_the_box_withdraws_the_agreement(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    _, own = factories.client_with_phone(session, therapist_id=ana.id)
    call_consent.record_consent(session, None, own.phone, LONG_AGO, via="test")
    session.commit()
    form = as_ana.get(f"/contacts/{own.id}/edit").get_data(as_text=True)
    assert 'name="voice_consent" type="checkbox" value="on" checked' in form
    change = {"name": own.name, "relation": "self", "phone": "617-555-0123", "channel": "sms"}
    saved = as_ana.post(f"/contacts/{own.id}/edit", {**change, "reminders": "on"})
    assert saved.status_code == 302
    row = _number(session, own.phone)
    assert row is not None and row.voice_consent_at is None
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "voice_consent_withdrawn")
    ).one()
    assert entry.user_id == ana.id


def test_the_page_shows_texts_stopped_and_calls_stopped_by_the_caller_apart(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, own = factories.client_with_phone(session, therapist_id=ana.id)
    call_consent.record_consent(session, None, own.phone, LONG_AGO, via="test")
    call_consent.stop_calls(session, None, own.phone, datetime(2026, 3, 9, tzinfo=UTC), via="call")
    session.commit()
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Texts: on · Calls: stopped by the caller on Mar 8" in page
    consent.opt_out(session, own.phone, datetime(2026, 3, 10, tzinfo=UTC))
    session.commit()
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Texts: stopped · Calls: stopped by the caller on Mar 8" in page
