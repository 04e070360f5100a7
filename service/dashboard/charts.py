"""Pain and relief charts drawn on the server: plain numbers for an SVG template, no I/O, no clock.

The template draws what these functions compute, so the geometry can be tested alone and
the page needs no script (the CSP forbids inline ones anyway).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from service.dashboard.timefmt import day_of, when
from service.domain import relief

SCORE_MAX = 10
MIN_SPAN = timedelta(days=14)
MAX_SPAN = timedelta(days=180)


@dataclass(frozen=True)
class Sparkline:
    """A tiny trend line of the latest scores, oldest first."""

    width: int
    height: int
    points: str
    last_x: float
    last_y: float
    label: str


def sparkline(scores: Sequence[int], width: int = 84, height: int = 22) -> Sparkline | None:
    """The trend of ``scores`` (oldest first), or None with fewer than two."""
    if len(scores) < 2:
        return None
    pad = 3.0
    step = (width - 2 * pad) / (len(scores) - 1)
    coords = [
        (pad + i * step, pad + (height - 2 * pad) * (1 - score / SCORE_MAX))
        for i, score in enumerate(scores)
    ]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    label = f"Last {len(scores)} pain scores, oldest first: {', '.join(map(str, scores))}"
    return Sparkline(width, height, points, coords[-1][0], coords[-1][1], label)


@dataclass(frozen=True)
class Mark:
    """A point or a tick on the chart, with the words a screen reader or tooltip gives."""

    x: float
    y: float
    text: str
    imported: bool = False


@dataclass(frozen=True)
class PainChart:
    """Everything the pain chart template draws."""

    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    points: list[Mark]
    line: str
    y_ticks: list[Mark]
    x_ticks: list[Mark]
    sessions: list[Mark]
    threshold: Mark | None
    desc: str

    @property
    def latest(self) -> Mark | None:
        """The most recent score."""
        return self.points[-1] if self.points else None


def _score_mark(x: float, y: float, at: datetime, score: int, tz: str, imported: bool) -> Mark:
    """One score's point, named for a screen reader (and marked when imported)."""
    label = f"{score} out of 10 on {when(at, tz)}" + (" (imported)" if imported else "")
    return Mark(x, y, label, imported=imported)


def pain_chart(
    scores: Sequence[tuple[datetime, int]],
    sessions: Sequence[datetime],
    tz: str,
    now: datetime,
    *,
    threshold: int | None = None,
    imported: Collection[tuple[datetime, int]] = (),
    width: int = 640,
    height: int = 240,
) -> PainChart | None:
    """A chart of pain scores over time with each session marked; None without scores.

    Scores also listed in ``imported`` came from paper or another system, not a text, and
    are marked as such.
    """
    if not scores:
        return None
    ordered = sorted(scores)
    end = max(now, ordered[-1][0])
    start = max(end - MAX_SPAN, ordered[0][0] - timedelta(days=1))
    start = min(start, end - MIN_SPAN)
    shown = [(at, score) for at, score in ordered if at >= start]
    kept = set(imported)
    left, top, right, bottom = 36.0, 12.0, width - 12.0, height - 28.0
    span = (end - start).total_seconds()

    def x_of(at: datetime) -> float:
        """The horizontal position of an instant."""
        return left + (right - left) * (at - start).total_seconds() / span

    def y_of(score: float) -> float:
        """The vertical position of a score (0 at the bottom)."""
        return bottom - (bottom - top) * score / SCORE_MAX

    points = [
        _score_mark(x_of(at), y_of(score), at, score, tz, (at, score) in kept)
        for at, score in shown
    ]
    marks = [
        Mark(x_of(at), bottom, f"Session on {when(at, tz)}")
        for at in sessions
        if start <= at <= end
    ]
    ticks = [start + (end - start) * i / 4 for i in range(5)]
    return PainChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        points=points,
        line=" ".join(f"{p.x:.1f},{p.y:.1f}" for p in points),
        y_ticks=[Mark(left, y_of(v), str(v)) for v in range(0, SCORE_MAX + 1, 2)],
        x_ticks=[Mark(x_of(at), bottom, day_of(at, tz)) for at in ticks],
        sessions=marks,
        threshold=Mark(left, y_of(threshold), f"alert at {threshold}") if threshold else None,
        desc=_describe(shown, len(marks), tz),
    )


