"""The inbox's order and its relative times."""

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.triage import ago, rank, sort_key
from service.domain.vocabulary import INBOX_ORDER, AlertKind

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_every_kind_has_exactly_one_place() -> None:
    placed = [kind for group in INBOX_ORDER for kind in group]
    assert sorted(placed) == sorted(AlertKind)


@pytest.mark.parametrize(
    ("urgent", "less"),
    [
        ("pain", "reschedule"),
        ("reschedule", "unknown_sender"),
        ("unknown_sender", "not_understood"),
        ("not_understood", "delivery_failed"),
        ("not_understood", "invalid_number"),
        ("invalid_number", "relief_gap"),
        ("delivery_failed", "lapsing"),
        ("not_answering", "opt_out"),
    ],
)
def test_the_more_urgent_kind_ranks_first(urgent: str, less: str) -> None:
    assert rank(urgent) < rank(less)


def test_urgency_comes_before_age_then_newest_first() -> None:
    items = [
        ("not_understood", NOW, 3),
        ("pain", NOW - timedelta(days=2), 1),
        ("pain", NOW - timedelta(hours=1), 2),
        ("opt_out", NOW, 4),
    ]
    ordered = sorted(items, key=lambda item: sort_key(*item))
    assert [ident for _, _, ident in ordered] == [2, 1, 3, 4]


@pytest.mark.parametrize(
    ("before", "words"),
    [
        (timedelta(seconds=-30), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 min ago"),
        (timedelta(minutes=59, seconds=59), "59 min ago"),
        (timedelta(hours=2, minutes=5), "2 h ago"),
        (timedelta(hours=23, minutes=59), "23 h ago"),
        (timedelta(days=1, hours=3), "1 day ago"),
        (timedelta(days=9), "9 days ago"),
    ],
)
def test_ago_says_the_largest_whole_unit(before: timedelta, words: str) -> None:
    assert ago(NOW - before, NOW) == words
