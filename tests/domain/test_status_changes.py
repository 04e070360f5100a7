"""The appointment status table: what each status may become, before and after the start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.status_changes import new_status_refusal, next_statuses, refusal

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)
EARLIER = NOW - timedelta(hours=2)
ALL = ("scheduled", "confirmed", "cancelled", "no_show", "completed")


@pytest.mark.parametrize(
    ("current", "starts_at", "allowed"),
    [
        ("scheduled", LATER, {"confirmed", "cancelled"}),
        ("scheduled", EARLIER, {"completed", "no_show", "cancelled"}),
        ("confirmed", LATER, {"cancelled"}),
        ("confirmed", EARLIER, {"completed", "no_show", "cancelled"}),
        ("cancelled", LATER, {"scheduled"}),
        ("cancelled", EARLIER, {"scheduled"}),
        ("no_show", EARLIER, {"scheduled"}),
        ("completed", EARLIER, set()),
        ("completed", LATER, set()),
    ],
)
def test_each_status_may_become_only_what_its_buttons_offer(
    current: str, starts_at: datetime, allowed: set[str]
) -> None:
    assert set(next_statuses(current, starts_at, NOW)) == allowed
    for wanted in ALL:
        refused = refusal(current, wanted, starts_at, NOW)
        assert (refused is None) is (wanted in allowed or wanted == current), wanted


def test_a_future_session_cannot_be_done_and_says_why() -> None:
    assert refusal("scheduled", "completed", LATER, NOW) == (
        "a session that has not started cannot be done or a no-show yet"
    )
    assert refusal("completed", "confirmed", EARLIER, NOW) == (
        "a completed appointment cannot become confirmed"
    )


@pytest.mark.parametrize(
    ("status", "starts_at", "refused"),
    [
        ("scheduled", LATER, False),
        ("confirmed", LATER, False),
        ("completed", EARLIER, False),  # history: a past session recorded as done
        ("no_show", EARLIER, False),
        ("completed", LATER, True),
        ("no_show", LATER, True),
        ("cancelled", LATER, False),
    ],
)
def test_a_new_appointment_may_be_booked_done_only_in_the_past(
    status: str, starts_at: datetime, refused: bool
) -> None:
    assert (new_status_refusal(status, starts_at, NOW) is not None) is refused
