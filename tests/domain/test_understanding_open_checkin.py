"""Replies after a reminder while a check-in is still open: the score counts, C confirms too."""

from __future__ import annotations

import pytest

from service.domain.understanding import Understanding, understand
from service.domain.vocabulary import Intent

# body, intent, pain, confirms: with a check-in open behind the latest text, a reminder.
OPEN: list[tuple[str, Intent, int | None, bool]] = [
    ("6", Intent.PAIN, 6, False),
    ("6/10", Intent.PAIN, 6, False),
    ("six", Intent.PAIN, 6, False),
    ("Six", Intent.PAIN, 6, False),
    ("seis", Intent.PAIN, 6, False),
    ("0", Intent.PAIN, 0, False),
    ("no pain", Intent.PAIN, 0, False),
    ("sin dolor", Intent.PAIN, 0, False),
    ("10", Intent.PAIN, 10, False),
    ("pain 6", Intent.PAIN, 6, False),
    ("me duele 7", Intent.PAIN, 7, False),
    ("tengo 6", Intent.PAIN, 6, False),
    ("C 6", Intent.PAIN, 6, True),
    ("c 6", Intent.PAIN, 6, True),
    ("6 C", Intent.PAIN, 6, True),
    ("C, 6", Intent.PAIN, 6, True),
    ("c - 7", Intent.PAIN, 7, True),
    ("7 c.", Intent.PAIN, 7, True),
    ("C 6/10", Intent.PAIN, 6, True),
    ("C seis", Intent.PAIN, 6, True),
    ("C 0", Intent.PAIN, 0, True),
    ("C pain 6", Intent.PAIN, 6, True),
    # Still only the reminder's reading.
    ("C", Intent.CONFIRM, None, False),
    ("c", Intent.CONFIRM, None, False),
    ("C thanks", Intent.CONFIRM, None, False),
    ("Yes", Intent.CONFIRM, None, False),
    ("see you then", Intent.CONFIRM, None, False),
    ("R", Intent.RESCHEDULE, None, False),
    ("R 6", Intent.OTHER, None, False),
    ("C at 6", Intent.OTHER, None, False),
    ("11", Intent.OTHER, None, False),
    ("C 11", Intent.OTHER, None, False),
    ("STOP", Intent.OPT_OUT, None, False),
    ("help", Intent.HELP, None, False),
]


@pytest.mark.parametrize(("body", "intent", "pain", "confirms"), OPEN, ids=[r[0] for r in OPEN])
def test_it_reads_a_reply_to_a_reminder_with_a_checkin_still_open(
    body: str, intent: Intent, pain: int | None, confirms: bool
) -> None:
    meaning = understand(body, expecting="reminder", checkin_open=True)
    assert (meaning.intent, meaning.pain, meaning.confirms) == (intent, pain, confirms)
    if intent == Intent.PAIN:
        assert meaning.sure
        assert "open check-in" in meaning.reason


# Without an open check-in, a reminder's reply reads as it always did.
CLOSED = ["6", "six", "seis", "C 6", "6 C", "C", "R 6", "Yes", "6/10"]


@pytest.mark.parametrize("body", CLOSED)
def test_without_an_open_checkin_a_reply_to_a_reminder_reads_as_before(body: str) -> None:
    meaning = understand(body, expecting="reminder")
    assert meaning == understand(body, expecting="reminder", checkin_open=False)
    assert not meaning.confirms
    if body in ("6", "six", "seis", "C 6", "6 C"):
        assert meaning.intent == Intent.OTHER


@pytest.mark.parametrize("expecting", ["checkin", None])
def test_an_open_checkin_changes_nothing_when_the_latest_text_is_no_reminder(
    expecting: str | None,
) -> None:
    for body in CLOSED:
        assert understand(body, expecting=expecting, checkin_open=True) == understand(  # type: ignore[arg-type]
            body,
            expecting=expecting,  # type: ignore[arg-type]
        )


def test_an_opted_out_number_gets_a_score_but_confirms_nothing() -> None:
    meaning = understand("C 6", expecting="reminder", checkin_open=True, opted_out=True)
    assert (meaning.intent, meaning.pain, meaning.confirms) == (Intent.PAIN, 6, False)


def test_only_a_pain_score_also_confirms() -> None:
    with pytest.raises(ValueError, match="only a pain score also confirms"):
        Understanding(Intent.CONFIRM, confirms=True)
