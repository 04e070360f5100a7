"""Finding the client an event's title names, by calendar name."""

from __future__ import annotations

import pytest

from service.domain.calendar_names import (
    default_name,
    initials,
    match,
    mentions,
    name_in_use,
    normalized,
    refusal,
)

CLIENTS = {1: "Maria G.", 2: "Mariana G.", 3: "Lucía P.", 4: "Tom B.", 5: "Tom B"}


@pytest.mark.parametrize(
    ("full", "calendar", "initial_letters"),
    [
        ("Maria Garcia", "Maria G.", "M. G."),
        ("maria de la garcía", "maria G.", "M. G."),
        ("Élodie Ñúñez", "Élodie Ñ.", "É. Ñ."),
        ("e\u0301lodie n\u0303u\u0301n\u0303ez", "élodie Ñ.", "É. Ñ."),  # decomposed
        ("Sam O'Brien", "Sam O.", "S. O."),
        ("Maria (Gigi) O'Brien", "Maria O.", "M. O."),
        ("'Liam' (Bill) \u2018Nguyen\u2019", "Liam N.", "L. N."),
        ("Anne-Marie Dubois-Leroy", "Anne-Marie D.", "A. D."),
        ("Cher", "Cher", "C."),
        ("  Cher  ", "Cher", "C."),
        ("Ana 2", "Ana", "A."),
        ("Ana 2nd", "Ana N.", "A. N."),  # the first letter, never the digit
        ("Zoë 🌸 Martin 🌸", "Zoë M.", "Z. M."),
        ("🌸Zoë Martin", "Zoë M.", "Z. M."),
        ("Björn ßtraße", "Björn ß.", "B. ß."),  # no one-letter capital: kept as written
        ("", "", ""),
        ("   ", "", ""),
        ("42 -- 7", "", ""),
        ("🌸 🌸", "", ""),
    ],
)
def test_the_default_calendar_name_is_first_name_and_last_initial(
    full: str, calendar: str, initial_letters: str
) -> None:
    assert default_name(full) == calendar
    assert initials(full) == initial_letters


@pytest.mark.parametrize(
    ("saved", "full", "in_use"),
    [
        (None, "Maria Garcia", "Maria G."),
        ("", "Maria Garcia", "Maria G."),
        ("Gigi", "Maria Garcia", "Gigi"),
    ],
)
def test_the_name_in_use_is_the_saved_one_else_the_default(
    saved: str | None, full: str, in_use: str
) -> None:
    assert name_in_use(saved, full) == in_use


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Maria G.", None),
        ("7", None),
        ("Ñ", None),
        ("x" * 100, None),
        ("x" * 101, "must be at most 100 characters"),
        ("--", "must hold at least one letter or digit"),
        ("🌸", "must hold at least one letter or digit"),
        ("_", "must hold at least one letter or digit"),
    ],
)
def test_a_saved_calendar_name_needs_a_letter_or_digit_and_fits(
    name: str, reason: str | None
) -> None:
    assert refusal(name) == reason


@pytest.mark.parametrize(
    ("title", "name", "found"),
    [
        ("Maria G.", "Maria G.", True),
        ("Massage \u2013 Maria G. (follow-up)", "Maria G.", True),
        ("maria g", "Maria G.", True),
        ("MARÍA G.", "Maria G.", True),
        ("Lucia P. 60 min", "Lucía P.", True),
        ("Mariana G.", "Maria G.", False),
        ("Maria Gonzalez", "Maria G.", False),
        ("G. Maria", "Maria G.", False),
        ("Maria", "Maria G.", False),
        ("Annemaria G.", "Maria G.", False),
        ("Maria G.", "", False),
        ("Maria\u200b G.", "Maria G.", True),  # a zero-width space a phone put in
        ("Maria\u00a0G.", "Maria G.", True),
        ("Sam O\u2019Brien", "Sam O'Brien", True),  # curly and straight quotes alike
    ],
)
def test_a_name_is_found_as_whole_words_case_and_accents_ignored(
    title: str, name: str, found: bool
) -> None:
    assert mentions(title, name) is found


@pytest.mark.parametrize(
    ("title", "client_id", "candidates"),
    [
        ("Massage \u2013 Maria G. (follow-up)", 1, (1,)),
        ("Mariana G. deep tissue", 2, (2,)),
        ("Lucia p", 3, (3,)),
        ("Tom B.", None, (4, 5)),  # two clients share the name: the therapist links it
        ("Team meeting", None, ()),
        ("Maria G. and Lucía P.", None, (1, 3)),
    ],
)
def test_a_title_names_one_client_none_or_several(
    title: str, client_id: int | None, candidates: tuple[int, ...]
) -> None:
    found = match(title, CLIENTS)
    assert (found.client_id, found.candidates) == (client_id, candidates)
    assert found.ambiguous is (len(candidates) > 1)


def test_titles_are_compared_normalized() -> None:
    assert normalized("  Massage \u2013 MARÍA  G. ") == "massage maria g"