def _describe(shown: Sequence[tuple[datetime, int]], sessions: int, tz: str) -> str:
    """One paragraph that says what the chart shows, for screen readers and print."""
    values = [score for _, score in shown]
    first, last = shown[0], shown[-1]
    return (
        f"{len(values)} pain score{'s' if len(values) != 1 else ''} from "
        f"{day_of(first[0], tz)} to {day_of(last[0], tz)}, on a scale of 0 (none) to 10 (worst). "
        f"Latest: {last[1]} on {day_of(last[0], tz)}. Highest {max(values)}, lowest "
        f"{min(values)}. {sessions} session{'s' if sessions != 1 else ''} marked."
    )


@dataclass(frozen=True)
class ReliefChart:
    """Everything the relief curve template draws: pain by day after a session."""

    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    band: str
    line: str
    points: list[Mark]
    y_ticks: list[Mark]
    x_ticks: list[Mark]
    baseline: Mark | None
    relief: Mark | None
    gap: Mark | None
    desc: str


def relief_chart(
    estimate: relief.Relief, *, width: int = 640, height: int = 240
) -> ReliefChart | None:
    """The median pain by day after a session, its middle-half band, the baseline, the
    estimated relief and the usual gap between sessions; None without a curve."""
    curve = estimate.curve
    if not curve:
        return None
    marks = [p.day for p in curve] + [
        v for v in (estimate.relief_days, estimate.usual_gap_days) if v is not None
    ]
    last_day = max(7, ceil(max(marks)) + 1)
    left, top, right, bottom = 36.0, 12.0, width - 12.0, height - 28.0

    def x_of(day: float) -> float:
        """The horizontal position of a day after the session (day 0 at the left)."""
        return left + (right - left) * day / last_day

    def y_of(score: float) -> float:
        """The vertical position of a score (0 at the bottom)."""
        return bottom - (bottom - top) * score / SCORE_MAX

    upper = [f"{x_of(p.day):.1f},{y_of(p.high):.1f}" for p in curve]
    lower = [f"{x_of(p.day):.1f},{y_of(p.low):.1f}" for p in reversed(curve)]
    points = [
        Mark(
            x_of(p.day),
            y_of(p.median),
            f"Day {p.day}: median {_number(p.median)}, middle half {_number(p.low)} to "
            f"{_number(p.high)}, {p.n} score{'s' if p.n != 1 else ''}",
        )
        for p in curve
    ]
    step = 1 if last_day <= 14 else 2 if last_day <= 28 else 7
    baseline, days, gap = estimate.baseline, estimate.relief_days, estimate.usual_gap_days
    return ReliefChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        band=" ".join(upper + lower),
        line=" ".join(f"{p.x:.1f},{p.y:.1f}" for p in points),
        points=points,
        y_ticks=[Mark(left, y_of(v), str(v)) for v in range(0, SCORE_MAX + 1, 2)],
        x_ticks=[Mark(x_of(d), bottom, f"day {d}") for d in range(0, last_day + 1, step)],
        baseline=Mark(left, y_of(baseline), f"baseline {_number(baseline)}")
        if baseline is not None
        else None,
        relief=Mark(x_of(days), top, f"relief about {relief.days_text(days)}")
        if days is not None
        else None,
        gap=Mark(x_of(gap), top, f"sessions {relief.days_text(gap)} apart")
        if gap is not None
        else None,
        desc=_describe_relief(estimate),
    )


def _number(value: float) -> str:
    """A score as people write it: 4, 3.5 (days are ``relief.days_text``'s)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _describe_relief(estimate: relief.Relief) -> str:
    """What the relief chart shows, in words, for screen readers and print."""
    curve = estimate.curve
    parts = [
        f"Median pain by day after a session, over {estimate.sessions_used} recent "
        f"session{'s' if estimate.sessions_used != 1 else ''}: "
        + "; ".join(f"day {p.day} {_number(p.median)}" for p in curve)
        + "."
    ]
    if estimate.baseline is not None:
        parts.append(f"Baseline before a session {_number(estimate.baseline)}.")
    if estimate.relief_days is not None:
        parts.append(f"Relief lasts about {relief.days_text(estimate.relief_days)}.")
    if estimate.usual_gap_days is not None:
        parts.append(f"Sessions are usually {relief.days_text(estimate.usual_gap_days)} apart.")
    return " ".join(parts)
