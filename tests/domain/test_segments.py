"""Counting characters and SMS segments, GSM-7 against UCS-2."""

import pytest

from service.domain.segments import count

# (text, characters, segments, encoding); tests/browser/test_inbox.py checks the text
# box's script counts this same table the same way.
TABLE = [
    ("", 0, 0, "GSM-7"),
    ("See you at 3!", 13, 1, "GSM-7"),
    ("a" * 160, 160, 1, "GSM-7"),
    ("a" * 161, 161, 2, "GSM-7"),
    ("a" * 306, 306, 2, "GSM-7"),
    ("a" * 307, 307, 3, "GSM-7"),
    ("{" * 80, 80, 1, "GSM-7"),  # extension characters take two
    ("{" * 81, 81, 2, "GSM-7"),
    ("Café à 10€", 10, 1, "GSM-7"),
    ("C:\\path ~ [x] ^|", 16, 1, "GSM-7"),
    ("\\" * 80 + "a", 81, 2, "GSM-7"),
    ("¿Mañana a las 3?", 16, 1, "GSM-7"),
    ("Cita confirmada ✓", 17, 1, "UCS-2"),
    ("ó" * 70, 70, 1, "UCS-2"),  # ó is not in GSM-7 (ò is)
    ("ó" * 71, 71, 2, "UCS-2"),
    ("Thanks 👍", 9, 1, "UCS-2"),  # an emoji is two UTF-16 units
    ("👍" * 35, 70, 1, "UCS-2"),
    ("👍" * 36, 72, 2, "UCS-2"),
    ("x" * 640, 640, 5, "GSM-7"),
]


@pytest.mark.parametrize(("text", "characters", "segments", "encoding"), TABLE)
def test_count(text: str, characters: int, segments: int, encoding: str) -> None:
    counted = count(text)
    assert (counted.characters, counted.segments, counted.encoding) == (
        characters,
        segments,
        encoding,
    )
