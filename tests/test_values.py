"""Small values read the same way everywhere: ASCII whole numbers and time zone names."""

from __future__ import annotations

import pytest

from service.values import is_time_zone, whole_number


@pytest.mark.parametrize(
    ("raw", "max_digits", "expected"),
    [
        ("0", 9, 0),
        ("42", 9, 42),
        ("007", 9, 7),
        ("123456789", 9, 123456789),
        ("1234567890", 9, None),  # too many digits
        ("", 9, None),
        ("-1", 9, None),
        ("+1", 9, None),
        (" 1", 9, None),
        ("1.0", 9, None),
        ("²", 9, None),  # superscript two: isdigit() is True, int() raises
        ("٣", 9, None),  # Arabic-Indic three: int() would read it as 3
        ("1e3", 9, None),
        ("12", 1, None),
    ],
)
def test_whole_number_accepts_only_ascii_digits(
    raw: str, max_digits: int, expected: int | None
) -> None:
    assert whole_number(raw, max_digits=max_digits) == expected


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("America/New_York", True),
        ("UTC", True),
        ("Europe/Paris", True),
        ("America", False),  # a folder of the zone database
        ("Mars/Base", False),
        ("", False),
        ("../etc/passwd", False),
        ("America/New_York\x00", False),
    ],
)
def test_is_time_zone_knows_iana_names_only(name: str, known: bool) -> None:
    assert is_time_zone(name) is known
