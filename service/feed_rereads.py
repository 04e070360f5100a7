"""Having a therapist's calendar feeds read again, in full, at the clock's next tick.

What places a feed's titles changed (a title linked or ignored, a client's calendar name,
name or therapist, a client added): a feed answering 304 ("not modified") would leave
its newly matching events unbooked until it next changes, so its validators are dropped
and it is made due. Apart from ``calendar_feeds`` so that ``roster`` can call it too.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.feed_models import CalendarFeed


def read_again(session: Session, therapist_id: int | None) -> None:
    """Have the therapist's feeds fetched at the clock's next tick and read in full (no
    304); none for no therapist."""
    read_again_all(session, [therapist_id])


def read_again_all(session: Session, therapist_ids: Iterable[int | None]) -> None:
    """``read_again`` for each of these therapists, in one statement (an import's batch
    names each therapist once, however many clients it adds)."""
    wanted = sorted({t for t in therapist_ids if t is not None})
    if not wanted:
        return
    session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.therapist_id.in_(wanted))
        .values(last_read_at=None, last_fetched_at=None)
        .execution_options(synchronize_session=False)
    )
