"""The chart geometry: scores on a 0-10 axis, sessions marked, words for screen readers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.dashboard import charts

T0 = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_sparkline_needs_two_scores_and_spans_the_box() -> None:
    assert charts.sparkline([]) is None
    assert charts.sparkline([5]) is None
    line = charts.sparkline([0, 10], width=84, height=22)
    assert line is not None
    assert line.points == "3.0,19.0 81.0,3.0"  # 0 at the bottom, 10 at the top
    assert (line.last_x, line.last_y) == (81.0, 3.0)
    assert line.label == "Last 2 pain scores, oldest first: 0, 10"


def test_the_pain_chart_places_scores_on_a_zero_to_ten_axis() -> None:
    chart = charts.pain_chart(
        [(T0, 0), (T0 + 10 * DAY, 10)], [T0 + 5 * DAY], "UTC", T0 + 10 * DAY, threshold=8
    )
    assert chart is not None
    low, high = chart.points
    assert low.y == chart.bottom and high.y == chart.top
    assert [t.text for t in chart.y_ticks] == ["0", "2", "4", "6", "8", "10"]
    assert chart.threshold is not None and chart.threshold.text == "alert at 8"
    [session] = chart.sessions
    assert low.x < session.x < high.x
    assert high.x == chart.right
    assert chart.latest == high and high.text.startswith("10 out of 10 on ")


def test_a_short_history_still_spans_two_weeks() -> None:
    chart = charts.pain_chart([(T0, 3)], [], "UTC", T0 + DAY)
    assert chart is not None
    assert chart.x_ticks[0].text == "Feb 16"  # fourteen days before now, not just the day before
    assert chart.x_ticks[-1].text == "Mar 2"


def test_the_description_says_what_the_chart_shows() -> None:
    chart = charts.pain_chart(
        [(T0, 6), (T0 + 7 * DAY, 2), (T0 + 14 * DAY, 9)],
        [T0 - DAY, T0 + 6 * DAY, T0 + 13 * DAY],
        "America/New_York",
        T0 + 14 * DAY,
    )
    assert chart is not None
    assert chart.desc == (
        "3 pain scores from Mar 1 to Mar 15, on a scale of 0 (none) to 10 (worst). "
        "Latest: 9 on Mar 15. Highest 9, lowest 2. 3 sessions marked."
    )


def test_no_scores_no_chart() -> None:
    assert charts.pain_chart([], [T0], "UTC", T0) is None


def test_scores_older_than_the_span_are_left_out() -> None:
    chart = charts.pain_chart([(T0 - 400 * DAY, 1), (T0, 5)], [], "UTC", T0)
    assert chart is not None
    assert len(chart.points) == 1
