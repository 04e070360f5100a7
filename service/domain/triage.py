"""How the inbox orders its items and says when they came: pure, ``now`` is given.

Items rank by urgency (``vocabulary.INBOX_ORDER``), then newest first. Times are shown in
the practice's zone beside a relative time ("2 h ago"), so the order never looks wrong
because two clients live in different zones.
"""

from __future__ import annotations

from datetime import datetime

from service.domain.vocabulary import INBOX_ORDER

# Rank of each kind: 0 is the most urgent.
RANK: dict[str, int] = {kind: rank for rank, group in enumerate(INBOX_ORDER) for kind in group}


def rank(kind: str) -> int:
    """The urgency rank of an item's kind (0 first); an unknown kind goes last."""
    return RANK.get(kind, len(INBOX_ORDER))


def sort_key(kind: str, created_at: datetime, ident: int) -> tuple[int, float, int]:
    """Sort key for an item: most urgent kind, then newest, then highest id."""
    return (rank(kind), -created_at.timestamp(), -ident)


def ago(at: datetime, now: datetime) -> str:
    """How long ago ``at`` was, in the largest whole unit: "just now", "5 min ago",
    "2 h ago", "3 days ago"; a moment in the future reads "just now"."""
    seconds = int((now - at).total_seconds())
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    return "1 day ago" if days == 1 else f"{days} days ago"
