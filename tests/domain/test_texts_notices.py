"""The move and cancellation notices, as a table: wording (the client's own, and a caregiver's
naming the client), one segment, nothing clinical."""

from __future__ import annotations

from datetime import datetime

import pytest

from service.domain.texts import cancel_notice, fits_one_segment, move_notice
from tests.domain.test_texts import CARRIER_WORDS, HEALTH_WORDS, PAIN_WORDS

PRACTICE = "Riverside Bodywork"
LONG_PRACTICE = "Bay Area Neuromuscular Center"
LONG_NAME = "Maximiliano"  # the caregiver's and the client's given name, as for the reminders
TO_ROSA = {"first_name": "Rosa", "about": "Maria"}
LONG_NAMES = {"first_name": LONG_NAME, "about": LONG_NAME}
PHONE = "+1 (415) 555-0134"
WAS = datetime(2026, 12, 3, 10, 0)
NEW = datetime(2026, 12, 4, 11, 0)
# The longest dates each language writes.
LONG_NEW, LONG_WAS = datetime(2027, 11, 13, 12, 30), datetime(2027, 12, 29, 23, 59)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "Your appointment at Riverside Bodywork is now Fri Dec 4, 11:00 AM "
            "(was Thu Dec 3, 10:00 AM). Reply C to confirm.",
        ),
        (
            "es",
            "Su cita en Riverside Bodywork ahora es el vie 4 dic, 11:00 "
            "(antes el jue 3 dic, 10:00). Responda C para confirmar.",
        ),
        (
            "fr",  # unknown: English
            "Your appointment at Riverside Bodywork is now Fri Dec 4, 11:00 AM "
            "(was Thu Dec 3, 10:00 AM). Reply C to confirm.",
        ),
    ],
)
def test_a_move_notice_gives_the_new_time_then_the_old_one(language: str, expected: str) -> None:
    assert move_notice(language, PRACTICE, NEW, WAS) == expected


@pytest.mark.parametrize(
    ("language", "phone", "expected"),
    [
        (
            "en",
            PHONE,
            "Your appointment at Riverside Bodywork on Thu Dec 3, 10:00 AM is cancelled. "
            "Reply R and we'll find a new time, or call +1 (415) 555-0134.",
        ),
        (
            "en",
            "",
            "Your appointment at Riverside Bodywork on Thu Dec 3, 10:00 AM is cancelled. "
            "Reply R and we'll find a new time.",
        ),
        (
            "es",
            PHONE,
            "Su cita en Riverside Bodywork del jue 3 dic, 10:00 queda cancelada. "
            "Responda R y le buscamos otra fecha, o llame al +1 (415) 555-0134.",
        ),
        (
            "es",
            "",
            "Su cita en Riverside Bodywork del jue 3 dic, 10:00 queda cancelada. "
            "Responda R y le buscamos otra fecha.",
        ),
    ],
)
def test_a_cancellation_notice_says_which_session_and_how_to_find_another(
    language: str, phone: str, expected: str
) -> None:
    assert cancel_notice(language, PRACTICE, WAS, phone) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            move_notice("en", PRACTICE, NEW, WAS, **TO_ROSA),
            "Hi Rosa, Maria's appointment at Riverside Bodywork is now Fri Dec 4, 11:00 AM "
            "(was Thu Dec 3, 10:00 AM). Reply C to confirm.",
        ),
        (
            move_notice("es", PRACTICE, NEW, WAS, **TO_ROSA),
            "Hola Rosa, la cita de Maria en Riverside Bodywork ahora es el vie 4 dic, 11:00 "
            "(antes el jue 3 dic, 10:00). Responda C para confirmar.",
        ),
        (
            move_notice("en", PRACTICE, NEW, WAS, about="Maria"),  # a caregiver without a name
            "Hi, Maria's appointment at Riverside Bodywork is now Fri Dec 4, 11:00 AM "
            "(was Thu Dec 3, 10:00 AM). Reply C to confirm.",
        ),
        (
            cancel_notice("en", PRACTICE, WAS, PHONE, **TO_ROSA),
            "Hi Rosa, Maria's appointment at Riverside Bodywork on Thu Dec 3, 10:00 AM is "
            "cancelled. Reply R and we'll find a new time, or call +1 (415) 555-0134.",
        ),
        (
            cancel_notice("es", PRACTICE, WAS, PHONE, **TO_ROSA),
            "Hola Rosa, la cita de Maria en Riverside Bodywork del jue 3 dic, 10:00 queda "
            "cancelada. Responda R y le buscamos otra fecha, o llame al +1 (415) 555-0134.",
        ),
        (
            cancel_notice("es", PRACTICE, WAS, "", **TO_ROSA),
            "Hola Rosa, la cita de Maria en Riverside Bodywork del jue 3 dic, 10:00 queda "
            "cancelada. Responda R y le buscamos otra fecha.",
        ),
        (
            # Too long for one segment with the phone: the phone goes (an R's answer gives it).
            cancel_notice("en", LONG_PRACTICE, LONG_WAS, PHONE, **LONG_NAMES),
            "Hi Maximiliano, Maximiliano's appointment at Bay Area Neuromuscular Center on "
            "Wed Dec 29, 11:59 PM is cancelled. Reply R and we'll find a new time.",
        ),
    ],
)
def test_a_notice_to_a_caregiver_greets_them_and_names_the_client(text: str, expected: str) -> None:
    assert text == expected


def _every_notice(language: str, practice: str, new: datetime, was: datetime) -> list[str]:
    """Each notice, to the client's own phone and to a caregiver, long names for both."""
    return [
        text
        for names in ({}, LONG_NAMES)
        for text in (
            move_notice(language, practice, new, was, **names),
            cancel_notice(language, practice, was, PHONE, **names),
        )
    ]


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_notices_fit_one_gsm7_segment_with_the_longest_names_and_dates(
    language: str,
) -> None:
    for text in _every_notice(language, LONG_PRACTICE, LONG_NEW, LONG_WAS):
        assert fits_one_segment(text) and len(text) <= 160, text
        assert not any(c in text for c in "áíóú")


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_notices_carry_no_clinical_word_and_no_carrier_keyword(language: str) -> None:
    for text in _every_notice(language, PRACTICE, NEW, WAS):
        assert not HEALTH_WORDS.search(text), text
        assert not PAIN_WORDS.search(text), text
        assert not CARRIER_WORDS.search(text), text
