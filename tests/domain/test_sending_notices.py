"""The last check of a move or cancellation notice, as a table: a notice a later change
made untrue never leaves, and one queued in quiet hours waits for their end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.domain.sending import ContactFacts, decide
from tests.domain.test_sending import NOW, PHONE, QUIET, START, facts

MOVE = {"kind": "move_notice"}
CANCEL = {"kind": "cancel_notice", "appointment_status": "cancelled"}
GONE = "contact removed or changed"
NIGHT = NOW + timedelta(hours=11)  # 22:00 in New York


@pytest.mark.parametrize(
    ("changes", "now", "action", "reason"),
    [
        (MOVE, NOW, "send", ""),
        ({**MOVE, "appointment_status": "confirmed"}, NOW, "send", ""),
        ({**MOVE, "appointment_status": "cancelled"}, NOW, "cancelled", "appointment cancelled"),
        ({**MOVE, "appointment_status": None}, NOW, "cancelled", "appointment cancelled"),
        (
            {**MOVE, "appointment_start": START + timedelta(hours=1)},
            NOW,
            "cancelled",
            "appointment moved again",
        ),
        (MOVE, START, "expired", "the appointment has started"),
        (CANCEL, NOW, "send", ""),
        ({**CANCEL, "appointment_status": None}, NOW, "send", ""),
        (
            {**CANCEL, "appointment_status": "scheduled"},
            NOW,
            "cancelled",
            "appointment back on the schedule",
        ),
        (CANCEL, NOW + timedelta(hours=25), "expired", "too late to send"),
        (CANCEL, NIGHT, "defer", "quiet hours"),
        (
            {
                **MOVE,
                "appointment_start": NIGHT + timedelta(days=1),
                "planned_start": NIGHT + timedelta(days=1),
            },
            NIGHT,
            "defer",
            "quiet hours",
        ),
        ({**MOVE, "opted_out": True}, NOW, "skipped", "number opted out"),
        # Only to a contact still there, at that number, getting reminders.
        ({**MOVE, "contact": None}, NOW, "cancelled", GONE),
        ({**CANCEL, "contact": ContactFacts(PHONE, False, True, "sms")}, NOW, "cancelled", GONE),
        (
            {**MOVE, "contact": ContactFacts("+16175550999", True, True, "sms")},
            NOW,
            "cancelled",
            GONE,
        ),
        ({**CANCEL, "contact": ContactFacts(PHONE, True, False, "sms")}, NOW, "send", ""),
    ],
)
def test_a_notice_leaves_only_while_it_is_true(
    changes: dict[str, object], now: object, action: str, reason: str
) -> None:
    decision = decide(facts(**changes), now, QUIET)  # type: ignore[arg-type]
    assert (decision.action, decision.reason) == (action, reason)
