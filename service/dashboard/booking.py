"""Series and appointments changed from the dashboard; every change re-plans at once.

The same database steps the JSON API takes (materialize the series, drop untouched future
occurrences a new rule no longer has, re-plan the client's texts), without any request
state: the views pass the session, the settings and ``now``, and commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import schedule
from service.config import Settings
from service.domain import recurrence
from service.models import AppointmentSeries

PRESETS: dict[str, tuple[str, str]] = {
    "weekly": ("FREQ=WEEKLY", "Every week"),
    "biweekly": ("FREQ=WEEKLY;INTERVAL=2", "Every 2 weeks"),
    "fourweekly": ("FREQ=WEEKLY;INTERVAL=4", "Every 4 weeks"),
    "monthly": ("FREQ=MONTHLY", "Every month, same date"),
}
CUSTOM = "custom"


def instant(local: datetime, tz: str) -> datetime:
    """A local wall-clock time in ``tz`` as an instant, to the whole minute."""
    return recurrence.to_utc(local.replace(second=0, microsecond=0), ZoneInfo(tz))


def end_of_day(day: date, tz: str) -> datetime:
    """The instant a local date ends (a series ending on a date keeps that day's session)."""
    return recurrence.to_utc(datetime.combine(day + timedelta(days=1), time()), ZoneInfo(tz))


@dataclass(frozen=True)
class RuleChoice:
    """How a series' rule is shown in its form: a preset, or custom text, plus a count."""

    repeat: str
    custom: str
    count: str


def build_rule(repeat: str, custom: str, count: int | None) -> str:
    """The RRULE for a preset or custom text, with ``COUNT`` added when a count is given."""
    rule = PRESETS[repeat][0] if repeat in PRESETS else custom.strip().upper()
    if rule.startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    if count is not None:
        rule = f"{rule};COUNT={count}"
    return rule


def split_rule(rrule: str) -> RuleChoice:
    """The form values that rebuild ``rrule``."""
    parts = rrule.split(";")
    counts = [p for p in parts if p.startswith("COUNT=")]
    rest = ";".join(p for p in parts if not p.startswith("COUNT="))
    count = counts[0].removeprefix("COUNT=") if len(counts) == 1 else ""
    for name, (rule, _) in PRESETS.items():
        if rule == rest and (count or not counts):
            return RuleChoice(name, "", count)
    return RuleChoice(CUSTOM, rrule, "")


def describe_rule(rrule: str) -> str:
    """The rule in words when it is a preset (with its count), else the rule itself."""
    choice = split_rule(rrule)
    if choice.repeat == CUSTOM:
        return f"Custom rule {rrule}"
    words = PRESETS[choice.repeat][1]
    return f"{words}, {choice.count} sessions" if choice.count else words


def materialize_range(
    session: Session,
    settings: Settings,
    client_ids: Iterable[int],
    start: datetime,
    end: datetime,
    now: datetime,
) -> int:
    """Materialize these clients' occurrences in [start, end), never before a series began.

    Series already planned past ``end`` (by the clock or by an edit) or ended before
    ``start`` are skipped in SQL, so the usual week costs one query, not one per series.
    """
    ids = sorted(set(client_ids))
    if not ids:
        return 0
    touched: set[int] = set()
    s = AppointmentSeries
    for series in session.scalars(
        select(s).where(
            s.client_id.in_(ids),
            or_(s.ends_at.is_(None), s.ends_at > start),
            or_(s.planned_until.is_(None), s.planned_until < end),
        )
    ):
        if schedule.materialize(session, series, max(start, series.created_at), end):
            touched.add(series.client_id)
    for client_id in sorted(touched):
        schedule.replan_client(session, settings, client_id, now)
    return len(touched)
