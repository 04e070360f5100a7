"""What a reply does: read against the latest text we sent to that number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.dashboard import client_page
from service.domain import texts
from service.models import (
    Alert,
    Appointment,
    Client,
    Contact,
    InboundMessage,
    OutboundMessage,
    PhoneNumber,
)
from tests import factories
from tests.webhooks.conftest import Twilio, reply_text

PHONE = "+16175550123"
NOW = datetime.now(UTC)


def last_reply(session: Session) -> InboundMessage:
    session.expire_all()
    row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert row is not None
    return row


def alerts(session: Session) -> list[tuple[str, int | None]]:
    session.expire_all()
    return [(a.kind, a.client_id) for a in session.scalars(select(Alert).order_by(Alert.id))]


def after_checkin(
    session: Session, *, language: str = "en"
) -> tuple[Client, Appointment, OutboundMessage]:
    client, contact = factories.client_with_phone(session, language=language)
    appt = factories.appointment(session, client, NOW - timedelta(days=1), status="completed")
    checkin = factories.sent(
        session,
        client,
        contact,
        kind="checkin",
        sent_at=NOW - timedelta(hours=1),
        appointment_id=appt.id,
    )
    session.commit()
    return client, appt, checkin


def after_reminder(session: Session) -> tuple[Client, Appointment, OutboundMessage]:
    client, contact = factories.client_with_phone(session)
    appt = factories.appointment(session, client, NOW + timedelta(hours=20))
    reminder = factories.sent(
        session,
        client,
        contact,
        kind="reminder",
        sent_at=NOW - timedelta(hours=2),
        appointment_id=appt.id,
    )
    session.commit()
    return client, appt, reminder


@pytest.mark.parametrize(
    ("body", "score"),
    [("7", 7), ("seven", 7), ("6-7", 7), ("0 no pain", 0), ("8 today, my neck is bad", 8)],
)
def test_a_number_after_a_checkin_is_that_sessions_pain_score(
    twilio: Twilio, session: Session, body: str, score: int
) -> None:
    client, appt, checkin = after_checkin(session)
    assert reply_text(twilio.text(PHONE, body)) == "Thanks, we've noted it."
    row = last_reply(session)
    assert (row.intent, row.pain_score, row.client_id) == ("pain", score, client.id)
    assert (row.answers_message_id, row.appointment_id) == (checkin.id, appt.id)


def test_a_high_score_alerts_the_therapist(twilio: Twilio, session: Session) -> None:
    client, _, _ = after_checkin(session)
    twilio.text(PHONE, "9")
    assert alerts(session) == [("pain", client.id)]


def test_a_jump_of_three_alerts_even_below_the_threshold(twilio: Twilio, session: Session) -> None:
    client, _, _ = after_checkin(session)
    twilio.text(PHONE, "3")
    twilio.text(PHONE, "5")
    assert alerts(session) == []
    twilio.text(PHONE, "2")
    twilio.text(PHONE, "6")
    assert alerts(session) == [("pain", client.id)]


def test_a_score_out_of_range_is_asked_once_more_then_left_for_the_therapist(
    twilio: Twilio, session: Session
) -> None:
    client, _, _ = after_checkin(session)
    assert (
        reply_text(twilio.text(PHONE, "15"))
        == "Sorry, please reply with one number from 0 (none) to 10 (worst)."
    )
    assert last_reply(session).pain_score is None
    assert reply_text(twilio.text(PHONE, "70%")) == "Thanks, we got your message."
    assert alerts(session) == [("not_understood", client.id)]


def test_c_after_a_reminder_confirms_the_appointment(twilio: Twilio, session: Session) -> None:
    _, appt, reminder = after_reminder(session)
    assert reply_text(twilio.text(PHONE, "C")) == "Thanks, you're confirmed."
    session.expire_all()
    assert session.get(Appointment, appt.id).status == "confirmed"  # type: ignore[union-attr]
    row = last_reply(session)
    assert (row.intent, row.answers_message_id, row.appointment_id) == (
        "confirm",
        reminder.id,
        appt.id,
    )


def test_r_asks_for_a_new_time_and_alerts(twilio: Twilio, session: Session) -> None:
    client, appt, _ = after_reminder(session)
    assert "will be in touch" in (reply_text(twilio.text(PHONE, "can't make it")) or "")
    assert alerts(session) == [("reschedule", client.id)]
    session.expire_all()
    assert session.get(Appointment, appt.id).status == "scheduled"  # type: ignore[union-attr]


@pytest.mark.parametrize("body", ["STOP", "stop.", " Unsubscribe!"])
def test_a_carrier_stop_opts_out_skips_planned_texts_and_gets_no_reply(
    twilio: Twilio, session: Session, body: str
) -> None:
    client, _, _ = after_reminder(session)
    contact = session.scalars(select(Contact)).one()
    planned = factories.message(session, client, contact, send_at=NOW + timedelta(hours=3))
    session.commit()
    assert reply_text(twilio.text(PHONE, body)) is None
    session.expire_all()
    assert session.get(PhoneNumber, PHONE).opted_out  # type: ignore[union-attr]
    assert session.get(OutboundMessage, planned.id).status == "skipped"  # type: ignore[union-attr]
    assert alerts(session) == [("opt_out", client.id)]


def test_a_stop_in_plain_words_opts_out_with_one_confirmation(
    twilio: Twilio, session: Session
) -> None:
    after_reminder(session)
    reply = reply_text(twilio.text(PHONE, "please stop texting me"))
    assert reply is not None and "START" in reply
    session.expire_all()
    assert session.get(PhoneNumber, PHONE).opted_out  # type: ignore[union-attr]


def test_ordinary_talk_about_stopping_is_not_an_opt_out(twilio: Twilio, session: Session) -> None:
    after_checkin(session)
    twilio.text(PHONE, "I can't stop thinking how good the massage was")
    session.expire_all()
    assert session.get(PhoneNumber, PHONE) is None or not session.get(PhoneNumber, PHONE).opted_out  # type: ignore[union-attr]


def test_start_and_yes_opt_a_number_back_in(twilio: Twilio, session: Session) -> None:
    after_reminder(session)
    twilio.text(PHONE, "STOP")
    assert reply_text(twilio.text(PHONE, "START")) is None  # the carrier answers START
    session.expire_all()
    assert not session.get(PhoneNumber, PHONE).opted_out  # type: ignore[union-attr]
    twilio.text(PHONE, "STOP")
    twilio.text(PHONE, "yes")
    session.expire_all()
    assert not session.get(PhoneNumber, PHONE).opted_out  # type: ignore[union-attr]


def test_twilio_opt_out_type_is_trusted(twilio: Twilio, session: Session) -> None:
    after_reminder(session)
    assert reply_text(twilio.text(PHONE, "ARRET", OptOutType="STOP")) is None
    session.expire_all()
    assert session.get(PhoneNumber, PHONE).opted_out  # type: ignore[union-attr]


def test_help_answers_with_the_practice_and_how_to_stop(twilio: Twilio, session: Session) -> None:
    after_reminder(session)
    reply = reply_text(twilio.text(PHONE, "HELP")) or ""
    assert "Bright Path" in reply and "(617) 555-0100" in reply and "STOP" in reply


def test_a_spanish_client_is_answered_in_spanish(twilio: Twilio, session: Session) -> None:
    after_checkin(session, language="es")
    assert reply_text(twilio.text(PHONE, "siete")) == "Gracias, lo hemos anotado."


def test_a_shared_number_belongs_to_the_client_texted_last(
    twilio: Twilio, session: Session
) -> None:
    mom = "+16175550177"
    first, _ = factories.client_with_phone(session, "Ana Kid", "+16175550001")
    second, _ = factories.client_with_phone(session, "Ben Kid", "+16175550002")
    contacts = []
    for client in (first, second):
        contact = Contact(
            client_id=client.id, name="Mom", relation="parent", phone=mom, checkins=True
        )
        session.add(contact)
        contacts.append(contact)
    session.flush()
    factories.sent(session, first, contacts[0], kind="checkin", sent_at=NOW - timedelta(hours=3))
    factories.sent(session, second, contacts[1], kind="checkin", sent_at=NOW - timedelta(hours=1))
    session.commit()
    twilio.text(mom, "4")
    row = last_reply(session)
    assert (row.client_id, row.contact_id, row.pain_score) == (second.id, contacts[1].id, 4)


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ("4", "Thanks, we've noted it for Sam."),
        ("whatever", "Sorry, for Sam please reply with one number from 0 (none) to 10 (worst)."),
    ],
)
def test_a_caregiver_answering_two_clients_check_ins_is_told_which_one_it_was_for(
    twilio: Twilio, session: Session, body: str, answer: str
) -> None:
    mom = "+16175550177"
    rosas = []
    for name, phone, hours in (("Maria Diaz", "+16175550001", 3), ("Sam Diaz", "+16175550002", 1)):
        client, _ = factories.client_with_phone(session, name, phone)
        rosa = Contact(name="Rosa Diaz", relation="mother", phone=mom, checkins=True)
        client.contacts.append(rosa)
        session.flush()
        asked = texts.checkin("en", "Bright Path", "Rosa", about=name.split()[0])
        factories.sent(
            session, client, rosa, kind="checkin", sent_at=NOW - timedelta(hours=hours), body=asked
        )
        rosas.append((client, rosa))
    session.commit()
    assert reply_text(twilio.text(mom, body)) == answer
    (maria, _), (sam, rosa) = rosas
    row = last_reply(session)
    assert (row.client_id, row.contact_id) == (sam.id, rosa.id)  # the one asked last
    thread = client_page.thread(session, sam)
    assert [(item.body, item.incoming) for item in thread[-2:]] == [(body, True), (answer, False)]
    assert thread[-2].detail.startswith("for Sam")
    assert not client_page.thread(session, maria)[-1].incoming  # Maria's thread: only the ask


def test_a_local_format_number_is_matched(twilio: Twilio, session: Session) -> None:
    client, _, _ = after_checkin(session)
    twilio.text("(617) 555-0123", "3")
    assert last_reply(session).client_id == client.id


def test_an_unknown_number_is_stored_unmatched_and_shown(twilio: Twilio, session: Session) -> None:
    answer = twilio.text("+16175559999", "who is this?")
    row = last_reply(session)
    # Asking who we are gets the HELP answer (the practice's name and number), and the
    # practice still sees that a number it does not know wrote.
    assert (row.client_id, row.intent) == (None, "help")
    assert "appointment reminders and check-ins" in (reply_text(answer) or "")
    assert alerts(session) == [("unknown_sender", None)]


def test_free_text_is_kept_for_the_therapist(twilio: Twilio, session: Session) -> None:
    client, _, _ = after_reminder(session)
    twilio.text(PHONE, "Can you use less pressure on my left side?")
    row = last_reply(session)
    assert (row.intent, row.note) == ("other", "Can you use less pressure on my left side?")
    assert alerts(session) == [("not_understood", client.id)]


def test_the_acknowledgement_joins_the_thread(twilio: Twilio, session: Session) -> None:
    client, _, _ = after_checkin(session)
    twilio.text(PHONE, "5")
    session.expire_all()
    reply = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "reply")).one()
    assert (reply.client_id, reply.to_phone, reply.status, reply.body) == (
        client.id,
        PHONE,
        "sent",
        "Thanks, we've noted it.",
    )


def test_an_opted_out_number_hears_nothing_but_what_it_asks_for(
    twilio: Twilio, session: Session
) -> None:
    after_checkin(session)
    assert reply_text(twilio.text(PHONE, "please stop texting me")) is not None  # one confirmation
    for body in ("hello", "7", "R", "C"):
        assert reply_text(twilio.text(PHONE, body)) is None
    assert "STOP" in (reply_text(twilio.text(PHONE, "HELP")) or "")


def test_a_text_of_unknown_outcome_does_not_hide_the_checkin_it_follows(
    twilio: Twilio, session: Session
) -> None:
    client, _, checkin = after_checkin(session)
    contact = session.scalars(select(Contact)).one()
    limbo = factories.message(session, client, contact, send_at=NOW, body="maybe sent")
    limbo.status = "unknown"  # no sent_at: NULL must not sort first
    session.commit()
    twilio.text(PHONE, "6")
    row = last_reply(session)
    assert (row.intent, row.answers_message_id) == ("pain", checkin.id)
