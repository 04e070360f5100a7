"""How the series form writes a recurrence: weekday pickers, every N weeks and an end, or a
rule of one's own under "Advanced"; and the instants its local dates and times stand for.

The advanced rule is never ignored: with the pickers left as they are it is the rule; with
pickers chosen too, both must say the same schedule or the form says they disagree and
nothing is saved. It may be an iCalendar RRULE or plain words ("every monday and thursday").
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.dashboard.forms import Form
from service.domain import recurrence, series_words
from service.domain.series_words import DAYS, Pickers
from service.models import AppointmentSeries

ENDS = ("never", "count", "date")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NOT_UNDERSTOOD = (
    "Not a rule we can read: tick the days above, or write an iCalendar rule such as "
    "FREQ=WEEKLY;BYDAY=MO,TH."
)


def instant(local: datetime, tz: str) -> datetime:
    """A local wall-clock time in ``tz`` as an instant, to the whole minute."""
    return recurrence.to_utc(local.replace(second=0, microsecond=0), ZoneInfo(tz))


def end_of_day(day: date, tz: str) -> datetime:
    """The instant a local date ends (a series ending on a date keeps that day's session)."""
    return recurrence.to_utc(datetime.combine(day + timedelta(days=1), time()), ZoneInfo(tz))


def last_day(series: AppointmentSeries) -> date | None:
    """The last local day of a series with an end (``ends_at`` is the midnight after it)."""
    return series_words.last_day(series.ends_at, series.timezone)


def summary(series: AppointmentSeries, language: str = "en", *, ended: bool = False) -> str:
    """The series in words; an ended one without its end (the page says when it ended)."""
    return series_words.summary(
        series.rrule,
        series.starts_local,
        series.duration_minutes,
        last_day=last_day(series),
        timezone=series.timezone,
        language=language,
        show_until=not ended,
    )


def form_values(series: AppointmentSeries) -> dict[str, str]:
    """The form fields that show a stored series: pickers when they can say its rule, else
    the rule under "Advanced"."""
    first = series.starts_local
    end = last_day(series)
    values = {
        "starts": first.strftime("%Y-%m-%dT%H:%M"),
        "duration": str(series.duration_minutes),
        "ends_on": end.isoformat() if end else "",
        "every": "1",
        "ends": "date" if end else "never",
    }
    pickers = series_words.read_rule(series.rrule, first.weekday())
    if pickers is None:
        return {**values, "rrule": series.rrule}
    values.update({f"day_{d}": "on" for d in pickers.days})
    values["every"] = str(pickers.every)
    if pickers.count is not None:
        values["count"] = str(pickers.count)
        values["ends"] = "date" if end else "count"
    return values


def _read_end(form: Form, count: int | None, ends_on: date | None, rule: str) -> None:
    """Check the "Ends" choice against the count and date filled in, or the count the
    advanced ``rule`` gives (errors on ``form``)."""
    ends = form.choice("ends", ENDS)
    counted = count is not None or "COUNT=" in rule.upper()
    if ends == "count" and not counted and "count" not in form.errors:
        form.errors["count"] = "Say after how many sessions the series ends."
    elif ends == "date" and ends_on is None and "ends_on" not in form.errors:
        form.errors["ends_on"] = "Say on which day the series ends."
    elif ends == "never" and (count is not None or ends_on is not None):
        form.errors["ends"] = "“Never” is chosen, but a number of sessions or a last day is given."


def _custom(form: Form, text: str, count: int | None, weekday: int) -> str | None:
    """The advanced rule as an RRULE with the count added, or None (error on ``form``)."""
    if "=" not in text:
        words = series_words.read_words(text)
        if words is None:
            form.errors["rrule"] = NOT_UNDERSTOOD
            return None
        return series_words.build_rule(Pickers(words.days, words.every, count), weekday)
    rule = text.strip().upper().removeprefix("RRULE:")
    if count is not None and "COUNT=" in rule:
        form.errors["count"] = "The advanced rule already says how many sessions."
        return None
    return f"{rule};COUNT={count}" if count is not None else rule


def read_rule(form: Form, starts: datetime | None, ends_on: date | None, tz: str) -> str | None:
    """The RRULE the form asks for, checked against the first start; None when a field is
    wrong (errors recorded on ``form``)."""
    days = tuple(d for d in DAYS if form.checkbox(f"day_{d}"))
    every = form.integer("every", low=1, high=series_words.MAX_EVERY) or 1
    count = form.integer("count", low=1, high=series_words.MAX_COUNT)
    text = form.text("rrule", max_length=400)
    _read_end(form, count, ends_on, text or "")
    if starts is None or not form.ok:
        return None
    weekday = starts.weekday()
    chosen = series_words.build_rule(Pickers(days, every, count), weekday)
    rule = _custom(form, text, count, weekday) if text else chosen
    if rule is None:
        return None
    if text and (days or every != 1):
        # Days and weeks are compared; a count the rule already has is refused above.
        theirs = series_words.read_rule(rule, weekday)
        if theirs is None or (theirs.days, theirs.every) != (days or (DAYS[weekday],), every):
            form.errors["rrule"] = (
                f"The days above say “{series_words.rule_words(chosen, starts)}” but this rule "
                f"says “{series_words.rule_words(rule, starts)}”: clear one of them."
            )
            return None
    try:
        recurrence.parse_rule(rule, starts, tz=ZoneInfo(tz))
    except recurrence.InvalidRule as exc:
        form.errors["rrule" if text else "days"] = f"{str(exc).capitalize()}."
        return None
    return rule
