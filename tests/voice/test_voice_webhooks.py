"""The calls' webhooks, posted to as Twilio posts: signatures, fields, and what each says."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service.domain.vocabulary import MessageKind
from service.models import InboundMessage
from service.values import MAX_ID
from tests import factories
from tests.voice.conftest import NOW, PHONE, Twilio, arrange, placed_call, voice_config
from tests.webhooks.conftest import AUTH_TOKEN, PUBLIC, sign

PATHS = [
    "/voice/call/1",
    "/voice/keys/1/checkin",
    "/voice/keys/1/checkin/2",
    "/voice/silence/1/checkin/1",
    "/voice/status",
    "/voice/incoming",
]


def document(response: TestResponse) -> ET.Element:
    """The TwiML of a 200 answer."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return root


def said(root: ET.Element) -> list[str]:
    """Every sentence the document says, in order (a question's prompt too)."""
    return [say.text or "" for say in root.iter("Say")]


def verbs(root: ET.Element) -> list[str]:
    return [verb.tag for verb in root]


@pytest.mark.parametrize("path", PATHS)
def test_a_forged_or_missing_signature_is_refused(
    twilio: Twilio, session: Session, path: str
) -> None:
    form = {"Digits": "7", "CallStatus": "completed"}
    forged = sign(PUBLIC + path, {"CallSid": twilio.sid}, "not-the-auth-token")
    assert twilio.post(path, form, signature=forged).status_code == 403
    assert twilio.post(path, form, signature="").status_code == 403
    assert twilio.post(path, form, signature=sign(PUBLIC + "/voice/other", form)).status_code == 403
    assert session.scalars(select(InboundMessage)).all() == []


@pytest.mark.parametrize(
    ("path", "missing"),
    [
        ("/voice/call/1", "CallSid"),
        ("/voice/keys/1/checkin", "Digits"),
        ("/voice/keys/1/checkin", "To"),
        ("/voice/keys/1/checkin", "CallSid"),
        ("/voice/silence/1/checkin/1", "CallSid"),
        ("/voice/status", "CallStatus"),
        ("/voice/status", "CallSid"),
        ("/voice/incoming", "CallSid"),
    ],
)
def test_a_signed_post_missing_a_field_is_a_400(
    twilio: Twilio, session: Session, path: str, missing: str
) -> None:
    form: dict[str, str | None] = {"Digits": "7", "CallStatus": "completed", missing: None}
    assert twilio.post(path, form).status_code == 400  # type: ignore[arg-type]
    assert session.scalars(select(InboundMessage)).all() == []


