"""What a phone quotes back is not the reply: reactions (tapbacks) and quoted originals.

Pure. iPhones send a reaction to a text as a text of its own, ``Liked “<the text>”``, and
Android phones as ``Reacted 👍 to "<the text>"``; the quote is the message reacted to (often
cut short with "…"), never the client's words. A reaction's meaning comes from its kind and
from which of our texts it reacts to, never from the words inside the quote: a quoted
"Reply STOP to opt out" is not a stop, a quoted "10 (worst)" is not a score.

Some phones also quote the text being answered above or below the reply ("> Hi Sam, ...");
``without_quote`` takes that away before the reply is read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Feeling = Literal["positive", "negative", "laugh", "question", "removed"]
Quoted = Literal["reminder", "checkin", "other"]

_OPEN = "\"“”«„'\u2018\u2019"
_CLOSE = "\"“”»'\u2018\u2019"
# iPhone (English and Spanish) and Android wordings, each with the feeling it carries.
_IPHONE = {
    "liked": "positive",
    "loved": "positive",
    "emphasized": "positive",
    "emphasised": "positive",
    "disliked": "negative",
    "laughed at": "laugh",
    "questioned": "question",
    "le gusto": "positive",
    "le encanto": "positive",
    "enfatizo": "positive",
    "destaco": "positive",
    "no le gusto": "negative",
    "le hizo reir": "laugh",
    "se rio de": "laugh",
    "cuestiono": "question",
    "pregunto por": "question",
}
_POSITIVE_EMOJI = frozenset("👍❤♥😍🥰👌✅‼💯🙏😊🙂")
_NEGATIVE_EMOJI = frozenset("👎😡😠")
_LAUGH_EMOJI = frozenset("😂🤣😆")
_QUESTION_EMOJI = frozenset("❓❔🤔")
_REMOVED = re.compile(r"^(?:removed an? \w+(?: \w+)? from|quito (?:un|una|el|la) \w+ de)\s")
_IPHONE_HEAD = re.compile(
    r"^(" + "|".join(sorted(map(re.escape, _IPHONE), key=len, reverse=True)) + r")\s+$"
)
_ANDROID_HEAD = re.compile(
    r"^(?:reacted\s+(?:with\s+)?|reacciono\s+(?:con\s+)?)?(?P<emoji>\S{1,8}?)\s+(?:to|a)\s+$"
)
# Words that only our own texts say, which tell which of them a quote comes from; to a
# caregiver they name the client ("a reminder of Maria's appointment", "how is Maria's pain").
# A move notice asks for a C like a reminder ("Maria's appointment at ... is now ..."); a
# cancellation asks for nothing a reaction could give.
_WHOSE = r"(?:your|[^\W\d_][^\s'\u2019]{0,30}(?:\s[^\W\d_][^\s'\u2019]{0,30}){0,2}['\u2019]s?)"
_REMINDER_WORDS = re.compile(
    rf"reminder of {_WHOSE} appointment|reply c to confirm|le recordamos su cita"
    r"|recordamos la cita de|responda c para confirmar"
    rf"|{_WHOSE} appointment at .{{1,80}}? is now\b"
    r"|\bcita (?:de \S.{0,40}? )?en .{1,80}? ahora es el\b"
)
_CHECKIN_WORDS = re.compile(rf"how is {_WHOSE} pain|0 \(none\) to 10|nivel de dolor|del 0 \(nada\)")


@dataclass(frozen=True)
class Reaction:
    """A reaction to one of our texts: how it feels, and which text it quotes."""

    feeling: Feeling
    quote: str


def _plain(text: str) -> str:
    """Lower case without accents, for matching the reaction's wording."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def parse(body: str) -> Reaction | None:
    """The reaction ``body`` is, or None when it is a reply of its own."""
    text = body.strip()
    opening = next((i for i, c in enumerate(text) if c in _OPEN), None)
    if opening is None or opening == 0 or len(text) - opening < 3 or text[-1] not in _CLOSE + "…":
        return None
    head, quote = _plain(text[:opening]), text[opening + 1 :].rstrip(_CLOSE)
    if _REMOVED.match(head):
        return Reaction("removed", quote)
    named = _IPHONE_HEAD.match(head)
    if named:
        return Reaction(_IPHONE[named.group(1)], quote)  # type: ignore[arg-type]
    emoji = _ANDROID_HEAD.match(text[:opening].strip().casefold() + " ")
    if emoji:
        return _emoji_reaction(emoji.group("emoji"), quote)
    return None


def _emoji_reaction(emoji: str, quote: str) -> Reaction | None:
    """An Android reaction; None when the "emoji" is a word (a reply that quotes)."""
    glyphs = {c for c in emoji if unicodedata.category(c) == "So"}
    if not glyphs:
        return None
    for feeling, kinds in (
        ("negative", _NEGATIVE_EMOJI),
        ("laugh", _LAUGH_EMOJI),
        ("question", _QUESTION_EMOJI),
    ):
        if glyphs & kinds:
            return Reaction(feeling, quote)  # type: ignore[arg-type]
    return Reaction("positive", quote)


def quoted(reaction: Reaction, answered: str | None, expecting: Quoted | None) -> Quoted:
    """Which of our texts the reaction quotes: by the words only our texts say, else the
    text the reply answers when the quote is (a cut-short part of) it."""
    quote = _plain(reaction.quote).rstrip("…. ").strip()
    if _REMINDER_WORDS.search(quote):
        return "reminder"
    if _CHECKIN_WORDS.search(quote):
        return "checkin"
    if answered is not None and expecting is not None and quote and quote in _plain(answered):
        return expecting
    return "other"


_QUOTE_LINE = re.compile(r"^\s*>.*$", re.M)


def without_quote(body: str, answered: str | None) -> str:
    """The reply without the text it answers quoted back in it (``>`` lines, or the text
    itself copied in whole)."""
    text = _QUOTE_LINE.sub("", body)
    if answered and len(answered) > 20 and answered.strip() in text:
        text = text.replace(answered.strip(), " ")
    return text.strip() or body.strip()
