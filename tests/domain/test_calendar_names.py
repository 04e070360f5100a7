"""Finding the client an event's title names, by calendar name."""

from __future__ import annotations

import pytest

from service.domain.calendar_names import default_name, match, mentions, normalized

CLIENTS = {1: "Maria G.", 2: "Mariana G.", 3: "Lucía P.", 4: "Tom B.", 5: "Tom B"}


@pytest.mark.parametrize(
    ("full", "calendar"),
    [("Maria Garcia", "Maria G."), ("maria de la garcía", "maria G."), ("Cher", "Cher")],
)
def test_the_default_calendar_name_is_first_name_and_last_initial(full: str, calendar: str) -> None:
    assert default_name(full) == calendar


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
