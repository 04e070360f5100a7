"""The final check before a text leaves, as a table."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest

from service.domain.sending import ContactFacts, SendFacts, backoff, decide

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
QUIET = (time(21, 0), time(8, 0))
START = NOW + timedelta(hours=5)
PHONE = "+16175550123"


def facts(**changes: object) -> SendFacts:
    base: dict[str, object] = {
        "kind": "reminder",
        "send_at": NOW,
        "timezone": "America/New_York",
        "opted_out": False,
        "invalid": False,
        "appointment_status": "scheduled",
        "appointment_start": START,
        "planned_start": START,
        "to_phone": PHONE,
        "contact": ContactFacts(PHONE, reminders=True, checkins=True, channel="sms"),
    }
    return SendFacts(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "now", "action", "reason"),
    [
        ({}, NOW, "send", ""),
        ({"appointment_start": START + timedelta(microseconds=500)}, NOW, "send", ""),
        ({"opted_out": True}, NOW, "skipped", "number opted out"),
        ({"invalid": True}, NOW, "skipped", "number is invalid"),
        ({"appointment_status": "cancelled"}, NOW, "cancelled", "appointment cancelled"),
        ({"appointment_status": "no_show"}, NOW, "cancelled", "appointment cancelled"),
        ({"appointment_status": None}, NOW, "cancelled", "appointment cancelled"),
        ({"appointment_start": START + timedelta(hours=1)}, NOW, "cancelled", "appointment moved"),
        ({"contact": None}, NOW, "cancelled", "contact removed or changed"),
        (
            {"contact": ContactFacts("+16175550199", reminders=True, checkins=True, channel="sms")},
            NOW,
            "cancelled",
            "contact removed or changed",
        ),
        (
            {"contact": ContactFacts(PHONE, reminders=False, checkins=True, channel="sms")},
            NOW,
            "cancelled",
            "contact removed or changed",
        ),
        (
            {
                "kind": "checkin",
                "contact": ContactFacts(PHONE, reminders=True, checkins=False, channel="sms"),
            },
            NOW,
            "cancelled",
            "contact removed or changed",
        ),
        # Texts nobody planned from a contact's wishes go whatever the contact became.
        (
            {"kind": "manual", "contact": None, "appointment_status": None, "planned_start": None},
            NOW,
            "send",
            "",
        ),
        # A client not answering: check-ins and rebooking texts wait; reminders still go.
        ({"kind": "checkin", "not_answering": True}, NOW, "skipped", "paused: not answering"),
        (
            {
                "kind": "nudge",
                "not_answering": True,
                "appointment_status": None,
                "planned_start": None,
            },
            NOW,
            "skipped",
            "paused: not answering",
        ),
        ({"not_answering": True}, NOW, "send", ""),
        (
            {
                "kind": "manual",
                "not_answering": True,
                "appointment_status": None,
                "planned_start": None,
            },
            NOW,
            "send",
            "",
        ),
        ({}, START, "expired", "the appointment has started"),
        ({"kind": "checkin", "send_at": NOW - timedelta(hours=11)}, NOW, "send", ""),
        (
            {"kind": "checkin", "send_at": NOW - timedelta(hours=13)},
            NOW,
            "expired",
            "too late to send",
        ),
        (
            {"kind": "manual", "appointment_status": None, "planned_start": None},
            NOW + timedelta(hours=12),
            "send",
            "",
        ),
        (
            {"kind": "nudge", "appointment_status": None, "planned_start": None},
            NOW + timedelta(hours=12),
            "defer",
            "quiet hours",
        ),
    ],
)
def test_it_decides_from_the_facts_at_the_moment_of_sending(
    changes: dict[str, object], now: datetime, action: str, reason: str
) -> None:
    decision = decide(facts(**changes), now, QUIET)
    assert (decision.action, decision.reason) == (action, reason)


NUDGE = {"kind": "nudge", "appointment_status": None, "planned_start": None}


@pytest.mark.parametrize(
    ("changes", "now", "action", "reason"),
    [
        # Rebooking texts on: an invitation goes, or waits out quiet hours.
        ({**NUDGE, "rebooking_texts": True}, NOW, "send", ""),
        ({**NUDGE, "rebooking_texts": True}, NOW + timedelta(hours=12), "defer", "quiet hours"),
        # Turned off since it was queued: called off at once, whatever the hour.
        ({**NUDGE, "rebooking_texts": False}, NOW, "cancelled", "rebooking texts turned off"),
        (
            {**NUDGE, "rebooking_texts": False},
            NOW + timedelta(hours=12),
            "cancelled",
            "rebooking texts turned off",
        ),
        # An opted-out number is skipped for that reason first.
        (
            {**NUDGE, "rebooking_texts": False, "opted_out": True},
            NOW,
            "skipped",
            "number opted out",
        ),
        # The setting holds back rebooking texts only.
        ({"rebooking_texts": False}, NOW, "send", ""),
        ({"kind": "checkin", "rebooking_texts": False}, NOW, "send", ""),
        ({**NUDGE, "kind": "manual", "rebooking_texts": False}, NOW, "send", ""),
    ],
)
def test_a_rebooking_text_goes_only_while_rebooking_texts_are_on(
    changes: dict[str, object], now: datetime, action: str, reason: str
) -> None:
    decision = decide(facts(**changes), now, QUIET)
    assert (decision.action, decision.reason) == (action, reason)


def test_inside_quiet_hours_a_reminder_waits_until_morning_if_still_before_the_start() -> None:
    late_evening = datetime(2027, 3, 4, 3, 0, tzinfo=UTC)  # 22:00 in New York
    start = datetime(2027, 3, 4, 15, 0, tzinfo=UTC)  # 10:00 next morning
    decision = decide(facts(appointment_start=start, planned_start=start), late_evening, QUIET)
    assert (decision.action, decision.until) == ("defer", datetime(2027, 3, 4, 13, 0, tzinfo=UTC))


def test_a_reminder_whose_session_begins_before_quiet_hours_end_expires() -> None:
    late_evening = datetime(2027, 3, 4, 3, 0, tzinfo=UTC)
    start = datetime(2027, 3, 4, 12, 30, tzinfo=UTC)  # 07:30 next morning
    decision = decide(facts(appointment_start=start, planned_start=start), late_evening, QUIET)
    assert decision.action == "expired"


@pytest.mark.parametrize(
    ("attempts", "low", "high"), [(1, 15, 30), (2, 30, 60), (3, 60, 120), (20, 1800, 3600)]
)
def test_backoff_grows_exponentially_with_jitter_and_a_cap(
    attempts: int, low: float, high: float
) -> None:
    rng = random.Random(3)
    waits = {backoff(attempts, rng).total_seconds() for _ in range(50)}
    assert all(low <= w <= high for w in waits)
    assert len(waits) > 1
