"""Two-step sign-in codes, as rules: what a typed code is, which 30-second step a code
matches, and how recovery codes are written.

A code from an authenticator app (RFC 6238) belongs to one 30-second step of the clock. One
step of drift either way is accepted, for a phone whose clock is a little off or a code typed
as it changed. A step once used is never accepted again, nor any step before it, so a code
seen over someone's shoulder is worth nothing once its owner has signed in.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

STEP_SECONDS = 30
DRIFT_STEPS = 1
DIGITS = 6
# Recovery codes: no 0/o, 1/l/i, so one read aloud or copied from paper is read right.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_LENGTH = 10
RECOVERY_COUNT = 10
UNREADABLE = "Enter the 6 digits from your app, or one of your recovery codes."
_SEPARATORS = str.maketrans("", "", " -\t")

TOTP = "totp"
RECOVERY = "recovery_code"


@dataclass(frozen=True)
class TypedCode:
    """What someone typed at the code step, read: an app's code or a recovery code."""

    kind: str  # TOTP or RECOVERY
    value: str  # six digits, or the recovery code in its plain form (ten letters and digits)


def read_code(raw: str) -> TypedCode | None:
    """The code typed, without spaces and hyphens and in lower case; None when it is
    neither six digits nor a recovery code's shape."""
    plain = raw.translate(_SEPARATORS).lower()
    if len(plain) == DIGITS and plain.isascii() and plain.isdigit():
        return TypedCode(TOTP, plain)
    if len(plain) == RECOVERY_LENGTH and all(c in RECOVERY_ALPHABET for c in plain):
        return TypedCode(RECOVERY, plain)
    return None


def step_at(seconds: float) -> int:
    """The 30-second step an instant (seconds since the epoch) falls in."""
    return int(seconds // STEP_SECONDS)


def steps_to_try(now_step: int, last_used: int | None) -> list[int]:
    """The steps a code may match now: this one and one either side, none at or before the
    last step used."""
    steps = range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1)
    return [s for s in steps if last_used is None or s > last_used]


def matched_step(typed: str, expected: Mapping[int, str]) -> int | None:
    """The step whose expected code is ``typed`` (each compared in constant time), or None."""
    found = None
    for step, code in sorted(expected.items()):
        if hmac.compare_digest(typed.encode(), code.encode()) and found is None:
            found = step
    return found


def shown_recovery_code(plain: str) -> str:
    """A recovery code as shown to its owner: two groups of five, ``abcde-fghjk``."""
    half = len(plain) // 2
    return f"{plain[:half]}-{plain[half:]}"


def grouped_secret(secret: str) -> str:
    """A base32 secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
