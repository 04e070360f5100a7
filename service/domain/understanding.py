"""Read one inbound SMS reply into a single intent, a pain score and a note.

Pure: no framework, no database, no clock. Clients often have limited hand control, so replies
are short, misspelled or typed by a caregiver, in English or Spanish. Decisions worth knowing:

- Text is matched in a folded form (NFKD, casefold, accents and emoji modifiers dropped,
  whitespace collapsed); notes always keep the client's original words.
- Opt-out wins over everything, in any context: a carrier keyword alone or as its own sentence
  ("7. STOP"), or a plain request in English or Spanish (FCC 2024 revocation rule). CANCEL and
  END count only as the whole message, so "cancel please" or "cancelar" is a reschedule request;
  negated or unrelated uses ("the pain won't stop", "stop by at 3?") are never a stop.
- START/UNSTOP are opt-in in any context; YES/SI are opt-in only from an opted-out number. Other
  assent ("ok", "C") from an opted-out number is "other": it is not consent to texts.
- A pain word ("my pain is 9", "dolor 5") or "/10" makes a score a score in any context. A bare
  leading number counts after a check-in or with no context, but not after a reminder: a lone
  "7" there is ambiguous and becomes "other". After a check-in one number ending a clause counts
  anywhere ("neck is bad, 8"; not "had 2 massages"). Two different numbers ("back 7 neck 5",
  "8 yesterday, 5 today") are never guessed between: reask. Times, durations and doses ("at 3",
  "10 min", "2 advil") are never scores; "one"/"none"/"nada" count only at the start.
- "No pain" / "sin dolor" at the start is a 0 in any context, like a pain word with a number.
- A range counts as its higher end ("6-7" -> 7). Decimals ("6.5"), percents, negatives and
  numbers above 10 are never rounded or clamped: "other" with reask, the client is asked again.
- A bare C, "confirm", "see you then" confirm in any context; generic assent (Y, yes, ok, 👍, si)
  after a check-in gave no number, so it is "other" with reask.
- "Running late" and "cancel my appointment" are reschedule: the front desk has to act on both.
- reask is never set for an opted-out number: nobody may text it again.
- Notes: a pain reply keeps the words around the score; confirm, reschedule and other keep the
  whole original text; opt_out, opt_in and help keep none.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from service.domain.vocabulary import Intent

INTENTS = tuple(Intent)
Expecting = Literal["checkin", "reminder"] | None


@dataclass(frozen=True)
class Understanding:
    """What one reply means: an intent, a 0..10 pain score for "pain", and a note."""

    intent: Intent
    pain: int | None = None
    note: str | None = None
    reask: bool = False

    def __post_init__(self) -> None:
        """Refuse an intent outside INTENTS or a pain score that is missing or not 0..10."""
        if self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}")
        if (self.intent == Intent.PAIN) != (self.pain is not None):
            raise ValueError("a pain score goes with the pain intent and only with it")
        if self.pain is not None and not 0 <= self.pain <= 10:
            raise ValueError(f"pain score {self.pain} is not 0..10")


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "🔟": "10"})
_WORD = re.compile(r"[^\W_]+")
_SENTENCES = re.compile(r"[.!?;,]+")
_SEPARATORS = " \t\r\n,.;:!?-/"
_ASSENT_EMOJI = frozenset("👍👌✅✔☑🆗")


def _words(spaced: str) -> frozenset[str]:
    """Return the set of the space-separated words given."""
    return frozenset(spaced.split())


# Words that may surround a keyword without changing what it means ("stop please", "ok, yes").
_FILLERS = _words(
    "please pls plz now thanks thank you ty all just i said ok okay por favor ya gracias que"
)
_STOP_WORDS = _words("stop stopall unsubscribe quit revoke optout baja parar para basta")
# Carrier keywords too common in talk to read inside a sentence: only the whole message counts.
_WHOLE_ONLY_STOPS = _words("cancel end")
_STOP_PHRASES = frozenset({"stop it", "stop this", "stop that", "stop them", "remove me"})
_START_WORDS = frozenset({"start", "unstop"})
_YES_WORDS = frozenset({"yes", "si"})
_HELP_WORDS = frozenset({"help", "info", "ayuda", "informacion"})
_ASSENT_WORDS = _words(
    "y yes yeah yea yep yup yess ok okay okey k kk sure si claro vale dale bueno perfect "
    "perfecto great cool absolutely definitely correct"
)

# A fixed-width lookbehind guard so a negated phrase ("don't cancel") never matches.
_NOT = (
    r"(?<!n't )(?<!dont )(?<!cant )(?<!wont )(?<!not )(?<!never )(?<!cannot )(?<!no )"
    r"(?<!n't want to )(?<!dont want to )(?<!not want to )"
)
_OPT_OUT = re.compile(
    _NOT + r"\b(?:stop|quit|cease|end)\s+(?:all\s+)?(?:texting|txting|texing|messaging|sending"
    r"|contacting|(?:the\s+|these\s+|your\s+)?(?:texts?|txts?|messages?|msgs?|reminders?|sms))\b"
    r"|\bno\s+more\s+(?:texts?|txts?|messages?|msgs?|reminders?|sms|texting|messaging)\b"
    r"|\b(?:take|remove|delete|drop)\s+(?:me|my\s+(?:number|phone))\s+(?:off|from)\b"
    r"|" + _NOT + r"\b(?:unsubscribe|opt\s*-?\s*(?:me\s+)?out)\b"
    r"|\b(?:do\s*n'?t|do\s+not|dont)\s+(?:text|txt|message|msg|contact|send)\s+(?:me|us)\b"
    r"|\b(?:do\s*n'?t|do\s+not|dont|no\s+longer)\s+want\s+(?:any\s*more\s+|these\s+|your\s+"
    r"|the\s+|to\s+(?:get|receive)\s+)?(?:texts|messages|msgs|reminders|sms)\b"
    r"|\brevok\w*\s+(?:my\s+)?(?:consent|permission)\b|\bleave\s+me\s+alone\s*$"
    r"|" + _NOT + r"\bcancel\w*\s+(?:my\s+|the\s+|these\s+|all\s+)?(?:subscription|texts|messages"
    r"|reminders|sms|suscripcion|mensajes|recordatorios)\b"
    r"|\b(?:deja|dejen|dejar|deje|dejes)\s+de\s+(?:enviar|mandar|escribir|textear|contactar)"
    r"|\bno\s+me\s+(?:manden|mandes|mande|envien|envies|envie|escriban|escribas|contacten)\b"
    r"|\bno\s+(?:quiero|deseo)\s+(?:recibir\s+)?(?:mas\s+)?(?:mensajes|textos|recordatorios|sms)"
    r"|\bno\s+mas\s+(?:mensajes|textos|recordatorios)\b|\b(?:darme|dame|denme|deme)\s+de\s+baja\b"
    r"|\b(?:quitenme|quitarme|quiteme|sacame|saquenme|borrenme|borrarme)\b|\bdejame\s+en\s+paz\b"
)
_RESCHEDULE = re.compile(
    r"\b(?:can|could)\s+(?:i|we)\s+(?:come|do\s+it)\s+(?:at|on|in|earlier|later|instead|today"
    r"|tomorrow|tonight|next|this|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\s+instead\b|"
    r"\bre-?sched\w*|\breprogram\w*|\b(?:different|another|other|new)\s+(?:time|day|date)\b"
    r"|\b(?:can'?t|cannot|can\s+not|won'?t|will\s+not|unable\s+to|not\s+able\s+to)\s+(?:make\s+it"
    r"|come|go|attend|see\s+you|be\s+there|do\s+(?:it|that|this|today|tomorrow))\b"
    r"|\b(?:won'?t|not)\s+be\s+able\b|\b(?:can'?t|cannot)\b\s*(?:[^\w\s].*)?$"
    r"|" + _NOT + r"\b(?:need|have|want)\s+to\s+(?:move|change|switch|push|cancel)\b"
    r"|\b(?:can|could)\s+(?:we|i|you)\s+(?:move|change|switch|push)\b"
    r"|\b(?:move|change|switch|push\s+back)\s+(?:my|the|our)\s+(?:appointment|appt|session|time)\b"
    r"|\b(?:running|be|bit|little|mins?|minutes)\s+late\b|\bminutos\s+tarde\b"
    r"|" + _NOT + r"\bcancel(?:ar)?\b"
    r"|\bno\s+(?:puedo|podre|voy\s+a\s+poder)(?:\s+(?:ir|llegar|asistir|venir|acudir|hoy|manana"
    r"|ese|este|esta|el|la)\b|\s*(?:[^\w\s].*)?$)"
    r"|\b(?:cambiar|mover)\s+(?:la\s+|mi\s+)?(?:cita|hora|fecha)\b|\botr[oa]\s+(?:dia|hora|fecha)\b"
    r"|\b(?:voy|llego|llegare|vamos)\s+(?:a\s+llegar\s+)?(?:un\s+poco\s+)?tarde\b"
)
_CONFIRM = re.compile(
    _NOT + r"\b(?:confirm\w*|see\s+(?:you|u|ya)\b|(?:i'?ll|ill|i\s+will|we'?ll|we\s+will)\s+be\s+"
    r"there|nos\s+vemos|(?:ahi|alli|alla)\s+(?:estare|estaremos|estamos)|sounds\s+good"
    r"|all\s+set|de\s+acuerdo|esta\s+bien)\b"
)

# Number words by value, English and Spanish with common misspellings, one "|" per value.
_SPELLED = (
    "zero cero sero none nada|one uno|two dos|three thre tres|four cuatro quatro|five fiv fve "
    "cinco sinco|six seis ceis|seven sevn sevin sevan siete ciete|eight eigth eght ocho|nine nien "
    "nueve nuebe|ten diez dies"
)
_NUMBER_WORDS = {word: n for n, words in enumerate(_SPELLED.split("|")) for word in words.split()}
# Words too common in ordinary talk ("no one", "nada mejor") to count away from the start.
_VAGUE_WORDS = frozenset({"one", "uno", "none", "nada"})
_WORDS = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_NUM = rf"(?:\d+(?:[.,]\d+)?(?!\w)(?![.,]\d)|(?:{_WORDS})\b)"
# Times, durations, doses and "one more/of" are not scores.
_UNITS = (
    r"(?::\d|(?:am|pm|a\.m|p\.m|o'?clock|mins?|minutes?|hrs?|hours?|days?|weeks?|months?|years?"
    r"|horas?|minutos?|dias?|semanas?|meses|pills?|tabs?|advil|tylenol|ibuprofen|times|veces|x"
    r"|down|away|off|more|of|thing|sec|second|moment|momento|pregunta|cosa)\b)"
)
_SCORE = (
    rf"(?P<neg>-\s?)?(?P<a>{_NUM})(?:(?:\s*[-~]\s*|\s+(?:to|or|a|o)\s+)(?P<b>{_NUM}))?"
    rf"(?P<of>\s*(?:/|out\s+of|outta|of|de|sobre)\s*10\b)?(?P<pct>\s?%)?(?!\s*{_UNITS})"
)
_PAIN_WORD = r"(?:pain|dolor|hurts?|hurting|aches?|aching|sore|duele|molestia)"
_PREFIX = (
    rf"(?:my|mi|{_PAIN_WORD}|level|score|is|was|es|esta|estoy|en|de|it'?s|its|it|i'?m"
    r"|im|i|am|about|around|abt|approx|roughly|like|maybe|prob(?:ably)?|probs|prolly|honestly|um+"
    r"|hm+|a|an|at\s+(?:a|an|like|about|around)|today'?s?|tonight|now|still|just|only|solid"
    r"|como|un|una|unos|tipo|mas\s+o\s+menos|hoy|ahora|le\s+doy|i'?d\s+say|id\s+say|say)"
)
_LEADING = re.compile(rf"^(?:{_PREFIX}\b[\s:,=]*){{0,6}}{_SCORE}")
_EXPLICIT = re.compile(
    rf"(?:\b(?:my|mi|the|el)\s+)?\b{_PAIN_WORD}\b(?:[\s:,=]*{_PREFIX}\b){{0,6}}[\s:,=]*{_SCORE}"
)
_ENDS_CLAUSE = re.compile(
    r"\s*(?:$|[^\w\s]|(?:today|now|tonight|hoy|ahora|this\s+(?:morning|evening))\b)"
)
_PAIN_MENTION = re.compile(rf"\b{_PAIN_WORD}\b")
_ZERO = re.compile(
    r"^(?:no\s+pain|zero\s+pain|pain[\s-]*free|sin\s+dolor|no\s+me\s+duele(?:\s+nada)?"
    r"|no\s+tengo\s+dolor|ningun\s+dolor|nada\s+de\s+dolor)\b"
)
# A number after "at", "by", "a las", "el" is a time or a date, not a score.
_CANDIDATE = re.compile(
    rf"(?:\b{_PREFIX}\b[\s:,=]*){{0,6}}"
    r"(?<![\w.,/%-])(?<!\bat )(?<!@)(?<!@ )(?<!\bby )(?<!\blas )(?<!\bel )(?<!\bon )"
    r"(?<!\buntil )(?<!\btil )(?<!\bbefore )(?<!\bafter )(?<!\bfrom )(?<!#)(?<!\$)" + _SCORE
)

Span = tuple[int, int, int | None]  # folded start, folded end, score (None: not 0..10)


def understand(body: str, *, expecting: Expecting = None, opted_out: bool = False) -> Understanding:
    """Return what a reply means given what it answers; never raises for any text."""
    folded, origin = _fold(body)
    tokens = _WORD.findall(folded)
    text = body.strip() or None
    if _is_opt_out(folded, tokens):
        return Understanding(Intent.OPT_OUT)
    if _only(tokens, _START_WORDS) or (opted_out and _only(tokens, _YES_WORDS)):
        return Understanding(Intent.OPT_IN)
    if _only(tokens, _HELP_WORDS):
        return Understanding(Intent.HELP)
    span = _find_score(folded, expecting)
    if span is not None:
        start, end, score = span
        if score is not None:
            return Understanding(Intent.PAIN, pain=score, note=_rest(body, origin, start, end))
        return Understanding(Intent.OTHER, note=text, reask=not opted_out)
    if _only(tokens, {"r"}) or _RESCHEDULE.search(folded):
        return Understanding(Intent.RESCHEDULE, note=text)
    if not opted_out and (_only(tokens, {"c"}) or _CONFIRM.search(folded)):
        return Understanding(Intent.CONFIRM, note=text)
    if not opted_out and expecting != "checkin" and _is_assent(body, tokens):
        return Understanding(Intent.CONFIRM, note=text)
    return Understanding(Intent.OTHER, note=text, reask=expecting == "checkin" and not opted_out)


def _fold(body: str) -> tuple[str, list[int]]:
    """Return the text folded for matching and, per folded char, the index of its source char."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(body):
        category = unicodedata.category(char)
        if category == "Cf":  # zero-width joiners, direction marks
            continue
        piece = " " if category == "Cc" or char.isspace() else char.translate(_QUOTES)
        piece = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", piece).casefold())
        for part in piece:
            if unicodedata.category(part) in ("Mn", "Me"):  # accents, keycaps, VS16
                continue
            if part.isspace():
                if not out or out[-1] == " ":
                    continue
                part = " "
            out.append(part)
            origin.append(index)
    if out and out[-1] == " ":
        out.pop()
        origin.pop()
    return "".join(out), origin


