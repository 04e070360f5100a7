"""Which client a calendar event is about: the client's calendar name found in its title.

A practice writes its sessions as "Maria G.", "Massage - Maria G. (follow-up)" or
"maria g": the client's calendar name (by default the first name and the last initial) is
looked for as whole words, case and accents ignored, so "Maria G." is in all three and
"Mariana G." is not "Maria G.".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

WORD = re.compile(r"\w+")


def default_name(full_name: str) -> str:
    """The calendar name a client has until one is saved: "Maria Garcia" -> "Maria G."."""
    parts = full_name.split()
    if len(parts) < 2:
        return full_name.strip()
    return f"{parts[0]} {parts[-1][0].upper()}."


def words(text: str) -> tuple[str, ...]:
    """The words of a text, in lower case and without accents: "Lucía P." -> (lucia, p)."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return tuple(WORD.findall(plain))


def normalized(text: str) -> str:
    """A title or name as compared: its words joined by one space."""
    return " ".join(words(text))


def mentions(title: str, name: str) -> bool:
    """Whether the name's words stand, in order and next to each other, in the title."""
    wanted, found = words(name), words(title)
    if not wanted:
        return False
    return any(found[i : i + len(wanted)] == wanted for i in range(len(found) - len(wanted) + 1))


@dataclass(frozen=True)
class Match:
    """Whom a title names: ``client_id`` when exactly one client; otherwise the ids of
    every client it could be (none, or more than one: ``ambiguous``)."""

    client_id: int | None
    candidates: tuple[int, ...]

    @property
    def ambiguous(self) -> bool:
        """More than one client's calendar name is in the title."""
        return len(self.candidates) > 1


def match(title: str, names: Mapping[int, str]) -> Match:
    """The client (id -> calendar name) this title names, if exactly one."""
    found = tuple(sorted(cid for cid, name in names.items() if mentions(title, name)))
    return Match(found[0] if len(found) == 1 else None, found)
