"""Read one inbound SMS reply the way a careful receptionist would: one intent, a pain score,
a note, how sure it is, and why, in one line.

Pure: no framework, no database, no clock, no network, no model. Clients often have limited
hand control, so replies are short, misspelled or typed by a caregiver, in English or Spanish.
The order of the questions is the order of what matters most:

1. **Quoted text is not the reply** (``reactions``): a tapback (``Liked “…”``, ``Reacted 👍
   to "…"``) means what its feeling and the text it reacts to mean: a positive one on a
   reminder confirms; any on a check-in gives no score (asked again); on anything else it
   asks for nothing (``quiet``: no answer, no inbox item). A text the reply quotes back is
   taken away before reading it.
2. **Consent first, generously** (``revocation``): any reply whose plain meaning is "stop
   texting this number" opts out, in any context; START/UNSTOP and plain requests opt in,
   YES/SI only from a number that opted out. Opt-outs are always acted on.
3. **Help**: HELP, INFO, AYUDA alone.
4. **A pain score** (``scores``): named, first, or ending a clause after a check-in, as people
   write them. A number that is no score gets "other" and, after a check-in, the one-number
   question again.
5. **Reschedule** before **confirm** (a reply that does both wants to move); bare C and R.
   Generic assent (Y, ok, 👍, si) confirms after a reminder; after a check-in it gave no
   number and the client is asked again.
6. **A check-in still open behind a reminder** (``checkin_open``: the day-before check-in
   went first and the reminder after it, or both in one text): a score read as the check-in
   would read it counts ("6", "six", "seis", "6/10"), and a C letter before or after it
   ("C 6", "6 C") also confirms (``confirms``). Anything else reads as after the reminder:
   a plain "C" only confirms, "R 6" is not a score, a yes with a number stays a yes.

Every answer carries a ``confidence``. Below ``SURE`` the reply service acts on nothing (no
confirmation, no reschedule request, no score stored): the reply goes to a person with this
best guess shown ("maybe: reschedule"), and the client gets the neutral acknowledgement or,
after a check-in, the one-number question. The line is set on the project's table so that
no harmful error (a missed or false opt-out, a missed score of 8 or more, a score nobody
gave, an action nobody asked for) is made sure. ``reason`` says in one line why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from service.domain import reactions, revocation, scores
from service.domain.folding import fold, respell, rest, words
from service.domain.revocation import NOT, only
from service.domain.vocabulary import Intent

INTENTS = tuple(Intent)
Expecting = Literal["checkin", "reminder"] | None
SURE = 0.7  # at or above: acted on; below: a person decides, with this guess shown


@dataclass(frozen=True)
class Understanding:
    """What one reply means: an intent, a 0..10 pain score for "pain", and a note.

    ``quiet`` replies ask for nothing (a tapback on a thank-you). ``confidence`` and
    ``reason`` say how sure the reading is and why; they do not change what it is.
    """

    intent: Intent
    pain: int | None = None
    note: str | None = None
    reask: bool = False
    quiet: bool = False
    confirms: bool = False  # a pain score that also confirms the reminder ("C 6")
    confidence: float = field(default=1.0, compare=False)
    reason: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        """Refuse an intent outside INTENTS or a pain score that is missing or not 0..10."""
        if self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}")
        if (self.intent == Intent.PAIN) != (self.pain is not None):
            raise ValueError("a pain score goes with the pain intent and only with it")
        if self.confirms and self.intent != Intent.PAIN:
            raise ValueError("only a pain score also confirms; a confirmation is its own intent")
        if self.pain is not None and not 0 <= self.pain <= 10:
            raise ValueError(f"pain score {self.pain} is not 0..10")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence {self.confidence} is not 0..1")

    @property
    def sure(self) -> bool:
        """True when the reading may be acted on without a person."""
        return self.confidence >= SURE


_WORD = re.compile(r"[^\W_]+")
_ASSENT_EMOJI = frozenset("👍👌✅✔☑🆗")
_HELP_WORDS = frozenset({"help", "info", "ayuda", "informacion"})
_ASK_WHO = (
    r"(?:who\s+(?:is|'s)\s+(?:this|that)|whos\s+this|what\s+is\s+this(?:\s+about)?|what'?s\s+this"
    r"|que\s+es\s+esto|quien\s+(?:es|me\s+escribe|eres|habla))"
)
_AND_ALSO = (
    r"(?:what\s+is\s+[\w ]{1,30}|no\s+reconozco\s+este\s+numero|i\s+don'?t\s+(?:recognize|know)"
    rf"\s+this\s+number|{_ASK_WHO})"
)
# "Who is this?", alone or with one more question of the same kind ("what is bright path").
_WHO = re.compile(rf"^\W*(?:hi\W+|hello\W+|hola\W+)?{_ASK_WHO}\b\W*(?:{_AND_ALSO}\W*)?$")
# Words around a yes that keep it a plain yes ("yes thank you for the reminder").
_COURTESY = words(
    "thanks thank you ty for the reminder reminders gracias por el recordatorio muchas so much "
    "very and"
)
_ASSENT_WORDS = words(
    "y yes yeah yea yep yup yess ok okay okey k kk sure si claro vale dale bueno perfect "
    "perfecto great cool absolutely definitely correct"
)
_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|lunes|martes|miercoles|jueves|viernes|sabado"
_RESCHEDULE = re.compile(
    r"\b(?:can|could)\s+(?:i|we|he|she)\s+(?:come|do\s+it|go)\s+(?:at|on|in|earlier|later|instead"
    rf"|today|tomorrow|tonight|next|this|{_DAY})\b|\b(?:{_DAY})\s+instead\b"
    r"|\bre-?sched\w*|\breprogram\w*|\b(?:different|another|other|new)\s+(?:time|day|date)\b"
    r"|\b(?:can'?t|cannot|can\s+not|won'?t|will\s+not|unable\s+to|not\s+able\s+to|wont)\s+"
    r"(?:make\s+it|come|go|attend|see\s+you|be\s+there|do\s+(?:it|that|this|today|tomorrow))\b"
    r"|\b(?:won'?t|not)\s+be\s+able\b|\b(?:can'?t|cannot)\b\s*(?:[^\w\s].*)?$"
    r"|" + NOT + r"\b(?:need|have|want)\s+to\s+(?:move|change|switch|push|cancel)\b"
    r"|\b(?:can|could)\s+(?:we|i|you)\s+(?:move|change|switch|push)\b"
    r"|\b(?:move|change|switch|push\s+back)\s+(?:my|the|our|his|her)\s+(?:appointment|appt"
    r"|session|time)\b|\b(?:running|be|bit|little|mins?|minutes)\s+late\b|\bminutos\s+tarde\b"
    r"|" + NOT + r"\bcancel(?:ar|a|e|en|o)?\b"
    r"|\bno\s+(?:puedo|podre|podemos|podremos|puede|podra|va\s+a\s+poder|vamos\s+a\s+poder"
    r"|voy\s+a\s+poder)(?:\s+(?:ir|llegar|asistir|venir|acudir|hoy|manana|ese|este|esta|el"
    r"|la)\b|\s*(?:[^\w\s].*)?$)"
    r"|\b(?:cambiar|mover|pasar|correr)(?:la|lo)?\s+(?:la\s+|mi\s+|su\s+)?(?:cita|hora|fecha)\b"
    rf"|\b(?:cambiar|mover|pasar|correr)(?:la|lo)?\s+(?:para|a|al)\s+(?:el\s+|la\s+|otro|otra|{_DAY}"
    r"|manana|tarde|semana)|\botr[oa]\s+(?:dia|hora|fecha)\b"
    r"|\b(?:se\s+puede|podemos|puedo|podria|podriamos|pueden)\s+(?:pasar|mover|cambiar|correr)"
    r"(?:lo|la)?\b|\bme\s+viene\s+(?:fatal|mal)\b|\bwant\s+to\s+come\s+back\b"
    rf"|\bany\s+(?:{_DAY}|morning|afternoon|evening)\b"
    r"|\b(?:can|could)\s+(?:we|i)\s+(?:do|come|go|have)\s+(?:\w+\s+){0,3}instead\b"
    r"|\bstuck\s+in\s+traffic\b|\bbe\s+there\s+in\s+\d+|\b(?:\d+|few)\s+min(?:ute)?s?\s+"
    r"(?:late|behind)\b|\bbehind\s+schedule\b"
    r"|\b(?:doesn'?t|does\s+not|doesnt|won'?t|wont|no\s+longer)\s+work\s+(?:anymore|for\s+us"
    r"|for\s+me|for\s+him|for\s+her)\b"
    rf"|\b(?:can|could)\s+(?:we|i)\s+do\s+(?:the\s+|an?\s+)?(?:morning|afternoon|evening|{_DAY}"
    r"|later|earlier|another|next)"
    r"|\b(?:voy|llego|llegare|vamos|va|llegamos)\s+(?:a\s+llegar\s+)?(?:un\s+po(?:co|quito|quitito)"
    r"\s+)?tarde\b|\b(?:anything|something|any\s+time|a\s+time|slot|spot)\s+(?:later|earlier"
    r"|else)\b|\btoo\s+(?:early|late)\s+for\b"
    r"|\b(?:switch|move|change|push)\s+(?:it\s+|us\s+|him\s+|her\s+)?(?:to|for)\s+(?:the\s+"
    rf"|a\s+)?(?:\d|{_DAY}|later|earlier|another|next|tomorrow|morning|afternoon|evening)"
    r"|\b(?:book|schedule)\s+(?:again|another|a\s+new|an?\s+(?:appointment|session|time))\b"
    r"|\b(?:works?\s+better|better\s+for\s+(?:us|me|him|her)|if\s+you\s+have\s+anything"
    r"|any\s+(?:openings?|availability|spots?)|anything\s+(?:open|available))\b"
    r"|\bput\s+(?:us|me|him|her)\s+(?:in|on|at|for|down\s+for)\b"
    rf"|\b(?:{_DAY}|morning|afternoon|evening|tomorrow|next\s+week)\s+(?:\w+\s+)?instead\b"
    r"|\bfind\s+(?:us\s+)?(?:a|another|a\s+new|a\s+different)\s+(?:time|day|slot|date)\b"
    r"|\b(?:mornings?|afternoons?|evenings?)\s+(?:are|is|work|works)\s+(?:best|better)\b"
    r"|\b(?:going\s+to|gonna|will|we'?ll|i'?ll|he'?ll|she'?ll)\s+(?:have\s+to\s+)?miss\s+"
    r"(?:it|the\s+appointment|the\s+session|today|tomorrow|this\s+one)\b"
)
# "R - the van fell through": the letter first, then the reason.
_LETTER_FIRST = re.compile(r"^r\s*[-:.,!]")
_CONFIRM_FIRST = re.compile(r"^c\s*[-:.,!]")
_CONFIRM = re.compile(
    NOT + r"\b(?:confirm\w*|see\s+(?:you|u|ya)\b|(?:i'?ll|ill|i\s+will|we'?ll|we\s+will|he'?ll"
    r"|she'?ll|they'?ll|he\s+will|she\s+will|they\s+will|will)\s+be\s+(?:there|their|thr)"
    r"|will\s+(?:attend|make\s+it)|(?:ahi|alli)\s+(?:vamos|voy|va)\b|(?:es)?ta\s+bien|(?:we|he|she|i|they)"
    r"(?:\s+(?:are|is|am)|'re|'s|'m|s)\s+(?:coming|going(?!\s+to\b))|looking\s+forward"
    r"|(?:lo|la|los)\s+(?:llevo|traigo|llevamos|traemos)|i'?ll\s+(?:bring|take|drive)\s+(?:him|her)"
    r"|nos\s+vemos|(?:ahi|alli|alla)\s+(?:estare|estaremos"
    r"|estamos|estara|estaran)|sounds\s+good|all\s+set|de\s+acuerdo|esta\s+bien|si\s+(?:vamos"
    r"|va|voy|iremos|ira)|(?:vamos|va|voy)\s+a\s+ir|(?:ahi|alli)\s+(?:vamos|voy|va)\s+a\s+estar"
    r"|(?:vamos|voy|va)\s+a\s+estar\s+(?:ahi|alli))\b"
)


def understand(
    body: str,
    *,
    expecting: Expecting = None,
    opted_out: bool = False,
    answered: str | None = None,
    checkin_open: bool = False,
) -> Understanding:
    """What a reply means given what it answers (``answered``: that text's words, when
    known; ``checkin_open``: an unanswered check-in is still open behind that reminder);
    never raises for any text."""
    reading = _read(body, expecting, opted_out, answered)
    if checkin_open and expecting == "reminder":
        return _with_checkin(body, reading, opted_out)
    return reading


def _read(body: str, expecting: Expecting, opted_out: bool, answered: str | None) -> Understanding:
    """The reply read in its one context."""
    reaction = reactions.parse(body)
    if reaction is not None:
        return _reaction(reaction, expecting, answered, opted_out)
    own = reactions.without_quote(body, answered)
    folded, origin = fold(own)
    text = own.strip() or None
    stop = revocation.opt_out_phrase(folded)
    if stop is not None:
        return Understanding(Intent.OPT_OUT, reason=f'opt-out: "{stop}"')
    start = revocation.opt_in_phrase(folded, opted_out)
    if start is not None:
        return Understanding(Intent.OPT_IN, reason=f'opt-in: "{start}"')
    tokens = _WORD.findall(folded)
    if only(tokens, _HELP_WORDS) or _WHO.match(folded):
        return Understanding(Intent.HELP, reason="help: asked what this is")
    numbered, where = respell(folded, origin, scores.spelling)
    found = scores.find(numbered, expecting)
    if found is not None:
        return _score(found, own, numbered, where, expecting, opted_out, text)
    return _asks(folded, tokens, own, expecting, opted_out, text)


# "C 6", "c, 6/10", "6 C", "six c.": the confirm letter before or after the rest.
_LETTER_AROUND = re.compile(r"^\W*c\b[\s\-:.,!]*(?P<a>.*?)\W*$|^(?P<b>.*?)[\s\-:.,!]+c\W*$", re.S)
_LETTER_R = re.compile(r"(?:^|[^\w'])r(?:$|[^\w'])")


def _with_checkin(body: str, reading: Understanding, opted_out: bool) -> Understanding:
    """After a reminder with a check-in still open: a score counts for the check-in, and a
    C around it confirms too; else the reminder's reading stands."""
    if reading.quiet or reading.intent not in (Intent.OTHER, Intent.CONFIRM, Intent.PAIN):
        return reading
    folded, _ = fold(body)
    around = _LETTER_AROUND.match(folded.strip())
    letter = around is not None and not opted_out
    if reading.intent == Intent.CONFIRM and not letter:
        return reading  # a yes in words: confirms only
    if reading.intent == Intent.OTHER and _LETTER_R.search(folded):
        return reading  # "R 6" may be a new time, never taken as a score
    rest = body
    if around is not None:
        rest = (around.group("a") if around.group("a") is not None else around.group("b")) or ""
    score = _read(rest, "checkin", opted_out, None)
    if score.intent != Intent.PAIN or not score.sure:
        return reading
    why = score.reason + " for the open check-in" + (", and confirms" if letter else "")
    return replace(score, confirms=letter, reason=why)