def test_a_body_that_is_not_utf8_is_a_400(client: object, app: Flask) -> None:
    http = app.test_client()
    response = http.post(
        "/voice/incoming",
        data=b"CallSid=CA1&From=%FF",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


def test_a_check_in_call_asks_for_the_score_with_the_keypad(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    root = document(twilio.post(f"/voice/call/{call.id}", {"AnsweredBy": "human"}))
    assert verbs(root) == ["Say", "Gather", "Redirect"]
    gather = root.find("Gather")
    assert gather is not None
    assert gather.attrib == {
        "input": "dtmf",
        "finishOnKey": "#",
        "numDigits": "2",
        "timeout": "8",
        "action": f"{PUBLIC}/voice/keys/{call.id}/checkin",
        "method": "POST",
    }
    assert said(root) == [
        "Hello, this is Bright Path.",
        "How is your pain today, from 0, no pain, to 10, the worst? Press the number, then "
        "the pound key.",
    ]
    assert {(s.get("voice"), s.get("language")) for s in root.iter("Say")} == {
        ("Polly.Joanna", "en-US")
    }
    redirect = root.find("Redirect")
    assert redirect is not None and redirect.text == f"{PUBLIC}/voice/silence/{call.id}/checkin/1"


def test_a_reminder_call_names_the_client_to_a_caregiver_and_nothing_clinical(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session, caregiver="Rosa Lopez")
    call = placed_call(
        session, people.client, people.contact, MessageKind.REMINDER, appointment=people.ahead
    )
    root = document(twilio.post(f"/voice/call/{call.id}"))
    assert said(root) == [
        "Hello, this is Bright Path with a reminder of Maria's appointment on Thursday, "
        "March 4, at 10 AM.",
        "To confirm, press 1. To ask for another time, press 2. To stop these calls, press 9.",
    ]
    gather = root.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert gather.get("action") == f"{PUBLIC}/voice/keys/{call.id}/reminder"
    assert not any(word in " ".join(said(root)).lower() for word in ("pain", "massage"))


def test_a_number_two_clients_share_hears_whose_session_it_is(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session)
    sister, own = factories.client_with_phone(session, "Ana Lopez", "+16175550998")
    own.phone = PHONE  # the family's landline: each sister's own number
    session.commit()
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    assert said(document(twilio.post(f"/voice/call/{call.id}")))[1].startswith(
        "How is Maria's pain today"
    )
    assert sister.id != people.client.id


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_a_call_whose_session_was_called_off_while_it_rang_asks_nothing(
    twilio: Twilio, session: Session, status: str
) -> None:
    people = arrange(session, language="es")
    call = placed_call(
        session, people.client, people.contact, MessageKind.REMINDER, appointment=people.ahead
    )
    people.ahead.status = status
    session.commit()
    root = document(twilio.post(f"/voice/call/{call.id}"))
    assert said(root) == [
        "Hola, le llamamos de Bright Path.",
        "Disculpe, esta llamada ya no es necesaria.",
        "Adiós.",
    ]
    assert root.find("Gather") is None and root.find("Hangup") is not None


def test_a_spanish_client_hears_spanish_in_a_spanish_voice(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session, language="es")
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    root = document(twilio.post(f"/voice/call/{call.id}"))
    assert said(root)[0] == "Hola, le llamamos de Bright Path."
    assert {(s.get("voice"), s.get("language")) for s in root.iter("Say")} == {
        ("Polly.Lupe", "es-US")
    }


@pytest.mark.parametrize(
    ("kind", "heard"),
    [
        (
            MessageKind.REMINDER,
            [
                "This is Bright Path calling about an appointment. Please call us at "
                "6 1 7, 5 5 5, 0 1 0 0."
            ],
        ),
        (MessageKind.CHECKIN, []),
    ],
)
def test_an_answering_machine_hears_no_details(
    twilio: Twilio, session: Session, kind: MessageKind, heard: list[str]
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, kind, appointment=people.ahead)
    root = document(twilio.post(f"/voice/call/{call.id}", {"AnsweredBy": "machine_end_beep"}))
    assert said(root) == heard
    assert verbs(root)[-1] == "Hangup" and root.find("Gather") is None


def test_an_unknown_message_or_a_text_hears_a_goodbye(twilio: Twilio, session: Session) -> None:
    client, contact = factories.client_with_phone(session)
    text = factories.message(session, client, contact, send_at=NOW, kind="checkin")
    session.commit()
    for message_id in (text.id, 999_999):
        root = document(twilio.post(f"/voice/call/{message_id}"))
        assert said(root) == ["Goodbye."] and verbs(root) == ["Say", "Hangup"]


def test_an_id_no_row_can_have_is_a_goodbye_or_a_404_never_an_error(twilio: Twilio) -> None:
    assert said(document(twilio.post(f"/voice/call/{MAX_ID}"))) == ["Goodbye."]
    answer = document(twilio.post(f"/voice/silence/{MAX_ID}/checkin/1"))
    assert said(answer)[0] == "Sorry, we didn't get that."
    for digits in (str(MAX_ID + 1), "9" * 4301):  # the URL converter refuses them
        assert twilio.post(f"/voice/call/{digits}").status_code == 404


def test_an_unknown_question_hears_a_goodbye_and_stores_nothing(
    twilio: Twilio, session: Session
) -> None:
    for path in ("/voice/keys/1/favourite", "/voice/keys/1/checkin/3"):
        root = document(twilio.post(path, {"Digits": "7"}))
        assert said(root) == ["Goodbye."]
    assert session.scalars(select(InboundMessage)).all() == []


def test_silence_asks_again_once_then_offers_the_stop_then_says_goodbye(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    again = document(twilio.post(f"/voice/silence/{call.id}/checkin/1"))
    assert said(again)[0] == "Sorry, we didn't get that."
    gather = again.find("Gather")
    assert gather is not None and gather.get("action") == f"{PUBLIC}/voice/keys/{call.id}/checkin/2"
    offer = document(twilio.post(f"/voice/silence/{call.id}/checkin/2"))
    assert said(offer) == ["Sorry, we didn't get that.", "To stop these calls, press 9."]
    end = document(twilio.post(f"/voice/silence/{call.id}/stop_offer/1"))
    assert said(end) == ["Goodbye."] and verbs(end) == ["Say", "Hangup"]
    assert session.scalars(select(InboundMessage)).all() == []  # silence is no reply


@pytest.mark.parametrize(
    ("phone", "ends"), [("+16175550100", ["Say"] * 4 + ["Dial"]), ("", ["Say"] * 4 + ["Hangup"])]
)
def test_a_call_to_the_practice_greets_in_two_languages_and_connects(
    make_app: Callable[..., Flask], phone: str, ends: list[str]
) -> None:
    twilio = Twilio(make_app(**voice_config(PRACTICE_PHONE=phone)).test_client(), "CA" + "5" * 32)
    root = document(twilio.post("/voice/incoming", {"Direction": "inbound", "To": "+16175550100"}))
    assert verbs(root) == ends
    assert said(root)[0] == "Thank you for calling Bright Path."
    assert said(root)[2] == "Gracias por llamar a Bright Path."
    if phone:
        assert root.findtext("Dial") == phone


def test_logs_mask_the_number_and_never_hold_the_keys_or_words(
    twilio: Twilio, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    with caplog.at_level(logging.DEBUG):
        twilio.post(f"/voice/call/{call.id}")
        document(twilio.keys(call.id, "checkin", "8"))
        twilio.post("/voice/status", {"CallStatus": "completed", "AnsweredBy": "human"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "keys" in text and "processed" in text
    assert PHONE not in text and "5550123" not in text
    assert "pressed" not in text and "Digits" not in text and "pain" not in text
    assert AUTH_TOKEN not in text
