"""Pairing the sessions that left a feed with new instances of the same client and day."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from service.domain.feed_pairing import Slot, pair

NY = ZoneInfo("America/New_York")


def at(day: int, hour: int) -> datetime:
    return datetime(2027, 3, day, hour, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("gone", "new", "expected"),
    [
        # the same day and client, moved an hour: paired
        ([Slot(1, 7, at(2, 15), NY)], [Slot(10, 7, at(2, 16), NY)], {1: 10}),
        # another client the same day: not paired
        ([Slot(1, 7, at(2, 15), NY)], [Slot(10, 8, at(2, 15), NY)], {}),
        # another day: not paired
        ([Slot(1, 7, at(2, 15), NY)], [Slot(10, 7, at(3, 15), NY)], {}),
        # 23:30 New York is the next day in UTC, but the same local day: paired
        (
            [Slot(1, 7, at(2, 15), NY)],
            [Slot(10, 7, datetime(2027, 3, 3, 4, 30, tzinfo=UTC), NY)],
            {1: 10},
        ),
        # two on that day: the nearest start
        (
            [Slot(1, 7, at(2, 15), NY)],
            [Slot(10, 7, at(2, 20), NY), Slot(11, 7, at(2, 16), NY)],
            {1: 11},
        ),
        # two gone, two new: each new used once
        (
            [Slot(1, 7, at(2, 15), NY), Slot(2, 7, at(2, 18), NY)],
            [Slot(10, 7, at(2, 15), NY), Slot(11, 7, at(2, 19), NY)],
            {1: 10, 2: 11},
        ),
        # two gone, one new: the earlier gone session takes it, the other is not paired
        (
            [Slot(1, 7, at(2, 14), NY), Slot(2, 7, at(2, 18), NY)],
            [Slot(10, 7, at(2, 17), NY)],
            {1: 10},
        ),
    ],
)
def test_a_gone_session_pairs_with_a_new_instance_of_its_client_and_local_day(
    gone: list[Slot], new: list[Slot], expected: dict[int, int]
) -> None:
    assert pair(gone, new) == expected