def _reaction(
    reaction: reactions.Reaction, expecting: Expecting, answered: str | None, opted_out: bool
) -> Understanding:
    """A tapback: its feeling on the text it quotes, never the words of the quote."""
    to = reactions.quoted(reaction, answered, expecting)
    why = f"reaction: {reaction.feeling} on {'a ' + to if to != 'other' else 'our text'}"
    if to == "checkin":  # no score in a tapback: ask for the number once more
        return Understanding(Intent.OTHER, reask=not opted_out, reason=why + ", no score")
    if to == "reminder" and not opted_out and reaction.feeling == "positive":
        return Understanding(Intent.CONFIRM, confidence=0.9, reason=why + ": confirms")
    if to == "reminder" and reaction.feeling in ("negative", "question"):
        return Understanding(Intent.OTHER, reason=why + ": for a person")
    return Understanding(Intent.OTHER, quiet=True, reason=why + ": asks for nothing")


# How sure each way of finding a score is (a misspelt number word a little less).
_SCORE_CONFIDENCE = {"explicit": 0.95, "leading": 0.95, "zero": 0.95, "clause": 0.85, "today": 0.8}


def _score(
    found: scores.Found,
    own: str,
    numbered: str,
    where: list[int],
    expecting: Expecting,
    opted_out: bool,
    text: str | None,
) -> Understanding:
    """A pain score, or a number that is none (asked again after a check-in)."""
    said = numbered[found.start : found.end].strip()
    if found.value is None:
        why = f'no score: "{said}" is not one number from 0 to 10' if said else "no score"
        return Understanding(Intent.OTHER, note=text, reask=not opted_out, reason=why)
    confidence = _SCORE_CONFIDENCE[found.how]
    if expecting is None and found.how == "leading" and not scores.named(said):
        confidence = 0.75  # a bare number with nothing asked: likely, not certain
    note = rest(own, where, found.start, found.end) if found.end > found.start else None
    return Understanding(
        Intent.PAIN,
        pain=found.value,
        note=note,
        confidence=confidence,
        reason=f'pain {found.value}: "{said}" ({_HOW[found.how]})',
    )


