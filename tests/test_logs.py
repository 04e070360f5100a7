"""Logs never show a whole phone number, even inside a database error or a traceback."""

from __future__ import annotations

import logging
import sys

import pytest

from service.logs import RedactingFormatter, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Key (phone)=(+16175550123) already exists.",
            "Key (phone)=(+*******0123) already exists.",
        ),
        ("to 6175550123 failed", "to ******0123 failed"),
        (
            "2026-11-25 10:56:35,513 INFO plan: 14 occurrences",
            "2026-11-25 10:56:35,513 INFO plan: 14 occurrences",
        ),
        ("message 12345 to +*******0123: sent", "message 12345 to +*******0123: sent"),
        ("at 1804172400.5", "at 1804172400.5"),
    ],
)
def test_it_masks_numbers_and_leaves_the_rest(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_traceback_is_masked_too() -> None:
    try:
        raise ValueError("duplicate key: Key (phone)=(+16175550123)")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = RedactingFormatter("%(message)s").format(record)
    assert "+16175550123" not in line and "+*******0123" in line
    assert "\n" not in line and "Traceback" in line  # one event, one line
