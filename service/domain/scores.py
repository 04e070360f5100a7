"""Finding a pain score in a reply, the way people write one.

Pure. Works on folded text (``folding.fold``). Decisions worth knowing:

- A pain word ("my pain is 9", "dolor 5") or "/10", "out of ten", "de 10" makes a number a
  score in any context. A bare leading number counts after a check-in or with no context,
  not after a reminder (a lone "7" there is ambiguous). After a check-in one number ending a
  clause counts anywhere ("neck is bad, 8"; not "had 2 massages").
- Number words count, in English and Spanish, and so do their misspellings at one edit
  (``rapidfuzz``'s optimal string alignment distance: "nien", "sevn", "eigth"), except words
  that are ordinary words one edit from a number ("fine", "nice", "there", "sight").
- A range counts as its higher end ("6-7", "between 4 and 5", "entre 5 y 6"); "6-ish" is 6;
  a caregiver's third person counts ("he's at 9", "she says 7", "está en 6").
- Two different numbers are never guessed between ("back 7 neck 5"), unless one is marked
  as today's and the others as earlier ("was 9 yesterday, 6 today": 6).
- Times, durations, doses and counts ("at 3", "10 min", "2 advil", "2 weeks") are never
  scores; decimals, percents, negatives and numbers above 10 are no score ("other", and the
  client is asked again). "No pain" / "sin dolor" at the start is a 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

from service.domain.folding import words

Expecting = Literal["checkin", "reminder"] | None
# More numbers than this in one reply are never sorted into today's and earlier ones.
MAX_NUMBERS = 8
# How a score was found, most certain first: named as pain, first thing said, at the end of
# a clause after a check-in, or today's of several.
How = Literal["explicit", "leading", "clause", "today", "zero"]

# Number words by value, English and Spanish with common misspellings, one "|" per value.
_SPELLED = (
    "zero cero sero none nada|one uno|two dos|three thre tres|four cuatro quatro|five fiv fve "
    "cinco sinco|six seis ceis|seven sevn sevin sevan siete ciete|eight eigth eght ocho|nine nien "
    "nueve nuebe|ten diez dies"
)
NUMBER_WORDS = {
    word: n for n, spelled in enumerate(_SPELLED.split("|")) for word in spelled.split()
}
# Misspellings are looked for only near these (short or everyday words are too close to
# ordinary talk), and never taken from ordinary words one edit away from one.
_FUZZY_TARGETS = sorted(
    words("zero three four five seven eight nine cero cuatro cinco seis siete ocho nueve diez")
)
_ORDINARY = words(
    "fine nice line mine wine dine vine fire five give live hive dive file nina nino none "
    "nine your hour tour pour sour four hero here zero there three threw tree free seen "
    "even seven sever sight light right night fight might tight eight weight height echo "
    "ocho sees seas seis cuarto nueva nuevo nueve dies diez cine once done gone bone tone "
    "zone lone cone node step stop ever over ceso cerro cena cero sera siento sient siete "
    "cinta cinco tres tras fives nines bien dios dies sino since pero cerdo siente mueve thee "
    "circo cinto"
)
# Words too common in ordinary talk ("no one", "nada mejor") to count away from the start.
_VAGUE_WORDS = frozenset({"one", "uno", "none", "nada"})
_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_NUM = rf"(?:\d+(?:[.,]\d+)?(?:(?=ish\b)|(?!\w))(?![.,]\d)|(?:{_WORDS})(?:(?=ish\b)|\b))"
# Times, durations, doses and "one more/of" are not scores.
_UNITS = (
    r"(?::\d|(?:am|pm|a\.m|p\.m|o'?clock|mins?|minutes?|hrs?|hours?|days?|weeks?|months?|years?"
    r"|horas?|minutos?|dias?|semanas?|meses|pills?|tabs?|advil|tylenol|ibuprofen|times|veces|x"
    r"|down|away|off|more|of|thing|sec|second|moment|momento|pregunta|cosa|kids?|children"
    r"|hijos?|ninos?|years?\s+old|anos)\b|\s*(?:and\s+a\s+half|y\s+media|and\s+half|1/2))"
)
_SCORE = (
    rf"(?P<neg>-\s?)?(?P<a>{_NUM})(?:(?:\s*[-~]\s*|\s+(?P<joint>to|or|a|o|and|y|&)\s+"
    rf"(?:(?:a|an|un|una)\s+)?)(?P<b>{_NUM}))?"
    rf"(?P<of>\s*(?:/|out\s+of|outta|of|de|sobre)\s*(?:10|ten|diez)\b)?(?P<pct>\s?%)?"
    rf"(?:\s*-?\s*ish\b)?(?!\s*{_UNITS})"
)
_PAIN_WORD = r"(?:pain|dolor|hurts?|hurting|aches?|aching|sore|duele|molestia)"
_PREFIX = (
    rf"(?:my|mi|{_PAIN_WORD}|level|score|is|was|es|esta|estoy|en|de|it'?s|its|it|i'?m"
    r"|im|i|am|about|around|abt|approx|roughly|like|maybe|prob(?:ably)?|probs|prolly|honestly|um+"
    r"|hm+|a|an|at\s+(?:a|an|like|about|around)|today'?s?|tonight|now|still|just|only|solid"
    r"|como|un|una|unos|tipo|mas\s+o\s+menos|hoy|ahora|le\s+doy|i'?d\s+say|id\s+say|say"
    r"|he'?s|she'?s|hes|shes|he|she|they'?re|theyre|we'?re|were|says|said|dice|dijo|anda"
    r"|pos|pues|bueno|well|so|hmm+|mmm+|eh|uh|yeah|ok|okay"
    r"|(?:he'?s|she'?s|hes|shes|i'?m|im|is|we'?re|they'?re|its|it'?s)\s+at"
    r"|somewhere|between|entre|sitting|feeling|feels|rating|rate|solidly|pretty\s+much)"
)
_LEADING = re.compile(rf"^(?:{_PREFIX}\b[\s:,=]*){{0,6}}{_SCORE}")
_EXPLICIT = re.compile(
    rf"(?:\b(?:my|mi|the|el|his|her|su)\s+)?\b{_PAIN_WORD}\b(?:[\s:,=]*{_PREFIX}\b){{0,6}}"
    rf"[\s:,=]*{_SCORE}"
)
_ENDS_CLAUSE = re.compile(
    r"\s*(?:$|[^\w\s]|(?:today|now|tonight|hoy|ahora|this\s+(?:morning|evening)|la\s+neta"
    r"|honestly|i\s+think|i\s+guess|lol|tbh|creo|supongo|maybe|probably)\b"
    r"|(?:not|no)\s+(?:a\s+|an\s+|un\s+)?\d"  # "a 3 not an 8": a correction ends it
    r"|\w+(?:mente|ly)\s*(?:$|[^\w\s]))"  # "un 9 tranquilamente", "an 8 honestly"
)
# "on a scale of 0-10", "del 0 al 10": the scale, not a score (blanked before reading).
_SCALE = re.compile(
    r"\b(?:(?:on\s+)?(?:a\s+)?(?:scale|escala)\s+(?:of|from|del|de)?\s*|from\s+|del\s+|de\s+)"
    r"(?:0|1|zero|one|cero|uno)\s*(?:-|to|a|al)\s*(?:10|ten|diez)\b"
)
_PAIN_MENTION = re.compile(rf"\b{_PAIN_WORD}\b")
_OUT_OF = re.compile(r"/|\bout\s+of\b|\bde\s+(?:10|diez)\b")
_ZERO = re.compile(
    r"^(?:no\s+pain|zero\s+pain|pain[\s-]*free|sin\s+dolor|no\s+me\s+duele(?:\s+nada)?"
    r"|no\s+tengo\s+dolor|ningun\s+dolor|nada\s+de\s+dolor)\b"
)
# A number after "at", "by", "a las", "el" is a time or a date, not a score.
_CANDIDATE = re.compile(
    rf"(?:\b{_PREFIX}\b[\s:,=]*){{0,6}}"
    r"(?<![\w.,/%-])(?:(?<!\bat )|(?<='s at )|(?<=\bis at )|(?<='m at )|(?<=\bim at )"
    r"|(?<=\bhes at )|(?<=\bshes at )|(?<='re at ))"
    r"(?<!@)(?<!@ )(?<!\bby )(?<!\blas )(?<!\bel )(?<!\bon )"
    r"(?<!\buntil )(?<!\btil )(?<!\bbefore )(?<!\bafter )(?<!\bfrom )(?<!#)(?<!\$)"
    r"(?<!\bnot )(?<!\bnot a )(?<!\bnot an )(?<!\bno un )(?<!\bno es un )" + _SCORE
)
_BREAK = re.compile(r"[,.;?!]|\b(?:but|pero)\b")
_TODAY = re.compile(r"\b(?:today|now|tonight|right\s+now|hoy|ahora)\b")
# The one the client settles on ("3? 4? let's say 4").
_CHOSEN = re.compile(r"\b(?:let'?s\s+say|lets\s+say|i'?d\s+say|call\s+it|digamos|pongamos)\b")
# Said of an earlier day, and of no other: not today's score.
_DAY_WORD = re.compile(
    r"\b(?:today|now|tonight|right\s+now|hoy|ahora|yesterday|last\s+night|earlier|ayer|anoche"
    r"|antes|this\s+morning|esta\s+manana)\b"
)
# Today too, but earlier than "now": this morning's score gives way to tonight's.
_MORNING = re.compile(r"this\s+morning|esta\s+manana")


@dataclass(frozen=True)
class Found:
    """Where a score sits in the folded text, its value (None: a number but no score), and
    how it was found."""

    start: int
    end: int
    value: int | None
    how: How


def spelling(token: str) -> str | None:
    """The number word ``token`` misspells at one edit, or None."""
    if len(token) < 4 or not token.isalpha() or token in NUMBER_WORDS or token in _ORDINARY:
        return None
    near = process.extract(token, _FUZZY_TARGETS, scorer=OSA.distance, score_cutoff=1, limit=4)
    if len({NUMBER_WORDS[word] for word, _, _ in near}) > 1:
        # Typos rarely hit the first letter: "sies" is seis, not diez.
        near = [n for n in near if n[0][0] == token[0]]
    values = {NUMBER_WORDS[word] for word, _, _ in near}
    return near[0][0] if len(values) == 1 else None  # "nive"? five or nine: no guess


def named(said: str) -> bool:
    """True when the words of a score name it as one ("pain 6", "7/10")."""
    return (
        _PAIN_MENTION.search(said) is not None or re.search(r"/|out\s+of|de\s+10", said) is not None
    )


def find(folded: str, expecting: Expecting) -> Found | None:
    """Where a pain score sits and its value, or None when the reply gives no score."""
    folded = _SCALE.sub(lambda m: " " * len(m.group()), folded)  # same length: spans hold
    found = [m for m in _CANDIDATE.finditer(folded) if m.group("a") not in _VAGUE_WORDS]
    leading = _LEADING.match(folded)
    if leading and (expecting != "reminder" or _is_explicit(leading, folded)):
        return _for_today(folded, _unless_contradicted(leading, found, "leading"), leading)
    explicit = _EXPLICIT.search(folded)
    if explicit:
        return _for_today(folded, _unless_contradicted(explicit, found, "explicit"), explicit)
    zero = _ZERO.match(folded)
    if zero:
        return Found(zero.start(), zero.end(), 0, "zero")
    if expecting != "checkin" or not found:
        return None
    if len(found) > 1:
        return _todays(folded, found)
    if not _ENDS_CLAUSE.match(folded, found[0].end()):  # "had 2 massages" counts, not scores
        return None
    return _for_today(
        folded, Found(found[0].start(), found[0].end(), _value(found[0]), "clause"), found[0]
    )


def _for_today(folded: str, score: Found, match: re.Match[str]) -> Found:
    """The score, unless the client said it was an earlier day's ("7 yesterday, haven't
    asked him yet today"): then no score, and today's is asked for."""
    if score.how != "today" and _days(folded, [match]).get(match.start()) == "earlier":
        return Found(score.start, score.end, None, score.how)
    return score


