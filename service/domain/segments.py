"""How many SMS segments a text takes: GSM-7 when every character has a GSM-7 code,
else UCS-2. Pure; ``service/static/text_box.js`` counts the same way as you type, and a
browser test checks the two agree on a table of strings.

GSM-7 fits 160 characters in one segment and 153 in each of several (the rest carries the
joining header); the extension characters (``{ } [ ] ~ \\ | ^ €`` and form feed) take two.
UCS-2 fits 70 UTF-16 code units in one segment and 67 in each of several; an emoji takes
two units. Characters are counted as the user sees them typed: UTF-16 code units, like a
browser's ``maxlength`` and ``String.length``.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = "^{}\\[~]|€\f"


@dataclass(frozen=True)
class Count:
    """A text's length in characters (UTF-16 units) and in SMS segments, and its encoding."""

    characters: int
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"


def count(text: str) -> Count:
    """The characters, segments and encoding of ``text`` (an empty text is 0 segments)."""
    characters = len(text.encode("utf-16-le")) // 2
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        return Count(characters, _segments(units, 160, 153), "GSM-7")
    return Count(characters, _segments(characters, 70, 67), "UCS-2")


def _segments(units: int, single: int, each: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else -(-units // each)
