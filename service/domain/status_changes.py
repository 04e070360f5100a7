"""Which status an appointment may be given next: one table for the dashboard's buttons,
its form posts and the API, so a hand-made request cannot do what no button offers.

- a session not started yet can be confirmed or cancelled;
- once it has started it can be marked done or a no-show (or still cancelled);
- a cancelled session or a no-show can be put back on the schedule;
- a session marked done stays done (a mistake is mended by a person, not a button).

Giving an appointment the status it already has is always allowed (a double click).
"""

from __future__ import annotations

from datetime import datetime

from service.domain.vocabulary import CALLED_OFF, UPCOMING, AppointmentStatus

A = AppointmentStatus
_AFTER_START = (A.COMPLETED, A.NO_SHOW, A.CANCELLED)


def next_statuses(current: str, starts_at: datetime, now: datetime) -> tuple[str, ...]:
    """The statuses ``current`` may change to at ``now``, in the order buttons show them."""
    started = starts_at <= now
    if current == A.SCHEDULED:
        return _AFTER_START if started else (A.CONFIRMED, A.CANCELLED)
    if current == A.CONFIRMED:
        return _AFTER_START if started else (A.CANCELLED,)
    if current in CALLED_OFF:
        return (A.SCHEDULED,)
    return ()


def refusal(current: str, wanted: str, starts_at: datetime, now: datetime) -> str | None:
    """Why ``current`` may not become ``wanted`` now, or None when it may."""
    if wanted == current or wanted in next_statuses(current, starts_at, now):
        return None
    if wanted in (A.COMPLETED, A.NO_SHOW) and starts_at > now:
        return "a session that has not started cannot be done or a no-show yet"
    return f"a {current.replace('_', '-')} appointment cannot become {wanted.replace('_', '-')}"


def new_status_refusal(status: str, starts_at: datetime, now: datetime) -> str | None:
    """Why a new appointment may not be booked with ``status``, or None when it may."""
    if status in (A.COMPLETED, A.NO_SHOW) and starts_at > now:
        return "a session that has not started cannot be done or a no-show yet"
    return None


def past_refusal(status: str, starts_at: datetime, now: datetime, *, moving: bool) -> str | None:
    """Why a session may not be booked at (or ``moving``: moved to) ``starts_at`` with this
    status, or None: a session still to come cannot be in the past."""
    if status not in UPCOMING or starts_at > now:
        return None
    if moving:
        return "that time is in the past: move it to a time still to come"
    return "that time is in the past: pick a time still to come, or record it as already done"
