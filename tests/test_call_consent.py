"""Consent for calls: recorded per number with who and when, through the roster's one write
path, apart from consent for texts; a channel that calls is refused without it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import accounts, call_consent, consent, roster
from service.config import settings_of
from service.models import AuditEntry, PhoneNumber, User
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
SAM = "+16175550002"
MOM = "+16175550177"


def _ana(session: Session, app: Flask) -> User:
    settings = settings_of(app)
    return accounts.create_user(session, settings, "ana@x.org", "Ana", "long-enough-pw")


def _number(session: Session, phone: str) -> PhoneNumber | None:
    return session.get(PhoneNumber, phone, populate_existing=True)


def test_a_channel_that_calls_is_refused_without_agreement(app: Flask, session: Session) -> None:
    sam, own = factories.client_with_phone(session, "Sam Diaz", SAM)
    settings = settings_of(app)
    for channel in ("voice", "sms_then_voice"):
        mom = {"name": "Rosa", "relation": "mother", "phone": MOM, "channel": channel}
        with pytest.raises(roster.CallsNotAgreed):
            roster.add_contact(session, settings, None, sam, mom, NOW, via="test")
        with pytest.raises(roster.CallsNotAgreed):
            roster.update_contact(session, settings, None, own, {"channel": channel}, NOW, via="t")
    assert own.channel == "sms"
    assert [c.phone for c in sam.contacts] == [SAM]
    assert not call_consent.may_call(_number(session, SAM))


def test_agreement_given_with_the_channel_is_recorded_with_who_and_when(
    app: Flask, session: Session
) -> None:
    ana = _ana(session, app)
    sam, _ = factories.client_with_phone(session, "Sam Diaz", SAM)
    mom = {"name": "Rosa", "phone": MOM, "channel": "voice", "voice_consent": True}
    added = roster.add_contact(session, settings_of(app), ana, sam, mom, NOW, via="test")
    assert added.channel == "voice"
    row = _number(session, MOM)
    assert row is not None and row.voice_consent_at == NOW and row.voice_consent_by_id == ana.id
    assert call_consent.may_call(row)
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.entity, e.user_id) for e in entries] == [
        ("voice_consent", "phone", ana.id),
        ("add_contact", "client", ana.id),
    ]
    assert "voice_consent" in entries[1].detail["fields"]


def test_agreement_on_record_lets_a_later_change_call(app: Flask, session: Session) -> None:
    _, own = factories.client_with_phone(session, "Sam Diaz", SAM)
    settings = settings_of(app)
    roster.update_contact(session, settings, None, own, {"voice_consent": True}, NOW, via="t")
    changed = roster.update_contact(
        session, settings, None, own, {"channel": "sms_then_voice"}, LATER, via="t"
    )
    assert changed == ["channel"] and own.channel == "sms_then_voice"


def test_withdrawing_agreement_stops_calls_and_needs_texts_back(
    app: Flask, session: Session
) -> None:
    ana = _ana(session, app)
    _, own = factories.client_with_phone(session, "Sam Diaz", SAM)
    settings = settings_of(app)
    yes = {"channel": "voice", "voice_consent": True}
    roster.update_contact(session, settings, ana, own, yes, NOW, via="t")
    with pytest.raises(roster.CallsNotAgreed):  # still a call channel: say texts instead
        roster.update_contact(session, settings, ana, own, {"voice_consent": False}, LATER, via="t")
    no = {"channel": "sms", "voice_consent": False}
    changed = roster.update_contact(session, settings, ana, own, no, LATER, via="t")
    assert changed == ["channel", "voice_consent"]
    row = _number(session, SAM)
    assert row is not None and row.voice_consent_at is None and row.voice_consent_by_id is None
    assert not call_consent.may_call(row)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "phone")).all()
    assert actions == ["voice_consent", "voice_consent_withdrawn"]


def test_texts_and_calls_are_stopped_apart(app: Flask, session: Session) -> None:
    _, own = factories.client_with_phone(session, "Sam Diaz", SAM)
    settings = settings_of(app)
    yes = {"channel": "sms_then_voice", "voice_consent": True}
    roster.update_contact(session, settings, None, own, yes, NOW, via="t")
    consent.opt_out(session, SAM, LATER)  # STOP by text
    row = _number(session, SAM)
    assert row is not None and row.opted_out and call_consent.may_call(row)
    consent.opt_in(session, SAM, LATER + timedelta(minutes=1))
    call_consent.stop_calls(session, None, SAM, LATER + timedelta(minutes=2), via="call")
    row = _number(session, SAM)
    assert row is not None and not row.opted_out  # pressing 9 leaves texts on
    assert not call_consent.may_call(row) and call_consent.stopped_by_caller(row)
    with pytest.raises(roster.CallsNotAgreed):  # stopped: a call channel needs agreement again
        roster.update_contact(session, settings, None, own, {"channel": "voice"}, LATER, via="t")
    again = {"channel": "voice", "voice_consent": True}
    later = LATER + timedelta(minutes=3)
    roster.update_contact(session, settings, None, own, again, later, via="t")
    row = _number(session, SAM)
    assert call_consent.may_call(row) and not call_consent.stopped_by_caller(row)


def test_a_number_texts_found_invalid_gets_no_calls(app: Flask, session: Session) -> None:
    _, own = factories.client_with_phone(session, "Sam Diaz", SAM)
    yes = {"channel": "voice", "voice_consent": True}
    roster.update_contact(session, settings_of(app), None, own, yes, NOW, via="t")
    consent.mark_invalid(session, SAM, "unknown number", LATER)
    assert not call_consent.may_call_number(session, SAM)