def _unless_contradicted(match: re.Match[str], found: list[re.Match[str]], how: How) -> Found:
    """A score's span and value; no value when another number elsewhere disagrees, unless
    the others are marked as earlier and this one as today's."""
    value = _value(match)
    elsewhere = [m for m in found if m.end() <= match.start() or m.start() >= match.end()]
    if any(_value(m) != value for m in elsewhere):
        return _todays(match.string, [match, *elsewhere]) or Found(
            match.start(), match.end(), None, how
        )
    return Found(match.start(), match.end(), value, how)


def _todays(folded: str, found: list[re.Match[str]]) -> Found:
    """Of several numbers, the one the client settles on ("3? 4? let's say 4"), or the one
    said to be today's when the others are said to be earlier ("9 yesterday, 6 today",
    "yesterday 4, today 8"); else a number but no score (the client is asked again)."""
    if len(found) > MAX_NUMBERS:  # a list of numbers is no score (and reading it is bounded)
        return Found(0, 0, None, "clause")
    settled = [m for m in found if _CHOSEN.search(_clause(folded, m))]
    days = _days(folded, found)
    today = [m for m in found if days.get(m.start()) == "today"]
    others_earlier = all(
        days.get(m.start()) in ("earlier", "morning") for m in found if m not in today
    )
    if len(settled) != 1 and len(today) == 1 and others_earlier:
        settled = today
    if len(settled) == 1:
        pick = settled[0]
        return Found(pick.start(), pick.end(), _value(pick), "today")
    return Found(0, 0, None, "clause")


