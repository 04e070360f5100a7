"""Which opt-out words a template asks a client to send.

Pure. The words are the reply understanding's own (``revocation.OPT_OUT_KEYWORDS`` and
``revocation.OPT_OUT_PHRASES``): a client who sends one, alone, is opted out of every text,
and carriers match their keywords in any case ("stop", "Stop", "STOP"). Matching is on the
folded text (``folding.fold``: any case, accents off), so "envíe" and "envie" are one verb.

A word that is only ever a keyword ("unsubscribe", "stopall") is asked for wherever it is
written. The others are everyday words too ("stop", "end", "para", "baja", "alto" meaning
high) and so are the phrases ("remove me"): they count only when asked for, that is

* in capitals ("Text STOP"), or in quotes ('send "stop"');
* after a verb of replying, directly or past punctuation and the few words that only say
  how to send it: "Reply stop", "Reply: stop", "text back stop", "reply with the word stop",
  "Responda: baja", "envíe la palabra baja", "Reply C or stop".

A word after the one asked for is not asked for: in "Responda C para confirmar" the reply is
"C", and "para" is the everyday word.
"""

from __future__ import annotations

import re

from service.domain.folding import fold
from service.domain.revocation import OPT_OUT_KEYWORDS, OPT_OUT_PHRASES

# Keywords that are everyday words too; the rest (and any keyword the reply understanding
# learns) are asked for wherever they are written.
_EVERYDAY = frozenset({"stop", "end", "cancel", "quit", "para", "parar", "basta", "baja"})
_ANYWHERE = OPT_OUT_KEYWORDS - _EVERYDAY
_VERBS = (
    r"reply|replying|text|texting|send|sending|respond|answer|type|write|enter|"
    r"responda|responde|respondan|conteste|contesta|envie|envia|envien|escriba|escribe|"
    r"mande|manda|manden"
)
# What may stand between the verb and the word it asks for, and between two words asked for.
_HOW = (
    r"back|us|me|with|just|only|either|con|solo|nos|"
    r"to\s+(?:this|us)(?:\s+(?:text|message))?|a\s+este\s+(?:mensaje|numero)|"
    r"(?:(?:the|a|an|el|la|las|los|un|una)\s+)?(?:key)?(?:words?|palabras?)"
)
_QUOTE = "\"'\u201c\u201d\u2018\u00ab\u00bb"
_PHRASES = "|".join(
    r"\s+".join(map(re.escape, p.split())) for p in sorted(OPT_OUT_PHRASES, key=len, reverse=True)
)
_ASKED = re.compile(rf"(?P<quote>[{_QUOTE}]\s*)?(?P<word>(?:{_PHRASES})(?![^\W_])|[^\W\d_]+)")
_PAST_VERB = re.compile(
    rf"(?<![^\W_])(?:{_VERBS})(?:\s*[:\-\u2013\u2014>]\s*|\s+)(?:(?:{_HOW})\s+)*"
)
_OR = re.compile(r"\s*(?:/|\bor\b|\bo\b)\s*")
_WORD = re.compile(rf"(?<![^\W_]){_ASKED.pattern}")


def asked(body: str) -> list[str]:
    """The opt-out words ``body`` asks a client to send, as it writes them, each once."""
    folded, origin = fold(body)
    found: list[str] = []
    pointed = _pointed_spans(folded)
    for match in _WORD.finditer(folded):
        word = " ".join(match.group("word").split())
        if word not in OPT_OUT_KEYWORDS and word not in OPT_OUT_PHRASES:
            continue
        start, end = match.start("word"), match.end("word")
        written = body[origin[start] : origin[end - 1] + 1]
        first = written.split()[0]
        if (
            word in _ANYWHERE
            or match.group("quote")
            or (first.isupper() and len(first) > 1)
            or start in pointed
        ) and written.lower() not in (w.lower() for w in found):
            found.append(written)
    return found


def _pointed_spans(folded: str) -> set[int]:
    """Where each word a verb of replying asks for begins ("reply C or stop": C and stop)."""
    starts: set[int] = set()
    for verb in _PAST_VERB.finditer(folded):
        at = verb.end()
        while (word := _ASKED.match(folded, at)) is not None:
            starts.add(word.start("word"))
            more = _OR.match(folded, word.end())
            if more is None:
                break
            at = more.end()
    return starts
