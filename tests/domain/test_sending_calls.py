"""The final check judges a call by its number's consent to calls, and a text by its consent
to texts: STOP by text does not stop calls, pressing 9 does not stop texts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from service.domain import call_permission
from service.domain.provider_errors import explain
from service.domain.sending import ContactFacts, SendFacts, decide
from tests.domain.test_sending import NOW, PHONE, QUIET
from tests.domain.test_sending import facts as text_facts

AGREED = NOW - timedelta(days=2)
LANDLINE = explain(30006)[:200]


def on(channel: str) -> ContactFacts:
    """The contact, getting reminders and check-ins, on ``channel``."""
    return ContactFacts(PHONE, reminders=True, checkins=True, channel=channel)


def facts(**changes: object) -> SendFacts:
    """``test_sending``'s facts of a reminder, as a call (the planner's own) to a contact on
    calls whose number agreed to them."""
    base = {"channel": "voice", "voice_consent_at": AGREED, "contact": on("voice")}
    return text_facts(**{**base, **changes})


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


PLANNED = "reminder:7:3:2027-03-03T21:00:00+00:00:voice"  # the planner's own call
FALLBACK = "call-after-text:41"  # the call after an unanswered text
REDIAL = "call-again:42:busy"  # a call made again after a busy line
GONE = "contact no longer on calls"
GONE_AFTER_TEXT = "contact no longer on texts then a call"


@pytest.mark.parametrize(
    ("key", "channel", "action", "reason"),
    [
        (PLANNED, "voice", "send", ""),
        (PLANNED, "sms_then_voice", "cancelled", GONE),
        (PLANNED, "sms", "cancelled", GONE),
        (FALLBACK, "sms_then_voice", "send", ""),
        (FALLBACK, "voice", "cancelled", GONE_AFTER_TEXT),
        (FALLBACK, "sms", "cancelled", GONE_AFTER_TEXT),
        # A call made again follows a call: any channel that calls still makes it.
        (REDIAL, "voice", "send", ""),
        (REDIAL, "sms_then_voice", "send", ""),
        (REDIAL, "sms", "cancelled", GONE),
        (f"call-again:{43}:no_answer", "sms", "cancelled", GONE),
    ],
)
def test_a_call_goes_only_to_a_contact_whose_channel_still_makes_it(
    key: str, channel: str, action: str, reason: str
) -> None:
    for kind in ("reminder", "checkin"):
        decision = decide(facts(key=key, kind=kind, contact=on(channel)), NOW, QUIET)
        assert (decision.action, decision.reason) == (action, reason)


@pytest.mark.parametrize("channel", ["sms", "voice", "sms_then_voice"])
def test_a_text_goes_whatever_its_contacts_channel(channel: str) -> None:
    # The planner re-plans texts and calls on a change of channel; a text claimed in the
    # meantime is no call to hold back.
    decision = decide(facts(channel="sms", contact=on(channel)), NOW, QUIET)
    assert (decision.action, decision.reason) == ("send", "")


@pytest.mark.parametrize(
    ("changes", "action", "reason"),
    [
        # Consent first: a number that may not be called says so whatever the channel.
        ({"voice_consent_at": None}, "skipped", "calls not agreed"),
        # The contact gone or at another number says so before its channel.
        ({"contact": None}, "cancelled", "contact removed or changed"),
        (
            {"contact": ContactFacts("+16175550199", True, True, "sms")},
            "cancelled",
            "contact removed or changed",
        ),
        # Then the channel, before the session.
        ({"appointment_status": "cancelled"}, "cancelled", GONE),
    ],
)
def test_what_a_call_to_a_contact_off_calls_is_held_back_for(
    changes: dict[str, object], action: str, reason: str
) -> None:
    decision = decide(facts(key=REDIAL, **{"contact": on("sms"), **changes}), NOW, QUIET)
    assert (decision.action, decision.reason) == (action, reason)
