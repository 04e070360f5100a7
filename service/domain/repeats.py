"""What a re-plan must not repeat: the texts of a session that already went.

The plan (``planning``) is made from the facts of the moment, and each text's idempotency
key guards only that text. Facts change after a text went out: a next session booked sooner
moves the day-before ask onto the day a middle ask went; switching between fixed and
automatic check-ins plans asks under new keys beside those sent under the old ones; new
reminder offsets plan a reminder an hour after the one that went. So the plan also looks at
the texts of the session that left us or may be leaving (``LEFT``, ``IN_FLIGHT``: an
undelivered one counts, it may still arrive and a reply may answer it), to each contact
apart, for the session's current start (a moved session's texts name its old time and do
not count), and of what it would still send:

- no check-in on a local day (the client's zone) that already had one; except, with
  fixed offsets, beside one the plan itself still has: offsets such as ``2h,6h`` ask twice a
  day by the practice's choice, and the second must not depend on whether a re-plan ran
  after the first went;
- with automatic check-ins, at most ``sampling.MOST_ASKS`` a gap, those that went included,
  the latest still to go dropped first;
- no reminder within ``sampling.REMINDER_SPACING`` of one that went;
- no call for a text that went, nor a text for a call that went: a contact whose channel
  changed is planned the other message of the same slot (its key with or without
  ``CALL_SUFFIX``), which would say the same thing again.

A text this drops is ``skipped`` with no reason recorded: the planner's own decision, so it
comes back when the facts change again (the session moved, a reminder offset restored).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from service.domain.sampling import REMINDER_SPACING
from service.domain.vocabulary import MessageKind, MessageStatus

# What a call's key has after the key of the text of the same slot (``planning._message``).
CALL_SUFFIX = ":voice"


@dataclass(frozen=True)
class Went:
    """A text of an appointment that left us or may be leaving."""

    key: str
    kind: str
    contact_id: int
    at: datetime  # aware UTC: when it was sent, or (still in flight) when it was due
    planned_start: datetime | None  # the appointment start it was written for


class Text(Protocol):
    """What this rule reads of a planned text (``planning.PlannedMessage``)."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def contact_id(self) -> int: ...
    @property
    def send_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...


def repeated(
    planned: Sequence[Text],
    went: Iterable[Went],
    start: datetime,
    tz: ZoneInfo,
    most_asks: int | None,
) -> set[str]:
    """The keys of the ``planned`` texts (of a session starting at ``start``, the client in
    ``tz``) that would repeat one that ``went``; ``most_asks``: the most check-ins a contact
    may have for the session (None: no limit)."""
    current = [w for w in went if _same_second(w.planned_start, start)]
    gone = {w.key for w in current}
    gone_slots = {_slot(key) for key in gone}
    own = {m.key for m in planned} if most_asks is None else set()  # fixed offsets
    dropped: set[str] = set()
    for contact in {m.contact_id for m in planned}:
        mine = [w for w in current if w.contact_id == contact]
        to_go = [
            m
            for m in planned
            if m.contact_id == contact and m.status == MessageStatus.PLANNED and m.key not in gone
        ]
        checkins = [w for w in mine if w.kind == MessageKind.CHECKIN]
        days = {w.at.astimezone(tz).date() for w in checkins if w.key not in own}
        reminders = [w.at for w in mine if w.kind == MessageKind.REMINDER]
        for message in to_go:
            if _slot(message.key) in gone_slots:  # went by the other channel
                dropped.add(message.key)
            elif message.kind == MessageKind.CHECKIN:
                if message.send_at.astimezone(tz).date() in days:
                    dropped.add(message.key)
            elif any(abs(message.send_at - at) < REMINDER_SPACING for at in reminders):
                dropped.add(message.key)
        if most_asks is not None:
            asks = [m for m in to_go if m.kind == MessageKind.CHECKIN and m.key not in dropped]
            asked = len(checkins)
            room = max(most_asks - asked, 0)
            latest_first = sorted(asks, key=lambda m: (m.send_at, m.key), reverse=True)
            dropped.update(m.key for m in latest_first[: max(len(asks) - room, 0)])
    return dropped


def _slot(key: str) -> str:
    """The key of a text, or of a call, without what tells the channel."""
    return key.removesuffix(CALL_SUFFIX)


def _same_second(planned_start: datetime | None, start: datetime) -> bool:
    """True when a text was written for this start (keys hold starts to the second)."""
    return planned_start is not None and int(planned_start.timestamp()) == int(start.timestamp())
