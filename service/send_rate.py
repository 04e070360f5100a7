"""SMS_MAX_PER_SECOND and VOICE_MAX_PER_SECOND for the whole deployment: send slots shared
through the database, one row per channel.

Every clock process reserves its sends from one row per channel (``SendSlot``) that holds
the channel's next free slot, as seconds since 1970. A reservation of ``count`` sends is one
atomic statement in a short transaction of its own:

    UPDATE send_slots SET next_at = max(next_at, now) + count * interval ... RETURNING

so however many processes and threads reserve at once, each gets its own consecutive slots,
``interval`` (1 / per second) apart, and together they never send faster than the limit
(virtual scheduling, as in the generic cell rate algorithm). A backlog simply queues: the
slots run on into the future and each sender sleeps until its own. A limiter left idle, or
slots reserved by a clock that then died, need no clean-up: once ``now`` passes ``next_at``
the next reservation starts from ``now``.

Which clock ``now`` is read from matters, because every process compares it with the same
row. It is read by the database, in the reserving statement itself, and returned with the
slots; each process turns the slots into its own ``time.monotonic()`` instants by their
distance from that ``now``. On PostgreSQL the clock processes may run on several hosts
whose clocks disagree, so this is the database server's clock (``clock_timestamp()``): a
host whose clock runs fast or slow neither squeezes its slots in between the others' nor
pushes ``next_at`` into the future for everyone. SQLite is one file on one host, so there
it is simply that host's clock, the one ``time.time()`` reads, to the millisecond; read in
the statement rather than before it, it is not made stale by a wait for SQLite's write lock
(which a send holds while it talks to Twilio).

Texts and calls keep apart: a dispatcher holds one ``SendRate`` per channel (``"sms"`` at
SMS_MAX_PER_SECOND, ``"voice"`` at VOICE_MAX_PER_SECOND, Twilio's calls per second), and a
batch that mixes them takes each message's slot from its own channel (``reserve_each``), so
calls queued behind one call a second never push a text's slot back, and texts never use up
the calls' slots. Each channel's row is made by its first reservation, as the first ever.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.db import Database, insert
from service.models import SendSlot

# The channel's next free slot moves on by ``step`` (count * interval) from itself, or from
# now when it has passed. PostgreSQL reads its clock once, in the one-row FROM, so SET and
# RETURNING see the same instant; SQLite's 'now' is one instant throughout a statement
# (and SQLite's RETURNING may not name a FROM table).
TAKE_POSTGRESQL = """
UPDATE send_slots SET next_at = greatest(next_at, clock.now) + :step
FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS now) AS clock
WHERE channel = :channel RETURNING next_at, clock.now
"""
SQLITE_NOW = "(julianday('now') - 2440587.5) * 86400.0"  # seconds since 1970, to the ms
TAKE_SQLITE = f"""
UPDATE send_slots SET next_at = max(next_at, {SQLITE_NOW}) + :step
WHERE channel = :channel RETURNING next_at, {SQLITE_NOW}
"""


class SendRate:
    """At most ``per_second`` sends per second on ``channel`` across every clock process;
    no limit (and no database access) when ``per_second`` is None."""

    def __init__(self, db: Database, per_second: float | None, channel: str = "sms") -> None:
        self.db, self.channel = db, channel
        self.postgres = db.dialect == "postgresql"
        self.interval = 1.0 / per_second if per_second else 0.0

    def wait(self) -> None:
        """Block until this process may make its next send."""
        (start,) = self.reserve(1)
        delay = start - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def reserve(self, count: int, within: Session | None = None) -> list[float]:
        """Reserve the next ``count`` consecutive send slots of the channel; the
        ``time.monotonic()`` instant at which each of the ``count`` sends may start.

        Each reservation is its own short transaction, or with ``within``, a statement of
        that session's transaction: on SQLite, a batch that holds the single write lock
        must reserve through it (another connection would wait for that very lock, for
        the whole busy timeout, and fail with "database is locked"). The row must exist.
        Should that transaction roll back after its sends began (an unexpected failure),
        the slots go back with it and may be handed out again: rare, and once.
        """
        if not self.interval or count <= 0:
            return [time.monotonic()] * max(count, 0)
        taken = self._take(count, within)
        if taken is None and within is None:  # the channel's first send ever
            self._add_row()
            taken = self._take(count, None)
        if taken is None:
            raise RuntimeError(f"no send slot row for channel {self.channel!r}")
        next_at, now, local = taken
        first = next_at - count * self.interval
        return [local + (first + i * self.interval - now) for i in range(count)]

    def _take(self, count: int, within: Session | None) -> tuple[float, float, float] | None:
        """Move the row's next free slot on by ``count`` slots; (its new value, the shared
        clock's now, the local monotonic instant of that now), or None without a row."""
        statement = TAKE_POSTGRESQL if self.postgres else TAKE_SQLITE
        params = {"channel": self.channel, "step": count * self.interval}
        if within is not None:
            row = within.execute(text(statement), params).one_or_none()
            return None if row is None else (float(row[0]), float(row[1]), time.monotonic())
        with self.db.session() as session:
            if self.postgres:
                # Its commit need not wait for the disk, so the row is locked a fraction of
                # the time (2 to 3 times as many reservations a second on the test machine,
                # over 1,000 from 8 threads). A crash of the database may forget the last
                # few reservations: the first sends after its restart reuse those slots.
                session.execute(text("SET LOCAL synchronous_commit TO off"))
            row = session.execute(text(statement), params).one_or_none()
            # The statement read the clock a moment ago: counting the slots from this
            # instant errs on the side of waiting a little longer.
            local = time.monotonic()
            session.commit()
        if row is None:
            return None
        return float(row[0]), float(row[1]), local

    def _add_row(self) -> None:
        """Create the channel's row, slot free now; a concurrent creator's row wins."""
        with self.db.session() as session:
            statement = insert(session, SendSlot).values(channel=self.channel, next_at=0.0)
            session.execute(statement.on_conflict_do_nothing(index_elements=["channel"]))
            session.commit()


def reserve_each(limits: Mapping[str, SendRate], channels: Iterable[str]) -> dict[str, list[float]]:
    """The slots of a batch of sends on several channels, each channel's from its own limiter
    (one reservation a channel): the ``time.monotonic()`` instants of each channel's sends."""
    return {channel: limits[channel].reserve(n) for channel, n in Counter(channels).items()}


def in_time(
    limit: SendRate, slots: Sequence[float], count: int, within: Session | None = None
) -> list[float]:
    """The first ``count`` of a channel's ``slots``, or ``count`` fresh ones (reserved
    ``within`` that session, if given) when the first slot passed more than one interval
    ago: the sends would otherwise go out together to catch up with the slots that passed,
    faster than the rate."""
    if count and limit.interval and time.monotonic() > slots[0] + limit.interval:
        return limit.reserve(count, within)
    return list(slots[:count])


def in_time_each(
    limits: Mapping[str, SendRate],
    channels: Sequence[str],
    slots: Mapping[str, Sequence[float]],
    within: Session | None = None,
) -> list[float]:
    """The slot of each of the sends on ``channels``, in order: its channel's ``slots``
    taken in turn, or fresh ones for a channel whose first slot passed (``in_time``)."""
    each = {
        channel: iter(in_time(limits[channel], slots[channel], count, within))
        for channel, count in Counter(channels).items()
    }
    return [next(each[channel]) for channel in channels]