def _days(folded: str, found: list[re.Match[str]]) -> dict[int, str]:
    """Which numbers a clause says are today's or an earlier day's, by where each number
    starts. Within a clause the day words go with the numbers the way the client wrote
    them: "yesterday 4 today 8" puts the word first, "9 last night, 7 now" after."""
    days: dict[int, str] = {}
    for clause in _clauses(folded):
        numbers = [m for m in found if clause[0] <= m.start() < clause[1]]
        marks = [
            (w.start(), _day_of(w.group()))
            for w in _DAY_WORD.finditer(folded, clause[0], clause[1])
        ]
        if not numbers or not marks:
            continue
        first = marks[0][0] < numbers[0].start("a")
        for at, day in marks:
            after = [m for m in numbers if m.start("a") > at]
            before = [m for m in numbers if m.end() <= at]
            near = (after[:1] if first else before[-1:]) or (before[-1:] if first else after[:1])
            for m in near:
                days.setdefault(m.start(), day)
    return days


def _day_of(word: str) -> str:
    """Which day a day word names: "today", "morning" (today, but before now) or "earlier"."""
    return (
        "today" if _TODAY.fullmatch(word) else "morning" if _MORNING.fullmatch(word) else "earlier"
    )


def _clauses(folded: str) -> list[tuple[int, int]]:
    """The spans of the clauses, broken at commas, stops, "but", "pero", "and now"."""
    bounds = [0, *(b for m in _BREAK.finditer(folded) for b in (m.start(), m.end())), len(folded)]
    return [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds) - 1, 2)]


