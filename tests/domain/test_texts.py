"""Message texts: one segment, the right names and times, and nothing they must not say."""

import re
from datetime import datetime

import pytest

from service.domain.texts import (
    ACKS,
    LANGUAGES,
    ack,
    checkin,
    first_name,
    fits_one_segment,
    format_local,
    reminder,
)

# A long but realistic practice name and given name: the texts must still fit one segment.
PRACTICE = "Bay Area Neuromuscular Center"  # 29 characters
NAME = "Maximiliano"
PHONE = "+1 (415) 555-0134"
WHEN = datetime(2027, 11, 13, 12, 30)  # the longest date format: "Sat Nov 13, 12:30 PM"

# Carrier keywords a client must never be asked to send, and words that reveal health details.
CARRIER_WORDS = re.compile(
    r"\b(stop|stopall|cancel|end|quit|unsubscribe|revoke|optout|start|yes|unstop|info)\b", re.I
)
HEALTH_WORDS = re.compile(
    r"massage|masaje|therap|terapia|diagnos|treat|tratamiento|injur|lesi|muscle|m[uú]sculo", re.I
)
PAIN_WORDS = re.compile(r"\b(pain|dolor)\b", re.I)


def every_text(language: str) -> dict[str, str]:
    texts = {
        "reminder": reminder(language, PRACTICE, NAME, WHEN),
        "checkin": checkin(language, PRACTICE, NAME),
    }
    for intent in ACKS:
        text = ack(language, intent, PRACTICE, PHONE)
        if text is not None:
            texts[intent] = text
    return texts


@pytest.mark.parametrize(
    ("moment", "language", "expected"),
    [
        (datetime(2027, 3, 4, 9, 0), "en", "Thu Mar 4, 9:00 AM"),
        (datetime(2027, 3, 4, 9, 0), "es", "jue 4 mar, 9:00"),
        (datetime(2027, 11, 13, 12, 30), "en", "Sat Nov 13, 12:30 PM"),
        (datetime(2027, 11, 13, 12, 30), "es", "sab 13 nov, 12:30"),
        (datetime(2027, 1, 3, 0, 5), "en", "Sun Jan 3, 12:05 AM"),
        (datetime(2027, 1, 3, 0, 5), "es", "dom 3 ene, 0:05"),
        (datetime(2027, 12, 29, 23, 59), "en", "Wed Dec 29, 11:59 PM"),
        (datetime(2027, 12, 29, 23, 59), "es", "mié 29 dic, 23:59"),
        (datetime(2027, 3, 4, 9, 0), "fr", "Thu Mar 4, 9:00 AM"),  # unknown: English
    ],
)
def test_format_local_writes_its_own_dates_regardless_of_locale(
    moment: datetime, language: str, expected: str
) -> None:
    assert format_local(moment, language) == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_fits_one_gsm7_segment(language: str) -> None:
    for kind, text in every_text(language).items():
        assert len(text) <= 160, kind
        assert fits_one_segment(text), kind
        assert "á" not in text and "í" not in text and "ó" not in text and "ú" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_reminders_and_check_ins_name_the_client_and_the_practice(language: str) -> None:
    for text in (reminder(language, PRACTICE, NAME, WHEN), checkin(language, PRACTICE, NAME)):
        assert NAME in text
        assert PRACTICE in text
    assert format_local(WHEN, language) in reminder(language, PRACTICE, NAME, WHEN)


@pytest.mark.parametrize(
    ("language", "instruction"),
    [
        ("en", "Reply C to confirm or R to reschedule."),
        ("es", "Responda C para confirmar o R para cambiar la fecha."),
    ],
)
def test_reminders_say_how_to_answer(language: str, instruction: str) -> None:
    assert reminder(language, PRACTICE, NAME, WHEN).endswith(instruction)