def _only(tokens: list[str], words: frozenset[str] | set[str]) -> bool:
    """Return True when the tokens hold one of the words and otherwise only fillers."""
    return any(t in words for t in tokens) and all(t in words or t in _FILLERS for t in tokens)


def _is_opt_out(folded: str, tokens: list[str]) -> bool:
    """Return True when the reply revokes consent to texts, in keyword or plain words."""
    if tokens and set(tokens) <= _WHOLE_ONLY_STOPS:
        return True
    for sentence in _SENTENCES.split(folded):
        words = _WORD.findall(sentence)
        kept = " ".join(w for w in words if w not in _FILLERS)
        if _only(words, _STOP_WORDS) or kept in _STOP_PHRASES or "".join(words) in _STOP_WORDS:
            return True
    return _OPT_OUT.search(folded) is not None


def _is_assent(body: str, tokens: list[str]) -> bool:
    """Return True for a bare yes/ok in words or as a thumbs-up style emoji."""
    if not tokens:
        return any(char in _ASSENT_EMOJI for char in body)
    return _only(tokens, _ASSENT_WORDS)


def _find_score(folded: str, expecting: Expecting) -> Span | None:
    """Return where a pain score sits and its value, or None when the reply gives no score."""
    found = [m for m in _CANDIDATE.finditer(folded) if m.group("a") not in _VAGUE_WORDS]
    leading = _LEADING.match(folded)
    if leading and (expecting != "reminder" or _is_explicit(leading, folded)):
        return _unless_contradicted(leading, found)
    explicit = _EXPLICIT.search(folded)
    if explicit:
        return _unless_contradicted(explicit, found)
    zero = _ZERO.match(folded)
    if zero:
        return zero.start(), zero.end(), 0
    if expecting != "checkin" or not found:
        return None
    if len(found) > 1:
        return 0, 0, None
    if not _ENDS_CLAUSE.match(folded, found[0].end()):  # "had 2 massages" counts, not scores
        return None
    return found[0].start(), found[0].end(), _value(found[0])


