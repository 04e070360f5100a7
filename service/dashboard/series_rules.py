"""How the series form writes a recurrence: presets ("every 2 weeks") or a custom rule,
and the instants its local dates and times stand for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain import recurrence

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
