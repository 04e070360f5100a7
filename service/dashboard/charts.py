"""Pain charts drawn on the server: plain numbers for an SVG template, no I/O, no clock.

The template draws what these functions compute, so the geometry can be tested alone and
the page needs no script (the CSP forbids inline ones anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.dashboard.timefmt import day_of, when

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


def pain_chart(
    scores: Sequence[tuple[datetime, int]],
    sessions: Sequence[datetime],
    tz: str,
    now: datetime,
    *,
    threshold: int | None = None,
    width: int = 640,
    height: int = 240,
) -> PainChart | None:
    """A chart of pain scores over time with each session marked; None without scores."""
    if not scores:
        return None
    ordered = sorted(scores)
    end = max(now, ordered[-1][0])
    start = max(end - MAX_SPAN, ordered[0][0] - timedelta(days=1))
    start = min(start, end - MIN_SPAN)
    shown = [(at, score) for at, score in ordered if at >= start]
    left, top, right, bottom = 36.0, 12.0, width - 12.0, height - 28.0
    span = (end - start).total_seconds()

    def x_of(at: datetime) -> float:
        """The horizontal position of an instant."""
        return left + (right - left) * (at - start).total_seconds() / span

    def y_of(score: float) -> float:
        """The vertical position of a score (0 at the bottom)."""
        return bottom - (bottom - top) * score / SCORE_MAX

    points = [
        Mark(x_of(at), y_of(score), f"{score} out of 10 on {when(at, tz)}") for at, score in shown
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
