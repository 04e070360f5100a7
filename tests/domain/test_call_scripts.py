"""What the calls say, as tables: the words in each language and voice, whose name is heard,
dates and phone numbers as they are spoken, what follows each key, and nothing clinical."""

from __future__ import annotations

from datetime import datetime

import pytest

from service.domain import clinical
from service.domain.call_scripts import (
    VOICES,
    Ask,
    Dial,
    Hangup,
    Say,
    Step,
    answer,
    checkin,
    incoming,
    machine_message,
    reminder,
)
from service.domain.call_words import WORDS, spoken_phone, spoken_when
from service.domain.keypad import StopCalls, read_keys
from service.domain.vocabulary import Language
from tests.domain.test_texts import HEALTH_WORDS, PAIN_WORDS

PRACTICE = "Riverside Bodywork"
PHONE = "+16175550100"
DEC_3 = datetime(2026, 12, 3, 10, 0)
EN, ES = VOICES[Language.EN], VOICES[Language.ES]


def said(steps: tuple[Step, ...]) -> list[str]:
    """The words of the steps, a prompt as any sentence, in order."""
    return [s.text if isinstance(s, Say) else s.prompt for s in steps if isinstance(s, Say | Ask)]


@pytest.mark.parametrize(
    ("language", "about", "words"),
    [
        (
            "en",
            "Maria",
            [
                "Hello, this is Riverside Bodywork with a reminder of Maria's appointment on "
                "Thursday, December 3, at 10 AM.",
                "To confirm, press 1. To ask for another time, press 2. To stop these calls, "
                "press 9.",
            ],
        ),
        (
            "en",
            "",
            [
                "Hello, this is Riverside Bodywork with a reminder of your appointment on "
                "Thursday, December 3, at 10 AM.",
                "To confirm, press 1. To ask for another time, press 2. To stop these calls, "
                "press 9.",
            ],
        ),
        (
            "es",
            "Maria",
            [
                "Hola, le llamamos de Riverside Bodywork para recordarle la cita de Maria del "
                "jueves 3 de diciembre a las 10 de la mañana.",
                "Para confirmar, oprima 1. Para pedir otro horario, oprima 2. Para no recibir "
                "más llamadas, oprima 9.",
            ],
        ),
        (
            "es",
            "",
            [
                "Hola, le llamamos de Riverside Bodywork para recordarle su cita del jueves 3 de "
                "diciembre a las 10 de la mañana.",
                "Para confirmar, oprima 1. Para pedir otro horario, oprima 2. Para no recibir "
                "más llamadas, oprima 9.",
            ],
        ),
    ],
)
def test_the_reminder_call_says_whose_appointment_and_when_then_offers_1_2_and_9(
    language: str, about: str, words: list[str]
) -> None:
    steps = reminder(language, PRACTICE, DEC_3, about=about)
    assert said(steps) == words
    menu = steps[-1]
    assert isinstance(menu, Ask)
    assert (menu.question, menu.num_digits, menu.finish_on_key, menu.timeout) == (
        "reminder",
        1,
        "",
        8,
    )
    assert {s.voice for s in steps if isinstance(s, Say | Ask)} == {VOICES[Language(language)]}


@pytest.mark.parametrize(
    ("language", "about", "question"),
    [
        (
            "en",
            "Maria",
            "How is Maria's pain today, from 0, no pain, to 10, the worst? Press the number, "
            "then the pound key.",
        ),
        (
            "en",
            "",
            "How is your pain today, from 0, no pain, to 10, the worst? Press the number, "
            "then the pound key.",
        ),
        (
            "es",
            "Maria",
            "¿Qué nivel de dolor tiene Maria hoy, del 0, nada, al 10, el peor? Marque el número "
            "y después la tecla numeral.",
        ),
        (
            "es",
            "",
            "¿Qué nivel de dolor tiene hoy, del 0, nada, al 10, el peor? Marque el número y "
            "después la tecla numeral.",
        ),
    ],
)
def test_the_checkin_call_asks_for_0_to_10_then_pound(
    language: str, about: str, question: str
) -> None:
    steps = checkin(language, PRACTICE, about=about)
    assert said(steps)[1:] == [question]
    ask = steps[-1]
    assert isinstance(ask, Ask)
    assert (ask.question, ask.num_digits, ask.finish_on_key, ask.timeout) == ("checkin", 2, "#", 8)
    assert "9" not in ask.prompt  # the pain question offers no stop: 9 is a score


