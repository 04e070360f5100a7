"""How long a session's relief lasts, and the schedule signals that follow from it.

Pure: plain data in, plain data out; ``now`` is always given. The method, in order:

- Each pain score belongs to one session: the one it answered (a check-in's appointment,
  or the one an imported score names), else the latest session that began before it.
  A score's *day* is the number of local calendar days from the session's start to the
  score (a check-in the next morning is day 1 whatever the hour). Scores at or after the
  next session's start describe that one, not this, and are left out; of several scores
  from one session on one day the last counts.
- The *baseline* is the (trimmed) mean over the recent sessions of the last score reported before
  each of them began (within ``BASELINE_REACH``): how the client feels when they come in.
- The *curve* is, for each day, the median, the quartiles and the count of those scores.
- The *relief duration* is where the curve comes back to within ``WITHIN`` point of the
  baseline. Noise is tamed by fitting a non-decreasing curve to the daily means (pool
  adjacent violators, weighted by how many scores each day has) and interpolating linearly
  between the last day below the line and the first one on it.
- Below ``MIN_SESSIONS`` sessions with scores, ``MIN_BASELINES`` baseline samples or
  ``MIN_SCORES`` scores after sessions, the answer is "not enough data yet" (no duration);
  a curve that never comes back within what was seen is "longer than seen", and one that
  never dropped below the line, or a baseline too low to drop from, is "no relief seen".

Every figure of days shown to a person (relief, gap, days in pain; client page, list, chart,
inbox) is said by ``days_text`` in whole days, rounded half up, so the page never shows
"1.5 days" beside "about 2 days". The estimates themselves keep their tenths (API, sorting).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import fmean, median
from zoneinfo import ZoneInfo

WINDOW = timedelta(weeks=8)
MIN_RECENT = 6
LONGEST_WINDOW = timedelta(weeks=16)
BASELINE_REACH = timedelta(days=3)
WITHIN = 1.0
MIN_SESSIONS = 3
MIN_BASELINES = 2
MIN_SCORES = 6
MIN_GAPS = 2
# A baseline this low leaves no pain for a session to relieve.
MIN_BASELINE = 2.0
GAP_MARGIN_DAYS = 2.0
# A check-in counts as answered by any text from the client before the next check-in, or
# within this long of it when none followed.
REPLY_WINDOW = timedelta(hours=24)
# Check-ins sent this close together (to a client and a caregiver) are one question.
SAME_ASK = timedelta(hours=1)
UNANSWERED_LIMIT = 2
REBOOK_EVERY = timedelta(days=14)

ESTIMATED = "estimated"
NOT_ENOUGH_DATA = "not_enough_data"
LONGER_THAN_SEEN = "longer_than_seen"
NO_RELIEF_SEEN = "no_relief_seen"


@dataclass(frozen=True)
class SessionFact:
    """A session that took place (not cancelled, not a no-show); instants aware UTC."""

    id: int
    starts_at: datetime


@dataclass(frozen=True)
class Score:
    """One pain score: texted, or imported from paper or another system."""

    at: datetime
    pain: int
    appointment_id: int | None = None
    imported: bool = False
    note: str | None = None  # an imported score's note, shown beside it


@dataclass(frozen=True)
class CurvePoint:
    """Pain on one day after a session, over the recent sessions."""

    day: int
    median: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Relief:
    """What the recent sessions say about how long relief lasts."""

    status: str
    baseline: float | None
    relief_days: float | None
    sessions_used: int
    curve: tuple[CurvePoint, ...]
    usual_gap_days: float | None

    @property
    def last_day_seen(self) -> int | None:
        """The latest day after a session that has a score."""
        return self.curve[-1].day if self.curve else None

    @property
    def whole_days_in_pain(self) -> int | None:
        """Days in pain as shown: the shown gap minus the shown relief (so they add up)."""
        if self.relief_days is None or self.usual_gap_days is None:
            return None
        return max(0, whole_days(self.usual_gap_days) - whole_days(self.relief_days))

    @property
    def days_in_pain(self) -> float | None:
        """Days between sessions spent back near the baseline: usual gap minus relief."""
        if self.relief_days is None or self.usual_gap_days is None:
            return None
        return round(max(0.0, self.usual_gap_days - self.relief_days), 1)


def estimate(
    sessions: Sequence[SessionFact],
    scores: Sequence[Score],
    timezone: str,
    now: datetime,
    window: timedelta = WINDOW,
) -> Relief:
    """The relief curve, baseline, duration and usual gap of the sessions in ``window``."""
    tz = ZoneInfo(timezone)
    past = sorted((s for s in sessions if s.starts_at <= now), key=lambda s: (s.starts_at, s.id))
    recent = _recent(past, now, window)
    seen = sorted((s for s in scores if s.at <= now), key=lambda s: s.at)
    by_day = _days_after(past, recent, seen, tz)
    baselines = _baseline_samples(recent, seen)
    curve = _curve(by_day)
    means = _daily_means(by_day)
    used = len({session_id for session_id, _ in by_day})
    baseline = _typical(baselines)
    gap = usual_gap_days(recent)
    status, relief_days = NOT_ENOUGH_DATA, None
    enough = used >= MIN_SESSIONS and len(baselines) >= MIN_BASELINES
    if enough and len(by_day) >= MIN_SCORES and baseline is not None:
        status, relief_days = _duration(means, baseline)
    return Relief(status, baseline, relief_days, used, curve, gap)


def _recent(past: Sequence[SessionFact], now: datetime, window: timedelta) -> list[SessionFact]:
    """The sessions of the last ``window``, or the last ``MIN_RECENT`` if that reaches
    further back (within ``LONGEST_WINDOW``), so that a fortnightly client has data too."""
    inside = [s for s in past if s.starts_at >= now - window]
    if len(inside) >= MIN_RECENT:
        return inside
    return [s for s in past if s.starts_at >= now - LONGEST_WINDOW][-MIN_RECENT:]


def _session_of(score: Score, past: Sequence[SessionFact]) -> SessionFact | None:
    """The session a score describes: the one it names, else the latest begun before it."""
    if score.appointment_id is not None:
        named = next((s for s in past if s.id == score.appointment_id), None)
        if named is not None:
            return named
    before = [s for s in past if s.starts_at <= score.at]
    return before[-1] if before else None


def _days_after(
    past: Sequence[SessionFact],
    recent: Sequence[SessionFact],
    scores: Sequence[Score],
    tz: ZoneInfo,
) -> dict[tuple[int, int], int]:
    """(session id, day) -> the last score of that day, for the recent sessions."""
    wanted = {s.id for s in recent}
    following = {a.id: b.starts_at for a, b in pairwise(past)}
    found: dict[tuple[int, int], int] = {}
    for score in scores:  # oldest first: a later score of the same day replaces an earlier
        session = _session_of(score, past)
        if session is None or session.id not in wanted or score.at < session.starts_at:
            continue
        next_start = following.get(session.id)
        if next_start is not None and score.at >= next_start:
            continue
        day = (score.at.astimezone(tz).date() - session.starts_at.astimezone(tz).date()).days
        found[(session.id, day)] = score.pain
    return found


def _baseline_samples(recent: Sequence[SessionFact], scores: Sequence[Score]) -> list[int]:
    """For each recent session, the last score reported before it began (if recent enough)."""
    samples = []
    for session in recent:
        before = [
            s for s in scores if session.starts_at - BASELINE_REACH <= s.at < session.starts_at
        ]
        if before:
            samples.append(before[-1].pain)
    return samples


def _curve(by_day: dict[tuple[int, int], int]) -> tuple[CurvePoint, ...]:
    """The median and quartiles of each day's scores."""
    days: dict[int, list[int]] = defaultdict(list)
    for (_, day), pain in by_day.items():
        days[day].append(pain)
    return tuple(
        CurvePoint(
            day=day,
            median=round(median(values), 1),
            low=round(_quantile(values, 0.25), 1),
            high=round(_quantile(values, 0.75), 1),
            n=len(values),
        )
        for day, values in sorted(days.items())
    )


