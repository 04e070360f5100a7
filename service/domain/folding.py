"""Text folded for matching: one form for every way a phone can write the same words.

Pure. NFKD, case-folded, accents, emoji modifiers and keycaps dropped, curly quotes made
straight, whitespace collapsed; each folded character remembers which character of the
original it came from, so that notes can keep the client's own words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "🔟": "10"})
SEPARATORS = " \t\r\n,.;:!?-/"


def words(spaced: str) -> frozenset[str]:
    """The set of the space-separated words given (word lists kept readable)."""
    return frozenset(spaced.split())


def fold(body: str) -> tuple[str, list[int]]:
    """Return the text folded for matching and, per folded char, the index of its source char."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(body):
        category = unicodedata.category(char)
        if category == "Cf":  # zero-width joiners, direction marks
            continue
        piece = " " if category == "Cc" or char.isspace() else char.translate(QUOTES)
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


def rest(body: str, origin: list[int], start: int, end: int) -> str | None:
    """Return the original text around a folded span, or None when nothing worded is left."""
    left, right = body[: origin[start]], body[origin[end - 1] + 1 :]
    note = " ".join(p for p in (left.rstrip(SEPARATORS), right.lstrip(SEPARATORS)) if p)
    note = note.strip()
    return note if any(char.isalnum() for char in note) else None


_TOKEN = re.compile(r"[^\W_]+")


def respell(
    folded: str, origin: list[int], spelling: Callable[[str], str | None]
) -> tuple[str, list[int]]:
    """Replace the words ``spelling`` knows a better spelling of (a typo of a number word,
    say), keeping each new character pointed at the original word."""
    out: list[str] = []
    where: list[int] = []
    last = 0
    for match in _TOKEN.finditer(folded):
        better = spelling(match.group())
        if better is None or better == match.group():
            continue
        out.append(folded[last : match.start()])
        where.extend(origin[last : match.start()])
        span = origin[match.start() : match.end()]
        out.append(better)
        where.extend(span[min(i, len(span) - 1)] for i in range(len(better)))
        last = match.end()
    out.append(folded[last:])
    where.extend(origin[last:])
    return "".join(out), where
