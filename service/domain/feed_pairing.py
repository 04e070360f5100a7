"""Which session that left a calendar feed is the same session under a new key.

Google Calendar's "this and following events" (and some "all events" edits) end the old
series with an UNTIL and carry on under a new UID ("abc_R20270301T150000@google.com"),
perhaps at a new time. Read key by key, every session to come of the old series would be
cancelled and every one of the new series booked: each client told twice, wrongly. So,
within one reading of a feed, a session that left it is paired with a new instance of the
same client on the same local day (in the client's zone), the nearest in time if several:
the session takes the new key and, if the time differs, moves (told as a move).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class Slot:
    """A session as the pairing sees it: ``ref`` names it for the caller (an appointment's
    id, an instance's index), ``zone`` is its client's, where its day is counted."""

    ref: int
    client_id: int
    starts_at: datetime
    zone: tzinfo


def pair(gone: Sequence[Slot], new: Sequence[Slot]) -> dict[int, int]:
    """Each session that left the feed (``gone``) paired with a new instance of the same
    client on the same local day, the nearest start first; each new one used once. By ref:
    gone -> new."""
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for old in sorted(gone, key=lambda s: (s.starts_at, s.ref)):
        day = old.starts_at.astimezone(old.zone).date()
        options = [
            n
            for n in new
            if n.ref not in taken
            and n.client_id == old.client_id
            and n.starts_at.astimezone(old.zone).date() == day
        ]
        if options:
            best = min(options, key=lambda n: (abs(n.starts_at - old.starts_at), n.starts_at))
            pairs[old.ref] = best.ref
            taken.add(best.ref)
    return pairs
