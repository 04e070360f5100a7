"""Keys pressed during a call: stored as a reply first, acted on as a text's answer is, and
answered by the call itself, never by a text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, consent, replies
from service.config import settings_of
from service.db import get_db
from service.domain.vocabulary import MessageKind
from service.models import Alert, Appointment, InboundMessage, OutboundMessage
from tests import factories
from tests.voice.conftest import NOW, PHONE, Twilio, arrange, placed_call
from tests.voice.test_voice_webhooks import document, said


def reply_rows(session: Session) -> list[InboundMessage]:
    session.expire_all()
    return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def alerts(session: Session) -> list[tuple[str, str]]:
    return [(a.kind, a.detail) for a in session.scalars(select(Alert).order_by(Alert.id))]


def texts_back(session: Session) -> list[OutboundMessage]:
    """Acknowledgements written for replies (none for keys: the call speaks them)."""
    kind = OutboundMessage.kind == MessageKind.REPLY
    return list(session.scalars(select(OutboundMessage).where(kind)))


def test_a_score_is_stored_as_a_voice_reply_acted_on_and_read_back(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    root = document(twilio.keys(call.id, "checkin", "10", FinishedOnKey="#"))
    assert said(root) == ["You pressed 10. Thank you.", "To stop these calls, press 9."]
    gather = root.find("Gather")
    assert gather is not None and gather.get("action", "").endswith(f"/{call.id}/stop_offer")
    [row] = reply_rows(session)
    assert (row.channel, row.provider_sid, row.body) == ("voice", f"{twilio.sid}:checkin", "10")
    assert (row.from_phone, row.fields["question"], row.fields["CallSid"]) == (
        PHONE,
        "checkin",
        twilio.sid,
    )
    assert (row.intent, row.pain_score, row.answers_message_id) == ("pain", 10, call.id)
    assert row.processed_at is not None and row.client_id == people.client.id
    assert alerts(session) == [("pain", "pain 10/10")]
    assert texts_back(session) == []  # the call said it; no text follows


def test_a_retried_webhook_stores_the_keys_once_and_answers_the_same(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    first = twilio.keys(call.id, "checkin", "9").get_data(as_text=True)
    again = twilio.keys(call.id, "checkin", "9").get_data(as_text=True)
    assert first == again and "You pressed 9." in first  # 9 is a score here, never a stop
    assert [(r.provider_sid, r.pain_score) for r in reply_rows(session)] == [
        (f"{twilio.sid}:checkin", 9)
    ]
    assert len(alerts(session)) == 1


def test_a_score_out_of_range_is_asked_again_and_the_second_asking_stored_apart(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    again = document(twilio.keys(call.id, "checkin", "99"))
    assert said(again)[0] == "Sorry, we didn't get that."
    gather = again.find("Gather")
    assert gather is not None and gather.get("action", "").endswith(f"/{call.id}/checkin/2")
    document(twilio.post(f"/voice/keys/{call.id}/checkin/2", {"Digits": "7"}))
    rows = reply_rows(session)
    assert [(r.provider_sid, r.intent, r.pain_score) for r in rows] == [
        (f"{twilio.sid}:checkin", "other", None),
        (f"{twilio.sid}:checkin:2", "pain", 7),
    ]
    assert alerts(session) == [] and texts_back(session) == []


def test_nine_at_the_stop_offer_stops_calls_and_not_texts(twilio: Twilio, session: Session) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    root = document(twilio.keys(call.id, "stop_offer", "9"))
    assert said(root) == [
        "Bright Path will not call this number again. This does not stop text messages.",
        "Goodbye.",
    ]
    assert [verb.tag for verb in root][-1] == "Hangup"
    session.expire_all()
    assert not call_consent.may_call_number(session, PHONE)
    assert not consent.is_opted_out(session, PHONE)
    [row] = reply_rows(session)
    assert (row.intent, row.pain_score, row.reason) == ("other", None, "stop calls: pressed 9")
    assert alerts(session) == [] and texts_back(session) == []


def test_another_key_at_the_stop_offer_just_says_goodbye(twilio: Twilio, session: Session) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    assert said(document(twilio.keys(call.id, "stop_offer", "1"))) == ["Goodbye."]
    assert call_consent.may_call_number(session, PHONE)
    assert alerts(session) == []


@pytest.mark.parametrize(
    ("digits", "heard", "status", "alerted"),
    [
        ("1", "Thank you. The appointment is confirmed.", "confirmed", []),
        (
            "2",
            "Thank you. Bright Path will call you back to find another time.",
            "scheduled",
            ["reschedule"],
        ),
    ],
)
def test_a_reminder_is_confirmed_with_1_and_another_time_asked_with_2(
    twilio: Twilio, session: Session, digits: str, heard: str, status: str, alerted: list[str]
) -> None:
    people = arrange(session)
    call = placed_call(
        session, people.client, people.contact, MessageKind.REMINDER, appointment=people.ahead
    )
    assert said(document(twilio.keys(call.id, "reminder", digits)))[0] == heard
    session.expire_all()
    appointment = session.get(Appointment, people.ahead.id)
    assert appointment is not None and appointment.status == status
    assert [kind for kind, _ in alerts(session)] == alerted
    assert texts_back(session) == []


def test_keys_whose_processing_failed_are_finished_late_by_the_keypad_without_a_text(
    app: Flask, session: Session
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    stored = []
    for question, digits in (("checkin", "9"), ("stop_offer", "9")):
        with get_db(app).engine.connect() as connection:
            inbound = replies.Inbound(
                sid=f"CA{'7' * 32}:{question}",
                from_phone=PHONE,
                to_phone="+16175550100",
                body=digits,
                num_media=0,
                fields={"CallSid": "CA" + "7" * 32, "question": question, "FinishedOnKey": ""},
                channel="voice",
            )
            stored.append(replies.store_first(connection, inbound, NOW))
    for inbound_id in stored:
        assert inbound_id is not None
        later = NOW + timedelta(minutes=5)
        assert replies.process(session, settings_of(app), inbound_id, later, late=True) is None
    rows = reply_rows(session)
    assert [(r.pain_score, r.answers_message_id) for r in rows] == [(9, call.id), (None, call.id)]
    assert not call_consent.may_call_number(session, PHONE)  # the 9 at the offer stopped calls
    assert not consent.is_opted_out(session, PHONE)
    assert texts_back(session) == []  # not even late: a call's keys never get a text


def test_a_text_to_the_same_number_is_still_read_and_answered_as_a_text(
    twilio: Twilio, session: Session, app: Flask
) -> None:
    from tests.webhooks.conftest import Twilio as Texts
    from tests.webhooks.conftest import reply_text

    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    document(twilio.keys(call.id, "stop_offer", "9"))
    answer = reply_text(Texts(app.test_client()).text(PHONE, "6"))
    assert answer is not None  # texts go on after calls stopped
    rows = reply_rows(session)
    assert [(r.channel, r.pain_score) for r in rows] == [("voice", None), ("sms", 6)]
    assert len(texts_back(session)) == 1


def test_the_answer_is_read_as_xml(twilio: Twilio, session: Session) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    body = twilio.keys(call.id, "checkin", "#").get_data(as_text=True)
    assert ET.fromstring(body).tag == "Response"
    [row] = reply_rows(session)
    assert row.reason == "nothing to act on: pressed # alone" and row.intent == "other"


def test_keys_answer_their_own_call_even_after_a_text_to_the_same_number(
    twilio: Twilio, session: Session
) -> None:
    # A shared number: Maria's reminder call, then (during it) a text about Ana's session to
    # the same phone. The 1 pressed in Maria's call confirms Maria's session, not Ana's.
    people = arrange(session)
    call = placed_call(
        session, people.client, people.contact, MessageKind.REMINDER, appointment=people.ahead
    )
    ana, ana_contact = factories.client_with_phone(session, "Ana Lopez", PHONE)
    anas = factories.appointment(session, ana, people.ahead.starts_at + timedelta(days=1))
    text = placed_call(session, ana, ana_contact, MessageKind.REMINDER, appointment=anas)
    text.channel, text.sent_at = "sms", text.sent_at + timedelta(seconds=30)  # type: ignore[assignment]
    session.commit()
    assert said(document(twilio.keys(call.id, "reminder", "1")))[0] == (
        "Thank you. The appointment is confirmed."
    )
    session.expire_all()
    statuses = [session.get(Appointment, a.id).status for a in (people.ahead, anas)]  # type: ignore[union-attr]
    assert statuses == ["confirmed", "scheduled"]
    [reply] = session.scalars(select(InboundMessage)).all()
    assert (reply.client_id, reply.answers_message_id) == (people.client.id, call.id)