@pytest.mark.parametrize(
    ("moment", "english", "spanish"),
    [
        (DEC_3, "Thursday, December 3, at 10 AM", "jueves 3 de diciembre a las 10 de la mañana"),
        (
            datetime(2027, 3, 1, 13, 30),
            "Monday, March 1, at 1:30 PM",
            "lunes 1 de marzo a la 1 y media de la tarde",
        ),
        (
            datetime(2027, 5, 8, 12, 0),
            "Saturday, May 8, at noon",
            "sábado 8 de mayo a las 12 del mediodía",
        ),
        (
            datetime(2027, 9, 12, 9, 15),
            "Sunday, September 12, at 9:15 AM",
            "domingo 12 de septiembre a las 9 y cuarto de la mañana",
        ),
        (
            datetime(2027, 11, 10, 19, 5),
            "Wednesday, November 10, at 7:05 PM",
            "miércoles 10 de noviembre a las 7 y 5 de la tarde",
        ),
        (
            datetime(2027, 1, 5, 20, 45),
            "Tuesday, January 5, at 8:45 PM",
            "martes 5 de enero a las 8 y 45 de la noche",
        ),
        (
            datetime(2027, 1, 1, 0, 0),
            "Friday, January 1, at midnight",
            "viernes 1 de enero a la medianoche",
        ),
    ],
)
def test_dates_and_times_are_spoken_the_way_people_say_them(
    moment: datetime, english: str, spanish: str
) -> None:
    assert (spoken_when(moment, "en"), spoken_when(moment, "es")) == (english, spanish)


@pytest.mark.parametrize(
    ("phone", "spoken"),
    [
        ("+16175550100", "6 1 7, 5 5 5, 0 1 0 0"),
        ("(617) 555-0100", "6 1 7, 5 5 5, 0 1 0 0"),
        ("+1 617 555 0100", "6 1 7, 5 5 5, 0 1 0 0"),
        ("+34911234567", "3 4 9, 1 1 2, 3 4 5, 6 7"),
    ],
)
def test_the_practice_phone_is_read_digit_by_digit_in_groups(phone: str, spoken: str) -> None:
    assert spoken_phone(phone) == spoken


def _ask(language: str, question: str, asked: int = 1) -> Ask:
    """The call's ask of that question (the stop offer: the one after a score)."""
    if question == "reminder":
        found = reminder(language, PRACTICE, DEC_3)[-1]
    elif question == "checkin":
        found = checkin(language, PRACTICE)[-1]
    else:
        found = answer(language, _ask(language, "checkin"), read_keys("7", "checkin"), PRACTICE)[-1]
    assert isinstance(found, Ask)
    return Ask(**{**found.__dict__, "asked": asked})


@pytest.mark.parametrize(
    ("question", "asked", "digits", "words", "then"),
    [
        ("checkin", 1, "7", ["You pressed 7. Thank you."], "stop_offer"),
        ("checkin", 1, "10", ["You pressed 10. Thank you."], "stop_offer"),
        ("checkin", 1, "9", ["You pressed 9. Thank you."], "stop_offer"),
        ("checkin", 2, "0", ["You pressed 0. Thank you."], "stop_offer"),
        ("checkin", 1, "", ["Sorry, we didn't get that."], "checkin"),  # asked again
        ("checkin", 1, "99", ["Sorry, we didn't get that."], "checkin"),
        # Twice in vain: the stop is still offered before goodbye.
        ("checkin", 2, "", ["Sorry, we didn't get that."], "stop_offer"),
        (
            "stop_offer",
            1,
            "9",
            [
                "Riverside Bodywork will not call this number again. This does not stop text "
                "messages.",
                "Goodbye.",
            ],
            "hang up",
        ),
        ("stop_offer", 1, "", ["Goodbye."], "hang up"),
        ("stop_offer", 1, "5", ["Goodbye."], "hang up"),
        ("reminder", 1, "1", ["Thank you. The appointment is confirmed.", "Goodbye."], "hang up"),
        (
            "reminder",
            1,
            "2",
            [
                "Thank you. Riverside Bodywork will call you back to find another time.",
                "Goodbye.",
            ],
            "hang up",
        ),
        (
            "reminder",
            1,
            "9",
            [
                "Riverside Bodywork will not call this number again. This does not stop text "
                "messages.",
                "Goodbye.",
            ],
            "hang up",
        ),
        ("reminder", 1, "", ["Sorry, we didn't get that."], "reminder"),
        ("reminder", 2, "", ["Thank you. Goodbye."], "hang up"),
        ("reminder", 2, "5", ["Thank you. Goodbye."], "hang up"),
    ],
)
def test_what_follows_the_keys_pressed(
    question: str, asked: int, digits: str, words: list[str], then: str
) -> None:
    ask = _ask("en", question, asked)
    steps = answer("en", ask, read_keys(digits, ask.question), PRACTICE)
    last = steps[-1]
    assert said(steps)[: len(words)] == words
    if then == "hang up":
        assert isinstance(last, Hangup) and len(said(steps)) == len(words)
    else:
        assert isinstance(last, Ask) and last.question == then
        assert said(steps)[len(words) :] == [last.prompt]
        assert last.asked == (asked + 1 if then == question else 1)


