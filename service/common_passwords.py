"""The shipped list of the 10,000 most common passwords, and the password rules applied with it.

The list is ``service/data/common_passwords.txt`` (its header names where it comes from);
it is read once per process.
"""

from __future__ import annotations

import functools
from importlib import resources

from service.domain import passwords

LIST = "data/common_passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """Every password on the shipped list, in lowercase."""
    text = resources.files("service").joinpath(LIST).read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line and not line.startswith("#")
    )


def problem_for(password: str, *, email: str, name: str) -> str | None:
    """Why ``password`` cannot be the password of this account, or None when it can."""
    return passwords.problem(password, email=email, name=name, common=common_passwords())
