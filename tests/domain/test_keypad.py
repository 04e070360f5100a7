"""The keys pressed during a call, as a table: each question reads them as the reply
understanding reads a text, 9 stops calls where a call offers it and is a pain score where
the call asks for one."""

from __future__ import annotations

import pytest

from service.domain.keypad import QUESTIONS, StopCalls, read_keys
from service.domain.understanding import Understanding
from service.domain.vocabulary import Intent

ASK_AGAIN = Understanding(Intent.OTHER, reask=True)
QUIET = Understanding(Intent.OTHER, quiet=True)


def pain(score: int) -> Understanding:
    return Understanding(Intent.PAIN, pain=score)


@pytest.mark.parametrize(
    ("digits", "finished_on_key", "question", "meaning"),
    [
        # The pain question: 0 to 10, ended by # or by a pause.
        ("7", "#", "checkin", pain(7)),  # "7#": Twilio posts Digits=7, FinishedOnKey=#
        ("7", "", "checkin", pain(7)),  # 7, then the 8 seconds ran out
        ("7#", "", "checkin", pain(7)),  # a caller that keeps the #
        ("10", "", "checkin", pain(10)),  # two keys: Twilio stops listening
        ("10#", "", "checkin", pain(10)),
        ("0", "#", "checkin", pain(0)),
        ("9", "#", "checkin", pain(9)),  # 9 is a score here, never a stop
        ("9", "", "checkin", pain(9)),
        (" 8 ", "", "checkin", pain(8)),
        ("99", "", "checkin", ASK_AGAIN),  # not 9, not a stop: asked again
        ("11", "", "checkin", ASK_AGAIN),
        ("01", "", "checkin", ASK_AGAIN),  # a leading zero: 1, or 0 and a slip? ask again
        ("00", "", "checkin", ASK_AGAIN),
        ("010", "", "checkin", ASK_AGAIN),
        ("*", "", "checkin", ASK_AGAIN),
        ("7*", "", "checkin", ASK_AGAIN),
        ("", "#", "checkin", ASK_AGAIN),  # # alone
        ("", "", "checkin", ASK_AGAIN),  # silence
        # The reminder's menu: one key.
        ("1", "", "reminder", Understanding(Intent.CONFIRM)),
        ("1#", "", "reminder", Understanding(Intent.CONFIRM)),
        ("2", "", "reminder", Understanding(Intent.RESCHEDULE)),
        ("9", "", "reminder", StopCalls()),
        ("99", "", "reminder", StopCalls()),  # a stop is read generously
        ("3", "", "reminder", ASK_AGAIN),
        ("0", "", "reminder", ASK_AGAIN),
        ("12", "", "reminder", ASK_AGAIN),
        ("*", "", "reminder", ASK_AGAIN),
        ("", "", "reminder", ASK_AGAIN),
        # The stop offer at the end of a check-in: 9 stops, anything else asks nothing.
        ("9", "", "stop_offer", StopCalls()),
        ("9#", "", "stop_offer", StopCalls()),
        ("", "", "stop_offer", QUIET),
        ("1", "", "stop_offer", QUIET),
        ("7", "", "stop_offer", QUIET),
        ("#", "", "stop_offer", QUIET),
    ],
)
def test_keys_mean_what_the_call_asked_for(
    digits: str, finished_on_key: str, question: str, meaning: object
) -> None:
    read = read_keys(digits, question, finished_on_key=finished_on_key)  # type: ignore[arg-type]
    assert read == meaning
    if isinstance(read, Understanding):
        assert read.sure and read.reason  # keys are certain: acted on without a person


@pytest.mark.parametrize(
    ("digits", "finished_on_key", "reason"),
    [
        ("7", "#", 'pain 7: pressed "7" then #'),
        ("7", "", 'pain 7: pressed "7" then a pause'),
        ("99", "", 'nothing to act on: pressed "99"'),
        ("", "#", "nothing to act on: pressed # alone"),
        ("", "", "no keys pressed"),
    ],
)
def test_each_reading_says_why_in_one_line(digits: str, finished_on_key: str, reason: str) -> None:
    assert read_keys(digits, "checkin", finished_on_key=finished_on_key).reason == reason


def test_every_score_from_0_to_10_can_be_pressed_and_nothing_else() -> None:
    entries = [str(n) for n in range(100)] + [f"0{n}" for n in range(10)]
    scores = {
        entry: read.pain
        for entry in entries
        if isinstance(read := read_keys(entry, "checkin"), Understanding) and read.pain is not None
    }
    assert scores == {str(n): n for n in range(11)}


def test_no_question_but_the_menus_can_stop_calls() -> None:
    stops = {q for q in QUESTIONS if isinstance(read_keys("9", q), StopCalls)}
    assert stops == {"reminder", "stop_offer"}


def test_an_unknown_question_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown question"):
        read_keys("1", "menu")  # type: ignore[arg-type]
