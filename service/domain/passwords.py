"""What makes a password acceptable (NIST SP 800-63B), and what a texted reset code looks like.

No composition rules ("a digit and a symbol"): length, and not being a password an attacker
tries first, are what resist guessing. The rules apply when a password is set; a password
set before them keeps working until it is changed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set

MIN_LENGTH = 12
# Long enough for any passphrase; short enough that hashing it costs nothing noticeable.
MAX_LENGTH = 1000
CODE_DIGITS = 6
_CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")


def length_of(password: str) -> int:
    """How many characters a person typed: "é" is one, whether sent composed or not."""
    return len(unicodedata.normalize("NFC", password))


def problem(password: str, *, email: str, name: str, common: Set[str]) -> str | None:
    """Why ``password`` cannot be the password of the account with this email and name, or
    None when it can. ``common`` holds the most common passwords, in lowercase."""
    length = length_of(password)
    if length > MAX_LENGTH:
        return f"At most {MAX_LENGTH:,} characters; this one has {length:,}."
    if password and not password.strip():
        return "Not only spaces: use words or characters you can see."
    if length < MIN_LENGTH:
        return f"At least {MIN_LENGTH} characters; a short sentence is easiest to remember."
    folded = password.strip().casefold()
    if folded in common:
        return (
            "This password is one of the 10,000 most common passwords, which are tried first;"
            " choose another."
        )
    address = email.strip().casefold()
    personal = {address, address.partition("@")[0], name.strip().casefold()}
    if folded in personal - {""}:
        return "Not your email or name: choose something others cannot guess from them."
    return None


def code_problem(code: str) -> str | None:
    """Why ``code`` (spaces removed) cannot be a texted reset code, or None when it can."""
    if _CODE.fullmatch(code) is None:
        return f"The code is the {CODE_DIGITS} digits in the text."
    return None


def without_spaces(code: str) -> str:
    """A typed code without the spaces people put in to read it ("123 456")."""
    return "".join(code.split())[: CODE_DIGITS * 4]
