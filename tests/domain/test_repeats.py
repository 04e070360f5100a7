"""A re-plan does not repeat a text of the session that already went (``domain.repeats``)."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.domain.planning import AppointmentFacts, PlanSettings, Recipient, plan_appointment
from service.domain.repeats import Went

NY = ZoneInfo("America/New_York")
H, D = timedelta(hours=1), timedelta(days=1)
AUTO = PlanSettings(
    reminder_offsets=(24 * H,),
    checkin_offsets="auto",
    quiet_start=time(21, 0),
    quiet_end=time(8, 0),
    practice_name="Eastside Clinic",
)
FIXED = replace(AUTO, checkin_offsets=(24 * H, 72 * H))
ALICE = Recipient(contact_id=7, phone="+15551230007", reminders=True, checkins=True)
BOB = Recipient(contact_id=8, phone="+15551230008", reminders=True, checkins=True)


def ny(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant given as New York wall-clock time in 2027."""
    return datetime(2027, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


START = ny(3, 2, 10)  # a Tuesday, 10:00-11:00
WEEK_ON = ny(3, 9, 10)  # the next weekly session
SATURDAY = ny(3, 6, 18)  # a next session booked sooner


def key(kind: str, name: str, contact: int = 7, start: datetime = START) -> str:
    return f"{kind}:41:{contact}:{name}:{int(start.timestamp())}"


def went(kind: str, name: str, at: datetime, contact: int = 7, start: datetime = START) -> Went:
    """A text of the session that went out at ``at``."""
    return Went(key(kind, name, contact, start), kind, contact, at, start)


def fates(
    settings: PlanSettings, now: datetime, gone: tuple[Went, ...], **changes: object
) -> dict[tuple[int, str], str]:
    """(contact, name in the key) -> status of the session's texts, planned at ``now``."""
    facts = AppointmentFacts(
        id=41,
        starts_at=START,
        ends_at=START + H,
        status="completed",
        timezone="America/New_York",
        language="en",
        client_name="Alice Moreno",
        recipients=(ALICE, BOB),
        next_start=WEEK_ON,
        went=gone,
    )
    planned = plan_appointment(replace(facts, **changes), settings, now)  # type: ignore[arg-type]
    return {(m.contact_id, m.key.split(":")[3]): m.status for m in planned}


CASES = [
    # A next session booked sooner: the day-before ask falls on the day the middle one went.
    (
        AUTO,
        ny(3, 5, 12),
        (went("checkin", "auto-middle", ny(3, 5, 11)),),
        {"next_start": SATURDAY},
        {(7, "auto-before"): "skipped", (8, "auto-before"): "planned"},
    ),
    # Fixed to automatic: the 24 h check-in went this morning, the after ask would go now.
    (
        AUTO,
        ny(3, 3, 12),
        (went("checkin", "86400", ny(3, 3, 11)),),
        {},
        {
            (7, "auto-after"): "skipped",
            (7, "auto-middle"): "planned",
            (7, "auto-before"): "planned",
            (8, "auto-after"): "planned",
        },
    ),
    # Automatic to fixed: the after ask went this morning, the 24 h one would go now.
    (
        FIXED,
        ny(3, 3, 12),
        (went("checkin", "auto-after", ny(3, 3, 11)),),
        {},
        {(7, "86400"): "skipped", (7, "259200"): "planned", (8, "86400"): "planned"},
    ),
    # Three went on days 2, 4 and 5 (the client's own days): no fourth in the gap.
    (
        AUTO,
        ny(3, 7, 12),
        tuple(went("checkin", str(d * 86400), ny(3, 2 + d, 11)) for d in (2, 4, 5)),
        {},
        {(7, "auto-before"): "skipped", (8, "auto-before"): "planned"},
    ),
    # Two went: of the two asks still to go, the latest is dropped.
    (
        AUTO,
        ny(3, 4, 12),
        tuple(went("checkin", str(d * 86400), ny(3, 2 + d, 11)) for d in (1, 2)),
        {},
        {(7, "auto-middle"): "planned", (7, "auto-before"): "skipped"},
    ),
    # Fixed check-ins have no limit of three, only one a day.
    (
        replace(FIXED, checkin_offsets=(2 * D, 4 * D, 5 * D)),
        ny(3, 3, 12),
        (
            went("checkin", "auto-after", ny(3, 3, 11)),
            went("checkin", "auto-middle", ny(3, 5, 11)),
        ),
        {},
        {(7, "172800"): "planned", (7, "345600"): "planned", (7, "432000"): "planned"},
    ),
    # Fixed offsets that ask twice a day ask twice a day, before and after the first went;
    (
        replace(FIXED, checkin_offsets=(2 * H, 6 * H)),
        ny(3, 2, 14),
        (went("checkin", "7200", ny(3, 2, 13)),),
        {},
        {(7, "21600"): "planned"},
    ),
    # but one that went under offsets no longer in force still counts.
    (
        replace(FIXED, checkin_offsets=(2 * H, 6 * H)),
        ny(3, 2, 14),
        (went("checkin", "10800", ny(3, 2, 14)),),
        {},
        {(7, "21600"): "skipped"},
    ),
    # The text that went is the plan's own: it is left as the plan has it.
    (
        FIXED,
        ny(3, 3, 10),
        (went("checkin", "86400", ny(3, 3, 11)),),
        {},
        {(7, "86400"): "planned", (7, "259200"): "planned"},
    ),
    # New reminder offsets: the 24 h reminder went, 23 h would follow an hour later.
    (
        replace(FIXED, reminder_offsets=(23 * H, 2 * H)),
        ny(3, 1, 10, 30),
        (went("reminder", "86400", ny(3, 1, 10)),),
        {"status": "scheduled", "next_start": None},
        {(7, "82800"): "skipped", (7, "7200"): "planned", (8, "82800"): "planned"},
    ),
    # Four hours apart is far enough.
    (
        replace(FIXED, reminder_offsets=(20 * H,)),
        ny(3, 1, 10, 30),
        (went("reminder", "86400", ny(3, 1, 10)),),
        {"status": "scheduled", "next_start": None},
        {(7, "72000"): "planned"},
    ),
    # A moved session: what went for its old start does not count.
    (
        replace(FIXED, reminder_offsets=(23 * H,)),
        ny(3, 1, 10, 30),
        (
            went("reminder", "86400", ny(3, 1, 10), start=START + H),
            went("checkin", "86400", ny(3, 1, 10), start=START + H),
        ),
        {"status": "scheduled", "next_start": None},
        {(7, "82800"): "planned"},
    ),
    (
        AUTO,
        ny(3, 3, 12),
        (went("checkin", "86400", ny(3, 3, 11), start=START - D),),
        {},
        {(7, "auto-after"): "planned"},
    ),
]


@pytest.mark.parametrize(("settings", "now", "gone", "changes", "expected"), CASES)
def test_a_text_that_would_repeat_one_that_went_is_skipped(
    settings: PlanSettings,
    now: datetime,
    gone: tuple[Went, ...],
    changes: dict[str, object],
    expected: dict[tuple[int, str], str],
) -> None:
    found = fates(settings, now, gone, **changes)
    assert {k: found[k] for k in expected} == expected


@pytest.mark.parametrize(("settings", "now", "gone", "changes", "expected"), CASES)
def test_with_nothing_gone_each_of_those_texts_would_go(
    settings: PlanSettings,
    now: datetime,
    gone: tuple[Went, ...],
    changes: dict[str, object],
    expected: dict[tuple[int, str], str],
) -> None:
    found = fates(settings, now, (), **changes)
    assert {k: found[k] for k in expected} == dict.fromkeys(expected, "planned")