_HOW = {
    "explicit": "named as pain",
    "leading": "the first thing said",
    "zero": "no pain",
    "clause": "a number ending a clause after a check-in",
    "today": "today's of several",
}


def _asks(
    folded: str,
    tokens: list[str],
    own: str,
    expecting: Expecting,
    opted_out: bool,
    text: str | None,
) -> Understanding:
    """Reschedule, confirm, or nothing the practice can act on."""
    move = _RESCHEDULE.search(folded)
    if only(tokens, {"r"}) or _LETTER_FIRST.match(folded) or move:
        words = move.group().strip() if move else "R"
        confidence = 0.9 if move else 1.0  # asking to move wins over any yes in the text
        return Understanding(
            Intent.RESCHEDULE, note=text, confidence=confidence, reason=f'reschedule: "{words}"'
        )
    confirm = _CONFIRM.search(folded)
    letter = only([t for t in tokens if t not in _ASSENT_WORDS], {"c"}) or bool(
        _CONFIRM_FIRST.match(folded)
    )
    if not opted_out and (letter or confirm):
        said = confirm.group() if confirm and not letter else "C"
        asked = confirm is not None and "?" in _sentence(folded, confirm.end())
        confidence = 1.0 if said == "C" else 0.6 if asked or expecting == "checkin" else 0.9
        return Understanding(
            Intent.CONFIRM, note=text, confidence=confidence, reason=f'confirm: "{said}"'
        )
    if not opted_out and expecting != "checkin" and _is_assent(own, tokens):
        why = "confirm: a yes to a reminder" if expecting else "confirm: a yes"
        confidence = 0.85 if expecting == "reminder" else 0.75
        return Understanding(Intent.CONFIRM, note=text, confidence=confidence, reason=why)
    reask = expecting == "checkin" and not opted_out
    why = "nothing to act on" + ("; the check-in is asked again" if reask else "")
    return Understanding(Intent.OTHER, note=text, reask=reask, reason=why)


def _sentence(folded: str, at: int) -> str:
    """From ``at`` to the end of its sentence (where a question mark would be)."""
    end = re.search(r"[.!?\n]", folded[at:])
    return folded[at : at + end.end()] if end else folded[at:]


def _is_assent(body: str, tokens: list[str]) -> bool:
    """True for a bare yes/ok in words or as a thumbs-up style emoji."""
    if not tokens:
        return any(char in _ASSENT_EMOJI for char in body)
    return only([t for t in tokens if t not in _COURTESY], _ASSENT_WORDS)