@pytest.mark.parametrize(
    ("language", "scale"), [("en", "from 0 (none) to 10 (worst)"), ("es", "Del 0 (nada) al 10")]
)
def test_check_ins_ask_for_pain_as_one_number_from_0_to_10(language: str, scale: str) -> None:
    text = checkin(language, PRACTICE, NAME)
    assert scale in text
    assert PAIN_WORDS.search(text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_asks_for_a_carrier_keyword_or_mentions_health_details(language: str) -> None:
    for kind, text in every_text(language).items():
        assert not HEALTH_WORDS.search(text.replace(PRACTICE, "")), kind  # the name is theirs
        assert not PAIN_WORDS.search(text) or kind == "checkin", kind
        if kind in ("help", "opt_in"):
            # These must say how to stop, and may name STOP for exactly that.
            assert CARRIER_WORDS.findall(text) == ["STOP"], kind
            assert re.search(r"(Reply|Responda) STOP", text), kind
        else:
            assert not CARRIER_WORDS.search(text), kind


MARCH_4 = datetime(2027, 3, 4, 9, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            reminder("en", "Riverside", "Rosa", MARCH_4, about="Maria"),
            "Hi Rosa, a reminder of Maria's appointment at Riverside on Thu Mar 4, 9:00 AM. "
            "Reply C to confirm or R to reschedule.",
        ),
        (
            reminder("es", "Riverside", "Rosa", MARCH_4, about="Maria"),
            "Hola Rosa, recordamos la cita de Maria en Riverside el jue 4 mar, 9:00. "
            "Responda C para confirmar o R para cambiar la fecha.",
        ),
        (
            checkin("en", "Riverside", "Rosa", about="Maria"),
            "Hi Rosa, Riverside checking in. How is Maria's pain today, from 0 (none) to 10 "
            "(worst)? Reply with one number.",
        ),
        (
            checkin("es", "Riverside", "Rosa", about="Maria"),
            "Hola Rosa, le saluda Riverside. Del 0 (nada) al 10 (el peor), ¿qué nivel de dolor "
            "tiene Maria hoy? Responda solo con la cifra.",
        ),
        (
            reminder("en", "Riverside", "", MARCH_4, about="Maria"),
            "Hi, a reminder of Maria's appointment at Riverside on Thu Mar 4, 9:00 AM. "
            "Reply C to confirm or R to reschedule.",
        ),
        (
            ack("en", "confirm", "Riverside", PHONE, about="Maria"),
            "Thanks, Maria's appointment is confirmed.",
        ),
        (
            ack("es", "pain", "Riverside", PHONE, about="Maria"),
            "Gracias, lo hemos anotado para Maria.",
        ),
        (
            ack("en", "reask", "Riverside", PHONE, about="Maria"),
            "Sorry, for Maria please reply with one number from 0 (none) to 10 (worst).",
        ),
        (
            ack("en", "help", "Riverside", PHONE, about="Maria"),
            ack("en", "help", "Riverside", PHONE),
        ),
    ],
)
def test_texts_to_a_caregiver_name_the_client(text: str, expected: str) -> None:
    assert text == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_caregivers_texts_still_fit_one_segment_and_say_nothing_clinical(language: str) -> None:
    about = {
        "reminder": reminder(language, PRACTICE, NAME, WHEN, about=NAME),
        "checkin": checkin(language, PRACTICE, NAME, about=NAME),
    }
    for intent in ACKS:
        text = ack(language, intent, PRACTICE, PHONE, about=NAME)
        if text is not None:
            about[intent] = text
    for kind, text in about.items():
        assert fits_one_segment(text) and len(text) <= 160, kind
        assert not HEALTH_WORDS.search(text.replace(PRACTICE, "")), kind
        assert not PAIN_WORDS.search(text) or kind == "checkin", kind
        assert not CARRIER_WORDS.search(text) or kind in ("help", "opt_in"), kind


@pytest.mark.parametrize(
    ("intent", "english", "spanish"),
    [
        ("confirm", "Thanks, you're confirmed.", "Gracias, su cita queda confirmada."),
        ("reschedule", "will be in touch", "buscar otra fecha"),
        ("pain", "Thanks", "Gracias"),
        ("reask", "one number from 0 (none) to 10 (worst)", "del 0 (nada) al 10"),
        ("help", "Reply STOP to opt out.", "Responda STOP para darse de baja."),
        ("opt_in", "again", "Vuelve a recibir"),
        ("other", "Thanks, we got your message.", "Gracias, hemos recibido su mensaje."),
    ],
)
def test_acknowledgements_answer_each_intent(intent: str, english: str, spanish: str) -> None:
    assert english in (ack("en", intent, PRACTICE, PHONE) or "")
    assert spanish in (ack("es", intent, PRACTICE, PHONE) or "")


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_gives_the_practice_and_its_phone(language: str) -> None:
    text = ack(language, "help", PRACTICE, PHONE) or ""
    assert PRACTICE in text and PHONE in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_opt_out_gets_no_acknowledgement_because_the_carrier_replies(language: str) -> None:
    assert ack(language, "opt_out", PRACTICE, PHONE) is None


def test_an_unknown_intent_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="intent"):
        ack("en", "maybe", PRACTICE, PHONE)


def test_an_unknown_language_falls_back_to_english() -> None:
    assert reminder("de", PRACTICE, NAME, WHEN) == reminder("en", PRACTICE, NAME, WHEN)
    assert checkin("", PRACTICE, NAME) == checkin("en", PRACTICE, NAME)
    assert ack("pt", "confirm", PRACTICE, PHONE) == ack("en", "confirm", PRACTICE, PHONE)


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Alice Moreno", "Alice"),
        ("  alice   moreno ", "alice"),
        ("Moreno, Lucía", "Lucía"),
        ("Moreno, Lucía, Jr.", "Lucía"),
        ("Cher", "Cher"),
        ("Cher,", "Cher"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_first_name_is_the_given_name(full: str, expected: str) -> None:
    assert first_name(full) == expected


@pytest.mark.parametrize(("language", "greeting"), [("en", "Hi, "), ("es", "Hola, ")])
def test_a_client_without_a_name_is_greeted_without_one(language: str, greeting: str) -> None:
    assert reminder(language, PRACTICE, "", WHEN).startswith(greeting)
    assert checkin(language, PRACTICE, " ").startswith(greeting)


@pytest.mark.parametrize(
    ("text", "fits"),
    [
        ("a" * 160, True),
        ("a" * 161, False),
        ("¿é ñ ü?" + "a" * 153, True),  # these accents are GSM-7
        ("€" * 80, True),  # extension characters count twice
        ("€" * 81, False),
        ("á" * 70, True),  # outside GSM-7: UCS-2, 70 per segment
        ("á" * 71, False),
        ("🙂" * 35, True),  # two UTF-16 units each
        ("🙂" * 36, False),
    ],
)
def test_fits_one_segment_counts_like_the_carriers(text: str, fits: bool) -> None:
    assert fits_one_segment(text) is fits
