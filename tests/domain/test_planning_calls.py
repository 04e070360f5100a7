"""Planning calls: the texts' offsets and wording, keys of their own, and quiet hours that
also keep out the hours calls may not ring."""

from dataclasses import replace
from datetime import time, timedelta

import pytest

from service.domain.call_retries import may_call, quiet_for_calls
from service.domain.planning import plan_appointment
from tests.domain.test_planning import ALICE, NY, SETTINGS, appointment, ny

CALLED = replace(ALICE, channel="voice")
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("quiet", "for_calls"),
    [
        ((time(21, 0), time(8, 0)), (time(20, 0), time(9, 0))),  # inside call hours' night
        ((time(19, 0), time(10, 0)), (time(19, 0), time(10, 0))),  # wider: theirs
        ((time(19, 0), time(23, 0)), (time(19, 0), time(9, 0))),  # joined across 20:00
        ((time(6, 0), time(10, 0)), (time(20, 0), time(10, 0))),  # joined across 9:00
        ((time(8, 0), time(8, 0)), (time(20, 0), time(9, 0))),  # no quiet hours
        ((time(12, 0), time(13, 0)), (time(20, 0), time(9, 0))),  # midday: left to sending
        ((time(1, 0), time(23, 0)), (time(20, 0), time(9, 0))),  # no time left: sending skips
        ((time(9, 30), time(9, 0)), (time(9, 30), time(9, 0))),  # half an hour a day
    ],
)
def test_quiet_hours_for_calls_join_call_hours_night(
    quiet: tuple[time, time], for_calls: tuple[time, time]
) -> None:
    assert quiet_for_calls(quiet) == for_calls


def test_a_call_is_planned_at_the_texts_times_under_its_own_key() -> None:
    start = ny(2027, 3, 11, 11)  # Thursday 11:00
    facts = appointment(start, recipients=(ALICE, replace(CALLED, contact_id=8)))
    texts, calls = [], []
    for m in plan_appointment(facts, SETTINGS, ny(2027, 3, 1)):
        (calls if m.channel == "voice" else texts).append(m)
    assert [(m.kind, m.send_at, m.body) for m in calls] == [
        (m.kind, m.send_at, m.body) for m in texts
    ]
    assert all(m.key.endswith(":voice") for m in calls)
    assert not any(m.key.endswith(":voice") for m in texts)


def test_a_reminder_call_due_at_night_rings_before_call_hours_end() -> None:
    rules = replace(SETTINGS, reminder_offsets=(2 * H,))
    facts = appointment(ny(2027, 3, 11, 9), recipients=(ALICE, replace(CALLED, contact_id=8)))
    planned = plan_appointment(facts, rules, ny(2027, 3, 1))
    reminders = {m.channel: m for m in planned if m.kind == "reminder"}
    text, call = reminders["sms"], reminders["voice"]
    assert (text.send_at, call.send_at) == (ny(2027, 3, 10, 20, 59), ny(2027, 3, 10, 19, 59))
    assert may_call(call.send_at, NY, (SETTINGS.quiet_start, SETTINGS.quiet_end))


def test_a_check_in_call_due_early_waits_for_call_hours() -> None:
    rules = replace(SETTINGS, checkin_offsets=(12 * H,))
    facts = appointment(ny(2027, 3, 11, 19), recipients=(CALLED,))  # ends 20:00, asks 8:00
    [call] = [m for m in plan_appointment(facts, rules, ny(2027, 3, 1)) if m.kind == "checkin"]
    assert call.send_at == ny(2027, 3, 12, 9)