def _unless_contradicted(match: re.Match[str], found: list[re.Match[str]]) -> Span:
    """Return a score's span and value; no value when another number elsewhere disagrees."""
    value = _value(match)
    elsewhere = (m for m in found if m.end() <= match.start() or m.start() >= match.end())
    if any(_value(m) != value for m in elsewhere):
        return match.start(), match.end(), None
    return match.start(), match.end(), value


def _is_explicit(match: re.Match[str], folded: str) -> bool:
    """Return True when a leading score is marked as pain ("pain 6", "7/10")."""
    prefix = folded[match.start() : match.start("a")]
    return bool(match.group("of")) or _PAIN_MENTION.search(prefix) is not None


def _value(match: re.Match[str]) -> int | None:
    """Return the score a match names (a range's higher end), or None when it is not 0..10."""
    values = [_number(token) for token in (match.group("a"), match.group("b")) if token]
    if match.group("neg") or match.group("pct") or None in values:
        return None
    top = max(v for v in values if v is not None)
    return top if 0 <= top <= 10 else None


def _number(token: str) -> int | None:
    """Return the whole number a digit string or number word names; None for decimals."""
    if token in _NUMBER_WORDS:
        return _NUMBER_WORDS[token]
    if not token.isdecimal() or len(token) > 3:
        return None
    return int(token)


def _rest(body: str, origin: list[int], start: int, end: int) -> str | None:
    """Return the original text around a folded span, or None when nothing worded is left."""
    left, right = body[: origin[start]], body[origin[end - 1] + 1 :]
    note = " ".join(p for p in (left.rstrip(_SEPARATORS), right.lstrip(_SEPARATORS)) if p)
    note = note.strip()
    return note if any(char.isalnum() for char in note) else None
