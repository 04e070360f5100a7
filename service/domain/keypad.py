"""Reading the keys a person pressed during a call, the way the reply understanding reads a
text: the same ``Understanding`` (confirm, reschedule, a pain score, or nothing to act on and
ask again), so the code that acts on a text's reply can act on a call's. One meaning only a
call has: ``StopCalls``, no more calls to this number (texts go on, so it is not the
``opt_out`` intent, which stops texts).

Pure. Twilio posts ``Digits`` without the key that finished them (``7#`` arrives as ``7``,
with ``FinishedOnKey=#``); a trailing ``#`` is taken off here too, for a caller that keeps it.
What each question reads:

* ``reminder`` (the reminder's menu, one key): 1 confirms, 2 asks for another time, 9 stops
  calls. Only 9s ("99") also stop calls: a stop is read generously, as for texts.
* ``checkin`` (the pain question, up to two keys then #, or a pause): exactly 0 to 10 as
  written: "7", "7" with a pause, "10". Anything else is asked again: "99", "11", "*", "#"
  alone, silence, and numbers written with a leading zero ("01", "00", "010"): a pain score
  nobody gave is worse than asking once more. **9 is a pain score here, never a stop**: the
  question offers no stop, so pressing 9 as an answer cannot end the calls by accident.
* ``stop_offer`` (asked once at the end of every check-in call, after the score is read
  back or after asking twice in vain): 9 stops calls; anything else, or nothing, is quiet
  (the call says goodbye and nobody is asked anything more).

So "press 9 to stop these calls" holds on every call the practice places, at the point the
call offers it, and a pain score of 9 stays possible. A reminder's menu and the stop offer
never ask for a score, so a 9 there cannot be one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from service.domain.understanding import Understanding
from service.domain.vocabulary import Intent

Question = Literal["reminder", "checkin", "stop_offer"]
QUESTIONS: tuple[Question, ...] = ("reminder", "checkin", "stop_offer")
STOP_KEY = "9"
FINISH_KEY = "#"
# The pain scores as a keypad writes them: no leading zero, nothing above 10.
_SCORES = {str(n): n for n in range(11)}


@dataclass(frozen=True)
class StopCalls:
    """No more calls to this number: it keeps its texts."""

    reason: str = "stop calls: pressed 9"


KeyMeaning = Understanding | StopCalls


def read_keys(digits: str, question: Question, *, finished_on_key: str = "") -> KeyMeaning:
    """What the keys pressed at ``question`` mean; never raises for any keys.

    ``finished_on_key`` is Twilio's ``FinishedOnKey``: "#" when # ended the entry, "" when a
    pause or the number of keys did."""
    if question not in QUESTIONS:
        raise ValueError(f"unknown question {question!r}")
    keys = digits.strip()
    if keys.endswith(FINISH_KEY):
        keys, finished_on_key = keys[:-1], FINISH_KEY
    if question == "checkin":
        return _score(keys, finished_on_key)
    stop = bool(keys) and set(keys) == {STOP_KEY}
    if stop:
        return StopCalls()
    if question == "stop_offer":
        return Understanding(Intent.OTHER, quiet=True, reason=_said(keys, finished_on_key))
    if keys == "1":
        return Understanding(Intent.CONFIRM, reason="confirm: pressed 1")
    if keys == "2":
        return Understanding(Intent.RESCHEDULE, reason="reschedule: pressed 2")
    return Understanding(Intent.OTHER, reask=True, reason=_said(keys, finished_on_key))


def _score(keys: str, finished_on_key: str) -> Understanding:
    """A pain score of 0 to 10, or the question again."""
    score = _SCORES.get(keys)
    if score is None:
        return Understanding(Intent.OTHER, reask=True, reason=_said(keys, finished_on_key))
    how = "then #" if finished_on_key == FINISH_KEY else "then a pause"
    return Understanding(Intent.PAIN, pain=score, reason=f'pain {score}: pressed "{keys}" {how}')


def _said(keys: str, finished_on_key: str) -> str:
    """Why the keys mean nothing to act on."""
    if keys:
        return f'nothing to act on: pressed "{keys}"'
    return "nothing to act on: pressed # alone" if finished_on_key else "no keys pressed"
