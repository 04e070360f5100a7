"""What each call does, step by step, as plain data: say a sentence, ask for keys, connect
to a number, hang up. The edge that answers Twilio's webhooks turns the steps into TwiML
(``Say`` for ``Say``, ``Gather input="dtmf"`` around a ``Say`` for ``Ask``, ``Dial``,
``Hangup``); this module knows nothing of TwiML, requests or the clock.

Every sentence is spoken in the recipient's language by a voice made for it (``VOICES``:
Amazon Polly's Joanna for US English, Lupe for US Spanish, both offered by Twilio's
``<Say>``); an unknown language falls back to English. The words are in ``call_words``.

The calls:

* **Reminder**: who calls and whose appointment, when; then a menu of one key: 1 confirms,
  2 asks for another time, 9 stops calls (``keypad``).
* **Check-in**: who calls, then the pain question, answered with 0 to 10 and # (two keys at
  most, 8 seconds to press). The score is read back ("You pressed 7. Thank you."), then the
  call offers the stop, once: "To stop these calls, press 9." The pain question itself
  offers no stop, so that 9 stays a pain score (see ``keypad``).
* **Asking again**: on silence or keys that mean nothing, a question is asked once more
  ("Sorry, we didn't get that." and the question). After the second time the reminder says
  goodbye, and the check-in offers the stop (once) before its goodbye, so a person who
  never answers can still end the calls.
* **Answering machine**: for a reminder, one short message with no details: the practice
  and its number, read digit by digit in groups. For a check-in, nothing is left.
* **A call to the practice's number**: a short greeting in English, then in Spanish, and a
  connection to the practice's phone when one is set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from service.domain.call_words import WORDS, spoken_phone, spoken_when, whose
from service.domain.keypad import KeyMeaning, Question, StopCalls
from service.domain.vocabulary import Intent, Language

LANGUAGES = tuple(Language)
# Each question is asked at most this many times in one call.
ASKS = 2
SECONDS_TO_PRESS = 8


@dataclass(frozen=True)
class Voice:
    """The text-to-speech voice and the language it speaks (Twilio's ``voice`` and
    ``language`` of ``<Say>``)."""

    name: str
    locale: str


VOICES = {
    Language.EN: Voice("Polly.Joanna", "en-US"),
    Language.ES: Voice("Polly.Lupe", "es-US"),
}


@dataclass(frozen=True)
class Say:
    """Speak ``text``."""

    text: str
    voice: Voice


@dataclass(frozen=True)
class Ask:
    """Speak ``prompt`` and listen for keys: up to ``num_digits``, ended early by
    ``finish_on_key`` ("" for none) or by ``timeout`` seconds without a key. ``question``
    tells ``keypad.read_keys`` how to read them; ``asked`` counts this asking (1 or 2)."""

    prompt: str
    voice: Voice
    question: Question
    num_digits: int
    finish_on_key: str = ""
    timeout: int = SECONDS_TO_PRESS
    asked: int = 1


@dataclass(frozen=True)
class Dial:
    """Connect the caller to ``number``."""

    number: str


@dataclass(frozen=True)
class Hangup:
    """End the call."""


Step = Say | Ask | Dial | Hangup


def _lang(language: str) -> Language:
    return Language(language) if language in LANGUAGES else Language.EN


def _say(language: Language, key: str, **values: str) -> Say:
    return Say(WORDS[language][key].format(**values), VOICES[language])


def reminder(
    language: str, practice: str, start_local: datetime, *, about: str = ""
) -> tuple[Step, ...]:
    """The reminder call: whose appointment and when, then the menu (1, 2 or 9).

    ``about`` is the client's given name when the phone is a caregiver's (or shared)."""
    lang = _lang(language)
    when = spoken_when(start_local, lang)
    owner = whose(lang, "appointment", about)
    return (_say(lang, "reminder", practice=practice, whose=owner, when=when), _menu(lang))


def _menu(language: Language) -> Ask:
    return Ask(WORDS[language]["menu"], VOICES[language], "reminder", num_digits=1)


def checkin(language: str, practice: str, *, about: str = "") -> tuple[Step, ...]:
    """The check-in call: who calls, then the pain question (0 to 10, then #)."""
    lang = _lang(language)
    return (_say(lang, "greeting", practice=practice), _pain_question(lang, about))


def _pain_question(language: Language, about: str) -> Ask:
    prompt = WORDS[language]["checkin"].format(whose=whose(language, "pain", about))
    return Ask(prompt, VOICES[language], "checkin", num_digits=2, finish_on_key="#")


def _stop_offer(language: Language) -> Ask:
    return Ask(WORDS[language]["stop_offer"], VOICES[language], "stop_offer", num_digits=1)


def ask(language: str, question: Question, *, about: str = "", asked: int = 1) -> Ask:
    """The ``asked``-th asking of ``question`` (what ``answer`` is given back, once the keys
    pressed at it come in on another request)."""
    lang = _lang(language)
    if question == "reminder":
        step = _menu(lang)
    elif question == "checkin":
        step = _pain_question(lang, about)
    else:
        step = _stop_offer(lang)
    return replace(step, asked=asked)


def goodbye(language: str) -> tuple[Step, ...]:
    """A polite end to a call that has nothing (more) to say."""
    return (_say(_lang(language), "goodbye"), Hangup())


def not_needed(language: str, practice: str) -> tuple[Step, ...]:
    """A call whose session was called off while it rang: who calls, that there is nothing
    to ask after all, goodbye."""
    lang = _lang(language)
    return (
        _say(lang, "greeting", practice=practice),
        _say(lang, "not_needed"),
        _say(lang, "goodbye"),
        Hangup(),
    )


def answer(language: str, ask: Ask, meaning: KeyMeaning, practice: str) -> tuple[Step, ...]:
    """What the call says next, once the keys pressed at ``ask`` mean ``meaning``
    (``keypad.read_keys``)."""
    lang = _lang(language)
    goodbye = _say(lang, "goodbye")
    if isinstance(meaning, StopCalls):
        return (_say(lang, "stopped", practice=practice), goodbye, Hangup())
    if meaning.intent == Intent.PAIN and ask.question == "checkin":
        return (_say(lang, "read_back", score=str(meaning.pain)), _stop_offer(lang))
    if meaning.intent == Intent.CONFIRM and ask.question == "reminder":
        return (_say(lang, "confirmed"), goodbye, Hangup())
    if meaning.intent == Intent.RESCHEDULE and ask.question == "reminder":
        return (_say(lang, "another_time", practice=practice), goodbye, Hangup())
    if ask.question == "stop_offer":
        return (goodbye, Hangup())
    if ask.asked < ASKS:
        return (_say(lang, "again"), replace(ask, asked=ask.asked + 1))
    if ask.question == "checkin":
        return (_say(lang, "again"), _stop_offer(lang))
    return (_say(lang, "no_answer"), Hangup())


def machine_message(
    language: str, kind: str, practice: str, practice_phone: str
) -> tuple[Step, ...]:
    """What is left on an answering machine: for a reminder, the practice and its number and
    nothing else (without a number, a request to call back); for a check-in (or anything
    else), nothing."""
    if kind != "reminder":
        return (Hangup(),)
    lang = _lang(language)
    if not practice_phone:
        return (_say(lang, "machine_no_phone", practice=practice), Hangup())
    phone = spoken_phone(practice_phone)
    return (_say(lang, "machine", practice=practice, phone=phone), Hangup())


def incoming(practice: str, practice_phone: str = "") -> tuple[Step, ...]:
    """A call to the practice's texting number: a greeting in English, then Spanish, and a
    connection to ``practice_phone`` when it is set (else an apology, in both)."""
    steps: list[Step] = []
    for lang in (Language.EN, Language.ES):
        steps.append(_say(lang, "incoming", practice=practice))
        steps.append(_say(lang, "connecting" if practice_phone else "no_line"))
    steps.append(Dial(practice_phone) if practice_phone else Hangup())
    return tuple(steps)
