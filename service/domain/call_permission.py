"""Whether a number may get calls, from what is recorded about it (``phone_numbers``).

Pure: the recorded values are given. A number may get calls only when its owner agreed to
calls, that agreement was not withdrawn (withdrawing clears it), calls were not stopped
since (pressing 9 during a call, or staff: a stop after the agreement), and texts did not
find the number invalid, but for being a landline (which texts cannot reach, and a call
may). Consent for texts plays no part: STOP by text never stops calls, and pressing 9 never
stops texts. ``service.call_consent`` records these values; the dispatcher's final check
(``sending.decide``) and the planner judge them here.
"""

from __future__ import annotations

from datetime import datetime

from service.domain.provider_errors import explain

# Errors that say a number exists but cannot get texts (a landline, a kind of number or a
# route that takes no texts): texts mark it invalid, yet a call may reach it, so that mark
# alone does not stop calls.
TEXTS_ONLY_CODES = (21407, 21612, 21614, 21635, 30006)
# The mark is stored as its reason, ``explain(code)`` cut to 200, and recognised by it: a
# rewording of one of these codes in ``provider_errors`` must keep its earlier words here.
LANDLINE_REASONS = frozenset(explain(code)[:200] for code in TEXTS_ONLY_CODES)

NOT_AGREED = "calls not agreed"
STOPPED = "calls stopped"
INVALID = "number is invalid"


def agreed(consent_at: datetime | None, stopped_at: datetime | None) -> bool:
    """True when the owner agreed to calls (at ``consent_at``) and did not stop them since."""
    if consent_at is None:
        return False
    return stopped_at is None or stopped_at < consent_at


def refusal(
    consent_at: datetime | None,
    stopped_at: datetime | None,
    invalid: bool,
    invalid_reason: str | None,
) -> str | None:
    """Why the number may not get calls (``NOT_AGREED``, ``STOPPED``, ``INVALID``), or None
    when it may."""
    if not agreed(consent_at, stopped_at):
        return NOT_AGREED if consent_at is None or stopped_at is None else STOPPED
    if invalid and invalid_reason not in LANDLINE_REASONS:
        return INVALID
    return None


def may_call(
    consent_at: datetime | None,
    stopped_at: datetime | None,
    invalid: bool,
    invalid_reason: str | None,
) -> bool:
    """True when the number may get calls (``refusal`` finds no reason against)."""
    return refusal(consent_at, stopped_at, invalid, invalid_reason) is None
