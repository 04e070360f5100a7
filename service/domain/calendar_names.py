"""Which client a calendar event is about: the client's calendar name found in its title.

A client's calendar name is saved on the client (``Client.calendar_name``) or, until one
is, its default: the first name and the last initial ("Maria Garcia" -> "Maria G."). Only
the words of the full name that hold a letter count, without the punctuation around them,
and the initial is the first *letter* of the last one, in upper case: "Maria (Gigi)
O'Brien" is "Maria O.", "Ana 2" is "Ana", an emoji is no word. The feed out titles its
events with the same function (``ics_feed.calendar_title``), so the name a practice sees
in its calendar is the name a feed in is matched by.

A practice writes its sessions as "Maria G.", "Massage - Maria G. (follow-up)" or
"maria g": the calendar name is looked for as whole words, case and accents ignored (the
text is folded by ``domain.folding``, as replies are), so "Maria G." is in all three and
"Mariana G." is not "Maria G.".

A saved calendar name is at most ``MAX_LENGTH`` characters and holds at least one letter
or digit (``refusal``), so it always has a word to look for; empty means the default.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from service.domain.folding import fold

WORD = re.compile(r"\w+")
MAX_LENGTH = 100  # Client.calendar_name's column


def _trimmed(word: str) -> str:
    """The word without what is not a letter or digit at either end: "(Gigi)" -> "Gigi"."""
    start, end = 0, len(word)
    while not word[start].isalnum():
        start += 1
    while not word[end - 1].isalnum():
        end -= 1
    return word[start:end]


def _name_words(full_name: str) -> list[str]:
    """The words of a full name that hold a letter, trimmed (composed: "é", never "e"
    and an accent apart, so an initial keeps its accent)."""
    text = unicodedata.normalize("NFC", full_name)
    return [_trimmed(w) for w in text.split() if any(c.isalpha() for c in w)]


def _initial(word: str) -> str:
    """The first letter of ``word``, upper case, with a full stop ("garcía" -> "G.")."""
    letter = next(c for c in word if c.isalpha())
    upper = letter.upper()
    return f"{upper if len(upper) == 1 else letter}."


def default_name(full_name: str) -> str:
    """The calendar name a client has until one is saved: "Maria Garcia" -> "Maria G.";
    a one-word name stays as it is ("Cher"); a name without a letter gives ""."""
    parts = _name_words(full_name)
    if len(parts) < 2:
        return "".join(parts)
    return f"{parts[0]} {_initial(parts[-1])}"


def initials(full_name: str) -> str:
    """The first name's and the last name's initials: "Maria Garcia" -> "M. G.", "Cher"
    -> "C.", a name without a letter ""."""
    parts = _name_words(full_name)
    return " ".join(_initial(w) for w in (parts[:1] + parts[1:][-1:]))


def name_in_use(saved: str | None, full_name: str) -> str:
    """The calendar name feeds are matched by: the saved one, else the default."""
    return saved or default_name(full_name)


def refusal(name: str) -> str | None:
    """Why ``name`` (trimmed, not empty) cannot be saved as a calendar name, or None."""
    if len(name) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if not any(c.isalnum() for c in name):
        return "must hold at least one letter or digit"
    return None


@functools.lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The words of a text, in lower case and without accents: "Lucía P." -> (lucia, p)."""
    return tuple(WORD.findall(fold(text)[0]))


def normalized(text: str) -> str:
    """A title or name as compared: its words joined by one space."""
    return " ".join(words(text))


def _within(found: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Whether ``wanted`` is a run of ``found`` (and not empty)."""
    size = len(wanted)
    return bool(wanted) and any(found[i : i + size] == wanted for i in range(len(found) - size + 1))


def mentions(title: str, name: str) -> bool:
    """Whether the name's words stand, in order and next to each other, in the title."""
    return _within(words(title), words(name))


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
    found = words(title)
    hits = tuple(sorted(cid for cid, name in names.items() if _within(found, words(name))))
    return Match(hits[0] if len(hits) == 1 else None, hits)