def test_a_stop_says_texts_go_on_in_spanish_too() -> None:
    steps = answer("es", _ask("es", "reminder"), StopCalls(), PRACTICE)
    assert said(steps) == [
        "Riverside Bodywork no volverá a llamar a este número. Esto no cancela los mensajes "
        "de texto.",
        "Adiós.",
    ]


@pytest.mark.parametrize(
    ("language", "kind", "words"),
    [
        (
            "en",
            "reminder",
            [
                "This is Riverside Bodywork calling about an appointment. Please call us at "
                "6 1 7, 5 5 5, 0 1 0 0."
            ],
        ),
        (
            "es",
            "reminder",
            [
                "Le llamamos de Riverside Bodywork por una cita. Por favor, llámenos al "
                "6 1 7, 5 5 5, 0 1 0 0."
            ],
        ),
        ("en", "checkin", []),  # nothing is left on a machine for a check-in
        ("es", "checkin", []),
    ],
)
def test_an_answering_machine_hears_no_details(language: str, kind: str, words: list[str]) -> None:
    steps = machine_message(language, kind, PRACTICE, PHONE)
    assert said(steps) == words
    assert isinstance(steps[-1], Hangup)


@pytest.mark.parametrize(
    ("language", "kind", "words"),
    [
        (
            "en",
            "reminder",
            ["This is Riverside Bodywork calling about an appointment. Please call us back."],
        ),
        (
            "es",
            "reminder",
            ["Le llamamos de Riverside Bodywork por una cita. Por favor, devuélvanos la llamada."],
        ),
        ("en", "checkin", []),
    ],
)
def test_without_a_number_to_give_a_machine_hears_a_request_to_call_back(
    language: str, kind: str, words: list[str]
) -> None:
    steps = machine_message(language, kind, PRACTICE, "")
    assert said(steps) == words
    assert isinstance(steps[-1], Hangup)


@pytest.mark.parametrize(
    ("practice_phone", "last"),
    [(PHONE, Dial(PHONE)), ("", Hangup())],
)
def test_a_call_to_the_practice_number_is_greeted_in_english_then_spanish(
    practice_phone: str, last: Step
) -> None:
    steps = incoming(PRACTICE, practice_phone)
    voices = [s.voice for s in steps if isinstance(s, Say)]
    assert voices == [EN, EN, ES, ES]
    assert said(steps)[0] == "Thank you for calling Riverside Bodywork."
    assert said(steps)[2] == "Gracias por llamar a Riverside Bodywork."
    assert steps[-1] == last


def test_voices_are_polly_us_english_and_us_spanish_and_others_get_english() -> None:
    assert (EN.name, EN.locale, ES.name, ES.locale) == (
        "Polly.Joanna",
        "en-US",
        "Polly.Lupe",
        "es-US",
    )
    assert said(checkin("fr", PRACTICE)) == said(checkin("en", PRACTICE))
    assert {s.voice for s in checkin("fr", PRACTICE) if isinstance(s, Say)} == {EN}


def test_both_languages_have_every_sentence() -> None:
    assert set(WORDS["en"]) == set(WORDS["es"])


@pytest.mark.parametrize("language", ["en", "es"])
def test_nothing_clinical_is_said_and_pain_only_in_the_checkin_question(
    language: str,
) -> None:
    everything = {
        "reminder": said(reminder(language, PRACTICE, DEC_3, about="Maria")),
        "machine": said(machine_message(language, "reminder", PRACTICE, PHONE))
        + said(machine_message(language, "reminder", PRACTICE, "")),
        "incoming": said(incoming(PRACTICE, PHONE)) + said(incoming(PRACTICE)),
    }
    for question in ("reminder", "checkin", "stop_offer"):
        for digits in ("", "1", "2", "7", "9"):
            ask = _ask(language, question, 2)
            meaning = read_keys(digits, ask.question)
            everything[f"{question} {digits}"] = said(answer(language, ask, meaning, PRACTICE))
    pain_question = said(checkin(language, PRACTICE, about="Maria"))
    for name, sentences in {**everything, "checkin": pain_question}.items():
        for sentence in sentences:
            assert clinical.found(sentence) == [], (name, sentence)
            assert not HEALTH_WORDS.search(sentence), (name, sentence)
    assert all(not PAIN_WORDS.search(s) for sentences in everything.values() for s in sentences)
    assert PAIN_WORDS.search(pain_question[1])