def _typical(samples: Sequence[int]) -> float | None:
    """A mean that drops the highest and lowest of five or more samples.

    Not the median: a few whole-number scores have a coarse one; not the plain mean: one
    bad day before a session would move the line every duration is measured against.
    """
    if not samples:
        return None
    ordered = sorted(samples)
    kept = ordered[1:-1] if len(ordered) >= 5 else ordered
    return round(fmean(kept), 1)


def _daily_means(by_day: dict[tuple[int, int], int]) -> list[tuple[int, float, int]]:
    """(day, mean score, count) for each day with scores, in day order."""
    days: dict[int, list[int]] = defaultdict(list)
    for (_, day), pain in by_day.items():
        days[day].append(pain)
    return [(day, fmean(values), len(values)) for day, values in sorted(days.items())]


def _quantile(values: Sequence[int], q: float) -> float:
    """The ``q`` quantile by linear interpolation between order statistics."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _duration(days: Sequence[tuple[int, float, int]], baseline: float) -> tuple[str, float | None]:
    """Where the monotone fit of the daily means comes back within ``WITHIN`` of the baseline.

    Means rather than the medians shown: whole-number scores make medians step, and the
    crossing is interpolated between days.
    """
    if baseline < MIN_BASELINE:
        return NO_RELIEF_SEEN, None
    line = baseline - WITHIN
    fitted = monotone([mean for _, mean, _ in days], [n for _, _, n in days])
    for i, ((day, _, _), value) in enumerate(zip(days, fitted, strict=True)):
        if value < line:
            continue
        if i == 0:
            return NO_RELIEF_SEEN, None
        before, low = days[i - 1][0], fitted[i - 1]
        crossing = before + (line - low) / (value - low) * (day - before)
        return ESTIMATED, round(crossing, 1)
    return LONGER_THAN_SEEN, None


def monotone(values: Sequence[float], weights: Sequence[int]) -> list[float]:
    """The weighted least-squares non-decreasing fit of ``values`` (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, length]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([float(value), float(weight), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean2, weight2, length2 = blocks.pop()
            mean1, weight1, length1 = blocks.pop()
            total = weight1 + weight2
            blocks.append([(mean1 * weight1 + mean2 * weight2) / total, total, length1 + length2])
    return [mean for mean, _, length in blocks for _ in range(int(length))]


def usual_gap_days(recent: Sequence[SessionFact]) -> float | None:
    """The median number of days between consecutive sessions, with ``MIN_GAPS`` gaps or more."""
    starts = sorted(s.starts_at for s in recent)
    gaps = [(b - a).total_seconds() / 86400 for a, b in pairwise(starts)]
    gaps = [g for g in gaps if g > 0]
    return round(median(gaps), 1) if len(gaps) >= MIN_GAPS else None


def gap_longer_than_relief(relief: Relief, margin: float = GAP_MARGIN_DAYS) -> bool:
    """True when the usual gap between sessions outlasts the relief by ``margin`` days or more."""
    if relief.relief_days is None or relief.usual_gap_days is None:
        return False
    return relief.usual_gap_days - relief.relief_days >= margin


def gap_sentence(relief: Relief) -> str:
    """The words the inbox and client page use for a gap longer than relief."""
    return (
        f"relief lasts about {days_text(relief.relief_days)}; "
        f"sessions are {days_text(relief.usual_gap_days)} apart"
    )


def whole_days(value: float) -> int:
    """The one rounding of a count of days shown to people: whole days, half up (2.5 is 3,
    where Python's ``round`` and ``%.0f`` would say 2)."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def days_text(value: float | None) -> str:
    """A count of days as every page says it: "1 day", "3 days" (None says "0 days")."""
    number = whole_days(value or 0.0)
    return f"{number} day{'s' if number != 1 else ''}"


def lapsing(
    last_start: datetime | None,
    usual_gap: float | None,
    next_start: datetime | None,
    active_series: bool,
    now: datetime,
) -> bool:
    """True when the usual interval since the last session has passed and nothing is booked
    to start within half an interval more.

    A client with a running series is never lapsing (its next occurrences come on their
    own); one without a usual gap (fewer than ``MIN_GAPS`` recent gaps) is not judged.
    """
    if last_start is None or usual_gap is None or active_series:
        return False
    interval = timedelta(days=usual_gap)
    if now < last_start + interval:
        return False
    return next_start is None or next_start > last_start + interval * 1.5


def asks(sent: Sequence[datetime]) -> list[datetime]:
    """Check-in send times with those sent within ``SAME_ASK`` of the previous merged."""
    merged: list[datetime] = []
    for at in sorted(sent):
        if not merged or at - merged[-1] > SAME_ASK:
            merged.append(at)
    return merged


def unanswered_streak(sent: Sequence[datetime], replies: Sequence[datetime], now: datetime) -> int:
    """How many of the latest check-ins in a row went unanswered.

    A check-in is judged once its window closed: the next check-in went out, or
    ``REPLY_WINDOW`` passed. Any text from the client inside the window answers it.
    """
    times = asks(sent)
    streak = 0
    for i, at in enumerate(times):
        closes = times[i + 1] if i + 1 < len(times) else at + REPLY_WINDOW
        answered = any(at <= r < closes for r in replies)
        if answered:
            streak = 0
        elif closes <= now:  # an open window without a reply yet counts for nothing
            streak += 1
    return streak


def may_rebook(last_rebooking: datetime | None, now: datetime) -> bool:
    """True when no rebooking text went to the client in the last ``REBOOK_EVERY``."""
    return last_rebooking is None or now - last_rebooking >= REBOOK_EVERY
