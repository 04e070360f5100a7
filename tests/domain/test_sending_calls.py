"""The final check judges a call by its number's consent to calls, and a text by its consent
to texts: STOP by text does not stop calls, pressing 9 does not stop texts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from service.domain import call_permission
from service.domain.provider_errors import explain
from service.domain.sending import SendFacts, decide
from tests.domain.test_sending import NOW, QUIET
from tests.domain.test_sending import facts as text_facts

AGREED = NOW - timedelta(days=2)
LANDLINE = explain(30006)[:200]


def facts(**changes: object) -> SendFacts:
    """``test_sending``'s facts of a reminder, as a call to a number that agreed to calls."""
    return text_facts(**{"channel": "voice", "voice_consent_at": AGREED, **changes})


@pytest.mark.parametrize(
    ("changes", "action", "reason"),
    [
        ({}, "send", ""),
        ({"opted_out": True}, "send", ""),  # STOP by text does not stop calls
        ({"voice_consent_at": None}, "skipped", "calls not agreed"),
        ({"voice_opted_out_at": NOW - timedelta(hours=1)}, "skipped", "calls stopped"),
        # Agreed again after pressing 9: calls start again.
        ({"voice_opted_out_at": AGREED - timedelta(days=1)}, "send", ""),
        # Withdrawn after a stop: not agreed.
        ({"voice_consent_at": None, "voice_opted_out_at": AGREED}, "skipped", "calls not agreed"),
        ({"invalid": True, "invalid_reason": "not a number"}, "skipped", "number is invalid"),
        ({"invalid": True, "invalid_reason": LANDLINE}, "send", ""),  # a landline takes calls
        # Consent first, then what the call is for.
        ({"voice_consent_at": None, "contact": None}, "skipped", "calls not agreed"),
        ({"appointment_status": "cancelled"}, "cancelled", "appointment cancelled"),
    ],
)
def test_a_call_is_judged_by_its_numbers_consent_to_calls(
    changes: dict[str, object], action: str, reason: str
) -> None:
    decision = decide(facts(**changes), NOW, QUIET)
    assert (decision.action, decision.reason) == (action, reason)


@pytest.mark.parametrize(
    ("changes", "action", "reason"),
    [
        ({"voice_consent_at": None}, "send", ""),
        ({"voice_opted_out_at": NOW - timedelta(hours=1)}, "send", ""),  # 9 does not stop texts
        ({"opted_out": True}, "skipped", "number opted out"),
        ({"invalid": True, "invalid_reason": LANDLINE}, "skipped", "number is invalid"),
    ],
)
def test_a_text_ignores_consent_to_calls(
    changes: dict[str, object], action: str, reason: str
) -> None:
    decision = decide(facts(channel="sms", **changes), NOW, QUIET)
    assert (decision.action, decision.reason) == (action, reason)


@pytest.mark.parametrize(
    ("consent_at", "stopped_at", "invalid", "reason", "refusal"),
    [
        (None, None, False, None, call_permission.NOT_AGREED),
        (AGREED, None, False, None, None),
        (AGREED, AGREED, False, None, call_permission.STOPPED),  # a stop at the same moment
        (AGREED, AGREED + timedelta(seconds=1), False, None, call_permission.STOPPED),
        (AGREED, AGREED - timedelta(seconds=1), False, None, None),
        (AGREED, None, True, LANDLINE, None),
        *((AGREED, None, True, explain(code)[:200], None) for code in (21407, 21612, 21614)),
        *((AGREED, None, True, explain(code)[:200], None) for code in (21635, 30006)),
        (AGREED, None, True, explain(21211)[:200], call_permission.INVALID),  # no such number
        (AGREED, None, True, explain(30005)[:200], call_permission.INVALID),
        (AGREED, None, True, None, call_permission.INVALID),
    ],
)
def test_the_reason_a_number_may_not_get_calls(
    consent_at: datetime | None,
    stopped_at: datetime | None,
    invalid: bool,
    reason: str | None,
    refusal: str | None,
) -> None:
    assert call_permission.refusal(consent_at, stopped_at, invalid, reason) == refusal
    assert call_permission.may_call(consent_at, stopped_at, invalid, reason) is (refusal is None)
