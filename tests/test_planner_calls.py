"""A contact on the voice channel is planned calls, with the texts' offsets, under keys of
their own; without a number that may get calls it is planned texts; a change of channel
re-plans the one into the other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, consent, outbox, planner, roster
from service.config import settings_of
from service.domain.provider_errors import explain
from service.models import Contact, OutboundMessage
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
START = NOW + timedelta(days=3)  # Saturday 11:00
SAM = "+16175550123"

Planned = list[tuple[str, str, str, datetime]]


def _messages(session: Session) -> Planned:
    """(kind, channel, status, send_at) of every message, in send order."""
    session.expire_all()
    rows = session.scalars(
        select(OutboundMessage).order_by(OutboundMessage.send_at, OutboundMessage.kind)
    )
    return [(m.kind, m.channel, m.status, m.send_at) for m in rows]


def _live(session: Session) -> Planned:
    return [m for m in _messages(session) if m[2] == "planned"]


def _sam(app: Flask, session: Session, channel: str = "voice") -> Contact:
    client, own = factories.client_with_phone(session, "Sam Lee", SAM)
    factories.appointment(session, client, START)
    change = {"channel": channel, "voice_consent": True}
    roster.update_contact(session, settings_of(app), None, own, change, NOW, via="test")
    session.commit()
    return own


def test_a_contact_on_voice_is_planned_calls_at_the_texts_times(
    app: Flask, session: Session
) -> None:
    _sam(app, session)
    planned = _live(session)
    # Reminder 24 h before, check-ins 24 h and 72 h after the session ends (12:00).
    assert [(kind, channel, at) for kind, channel, _, at in planned] == [
        ("reminder", "voice", START - timedelta(hours=24)),
        ("checkin", "voice", START + timedelta(hours=25)),
        ("checkin", "voice", START + timedelta(hours=73)),
    ]
    keys = session.scalars(select(OutboundMessage.idempotency_key)).all()
    assert all(key.endswith(":voice") for key in keys)


def test_texts_then_a_call_is_planned_texts(app: Flask, session: Session) -> None:
    _sam(app, session, "sms_then_voice")
    assert {channel for _, channel, _, _ in _live(session)} == {"sms"}


def test_a_number_that_may_not_get_calls_is_planned_texts_instead(
    app: Flask, session: Session
) -> None:
    own = _sam(app, session)
    consent.mark_invalid(session, SAM, "unknown number", NOW)
    planner.replan_client(session, settings_of(app), own.client_id, NOW)
    session.commit()
    assert own.channel == "voice"
    assert [(k, c) for k, c, _, _ in _live(session)] == [
        ("reminder", "sms"),
        ("checkin", "sms"),
        ("checkin", "sms"),
    ]
    skipped = [m for m in _messages(session) if m[2] == "skipped"]  # by the invalid mark
    assert {channel for _, channel, _, _ in skipped} == {"voice"}


def test_a_landline_keeps_its_calls_and_stop_by_text_does_not_stop_them(
    app: Flask, session: Session
) -> None:
    own = _sam(app, session)
    calls = _live(session)
    consent.mark_invalid(session, SAM, explain(30006), NOW)  # a text found a landline
    consent.opt_out(session, SAM, NOW)
    planner.replan_client(session, settings_of(app), own.client_id, NOW)
    session.commit()
    assert _messages(session) == calls


def test_a_change_of_channel_replans_texts_into_calls_and_back(
    app: Flask, session: Session
) -> None:
    own = _sam(app, session, "sms")
    texts = _live(session)
    assert {channel for _, channel, _, _ in texts} == {"sms"}
    settings = settings_of(app)
    roster.update_contact(session, settings, None, own, {"channel": "voice"}, NOW, via="t")
    session.commit()
    calls = _live(session)
    assert [(k, at) for k, _, _, at in calls] == [(k, at) for k, _, _, at in texts]
    assert {channel for _, channel, _, _ in calls} == {"voice"}
    roster.update_contact(session, settings, None, own, {"channel": "sms"}, NOW, via="t")
    session.commit()
    assert _live(session) == texts  # the texts come back, under their own keys
    assert len(_messages(session)) == 6  # three texts, three calls cancelled: none made twice


def test_pressing_9_turns_the_planned_calls_into_texts_at_once(
    app: Flask, session: Session
) -> None:
    own = _sam(app, session)
    call_consent.stop_calls(session, None, SAM, NOW, via="keypad", settings=settings_of(app))
    session.commit()
    assert own.channel == "sms"
    assert {channel for _, channel, _, _ in _live(session)} == {"sms"}
    assert {m[1] for m in _messages(session) if m[2] == "cancelled"} == {"voice"}


def test_a_reminder_that_went_by_text_is_not_called_again_after_a_switch(
    app: Flask, session: Session
) -> None:
    own = _sam(app, session, "sms")
    reminder = session.scalars(
        select(OutboundMessage).where(OutboundMessage.kind == "reminder")
    ).one()
    outbox.record_delivered(session, [reminder.id], NOW)  # it went
    settings = settings_of(app)
    later = START - timedelta(hours=20)
    roster.update_contact(session, settings, None, own, {"channel": "voice"}, later, via="t")
    session.commit()
    called = [m for m in _messages(session) if m[:2] == ("reminder", "voice")]
    assert [status for _, _, status, _ in called] == ["skipped"]
