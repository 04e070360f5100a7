"""Small values read from people and phones, the same way everywhere: the API, the
dashboard forms, the webhooks and the configuration.

``str.isdigit`` alone is not enough: it accepts '²' and Arabic-Indic digits, which ``int``
then either rejects with a traceback or reads as a number nobody typed.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def whole_number(raw: str, *, max_digits: int = 9) -> int | None:
    """``raw`` as a non-negative int when it is 1 to ``max_digits`` ASCII digits, else None."""
    if raw.isascii() and raw.isdigit() and len(raw) <= max_digits:
        return int(raw)
    return None


def is_time_zone(name: str) -> bool:
    """True when ``name`` is a known IANA time zone such as America/New_York."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, e.g. 'America'
        return False
    return True


# Ids are 32-bit in the database: a larger one names no row.
MAX_ID = 2**31 - 1