def _clause(folded: str, match: re.Match[str]) -> str:
    """The clause a number stands in: from the last break before it to the next (a comma,
    a stop, "but", "pero", "and now")."""
    before = [b.end() for b in _BREAK.finditer(folded, 0, match.start())]
    after = _BREAK.search(folded, match.end())
    return folded[before[-1] if before else 0 : after.start() if after else len(folded)]


def _is_explicit(match: re.Match[str], folded: str) -> bool:
    """True when a leading score is marked as pain ("pain 6", "7/10")."""
    prefix = folded[match.start() : match.start("a")]
    return bool(match.group("of")) or _PAIN_MENTION.search(prefix) is not None


def _value(match: re.Match[str]) -> int | None:
    """The score a match names (a range's higher end), or None when it is not 0..10."""
    values = [_number(token) for token in (match.group("a"), match.group("b")) if token]
    if match.group("neg") or match.group("pct") or None in values:
        return None
    top, low = max(v for v in values if v is not None), min(v for v in values if v is not None)
    if match.group("joint") in ("or", "o") and top - low > 1:
        return None  # "4 or 6" is undecided, not a range: asked again
    return top if 0 <= top <= 10 else None


def _number(token: str) -> int | None:
    """The whole number a digit string or number word names; None for decimals."""
    if token in NUMBER_WORDS:
        return NUMBER_WORDS[token]
    if not token.isdecimal() or len(token) > 3:
        return None
    return int(token)
