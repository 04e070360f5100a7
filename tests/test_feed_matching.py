"""Placing a feed's titles: a linked title first, an ignored one nowhere, else the names."""

from __future__ import annotations

import pytest

from service.feed_matching import Titles

TITLES = Titles(
    names={1: "Maria G.", 2: "Maria G.", 3: "Tom B."},
    ignored={"team meeting"},
    linked={"massage maria g": 1},
)


@pytest.mark.parametrize(
    ("title", "placed"),
    [
        ("Massage - María G.", (1, (1,))),  # linked: Maria Garcia's, however ambiguous
        ("Maria G.", (None, (1, 2))),  # not linked: both Marias
        ("Tom B. (follow-up)", (3, (3,))),
        ("Team Meeting", None),  # ignored
        ("Lunch", (None, ())),
    ],
)
def test_a_title_is_placed_by_its_link_then_its_calendar_names(
    title: str, placed: tuple[int | None, tuple[int, ...]] | None
) -> None:
    found = TITLES.place(title)
    assert (None if found is None else (found.client_id, found.candidates)) == placed
