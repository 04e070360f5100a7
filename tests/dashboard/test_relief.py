"""Relief on the dashboard: the client page's curve, imported scores, the list's sort, the inbox."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts import raise_alert
from service.dashboard import charts
from service.domain import relief
from service.models import AuditEntry, Client, ImportedPainReport, InboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, counting, now, text_of

DAY = timedelta(days=1)


def client_with_history(
    session: Session,
    therapist_id: int,
    name: str,
    phone: str,
    *,
    relief_days: int,
    gap: int = 7,
    weeks: int = 8,
    imported: bool = False,
) -> Client:
    """A client seen every ``gap`` days, pain back near 7 after ``relief_days``: a score on
    every day between sessions, texted (or imported)."""
    client, contact = factories.client_with_phone(session, name, phone, therapist_id=therapist_id)
    # Midday UTC is early morning in New York: whole days later stay on the same local date.
    start = (now() - 2 * DAY - timedelta(days=gap * (weeks - 1))).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    for week in range(weeks):
        at = start + timedelta(days=gap * week)
        row = factories.appointment(session, client, at, status="completed")
        for day in range(1, gap):
            reported = at + timedelta(days=day)
            pain = 2 if day < relief_days else 7
            if reported >= now():
                continue
            if imported:
                session.add(
                    ImportedPainReport(
                        client_id=client.id,
                        appointment_id=row.id,
                        reported_at=reported,
                        pain=pain,
                        note="paper diary",
                    )
                )
            else:
                session.add(
                    InboundMessage(
                        provider_sid=f"SM{client.id}-{week}-{day}",
                        from_phone=contact.phone,
                        body=str(pain),
                        client_id=client.id,
                        contact_id=contact.id,
                        intent="pain",
                        pain_score=pain,
                        appointment_id=row.id,
                        received_at=reported,
                    )
                )
    session.commit()
    return client


def test_the_client_page_draws_the_relief_curve_and_says_the_gap_is_too_long(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = client_with_history(session, ana.id, "Sam Lee", "+16175550123", relief_days=3)
    response = as_ana.get(f"/clients/{client.id}")
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert 'class="relief-chart"' in html
    assert 'class="relief-band"' in html and 'class="relief-line"' in html
    assert 'class="relief-baseline"' in html and 'class="relief-mark"' in html
    assert "Relief lasts about 3 days after a session" in page
    assert "sessions are usually 7 days apart" in page
    assert "Gap longer than relief: relief lasts about 3 days; sessions are 7 days apart" in page
    assert "about 4 days in pain between sessions" in page
    assert "Day 1: median 2, middle half 2 to 2, 8 scores" in page


def test_every_relief_figure_on_the_pages_is_in_whole_days(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = client_with_history(session, ana.id, "Sam Lee", "+16175550123", relief_days=3)
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    listing = as_ana.get("/clients").get_data(as_text=True)
    for shown in (page, listing):
        assert not re.search(r"\d\.\d+ days?", shown)  # never "2.8 days" beside "3 days"
    assert "Relief lasts about 3 days; sessions are 7 days apart" in listing


def test_a_new_client_has_no_estimate_yet_and_no_curve(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    session.commit()
    response = as_ana.get(f"/clients/{client.id}")
    assert "Not enough data yet" in text_of(response)
    assert "relief-chart" not in response.get_data(as_text=True)


def test_a_relief_that_fits_the_schedule_raises_no_warning(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = client_with_history(session, ana.id, "Sam Lee", "+16175550123", relief_days=6)
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Relief lasts about" in page
    assert "Gap longer than relief" not in page


def test_imported_scores_are_marked_in_the_chart_and_the_thread(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = client_with_history(
        session, ana.id, "Sam Lee", "+16175550123", relief_days=3, imported=True
    )
    response = as_ana.get(f"/clients/{client.id}")
    html, page = response.get_data(as_text=True), text_of(response)
    assert 'class="pain-point imported"' in html
    assert "(imported)" in page
    assert "hollow dots were imported" in page
    assert "Pain 7/10: paper diary" in page and "Imported" in page
    assert "Relief lasts about 3 days" in page  # imported scores count like texted ones


def test_another_therapists_client_page_stays_hidden(
    as_ben: Web, ana: Staff, session: Session
) -> None:
    client = client_with_history(session, ana.id, "Sam Lee", "+16175550123", relief_days=3)
    assert as_ben.get(f"/clients/{client.id}").status_code == 404


def test_the_client_page_costs_the_same_statements_with_more_history(
    app: Flask, as_ana: Web, ana: Staff, session: Session
) -> None:
    short = client_with_history(session, ana.id, "Sam Lee", "+16175550123", relief_days=3, weeks=2)
    long = client_with_history(session, ana.id, "Kim Park", "+16175550124", relief_days=3)
    with counting(app) as few:
        as_ana.get(f"/clients/{short.id}")
    with counting(app) as many:
        as_ana.get(f"/clients/{long.id}")
    assert len(many) == len(few)
    views = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "view", AuditEntry.entity == "client")
    ).all()
    assert {v.entity_id for v in views} == {str(short.id), str(long.id)}


def test_the_list_sorts_by_most_days_in_pain_between_sessions(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client_with_history(session, ana.id, "Ann Mild", "+16175550101", relief_days=6)
    client_with_history(session, ana.id, "Bob Worst", "+16175550102", relief_days=2)
    client_with_history(session, ana.id, "Cy Middle", "+16175550103", relief_days=4)
    factories.client_with_phone(session, "Al New", "+16175550104", therapist_id=ana.id)
    session.commit()
    by_name = text_of(as_ana.get("/clients"))
    order = [by_name.index(n) for n in ("Al New", "Ann Mild", "Bob Worst", "Cy Middle")]
    assert order == sorted(order)
    by_pain = text_of(as_ana.get("/clients", sort="pain_days"))
    order = [by_pain.index(n) for n in ("Bob Worst", "Cy Middle", "Ann Mild", "Al New")]
    assert order == sorted(order)
    assert "Sorted by most days in pain between sessions" in by_pain
    assert "5 days" in by_pain and "not enough data" in by_pain


def test_the_sorted_list_costs_the_same_statements_for_few_or_many_clients(
    app: Flask, as_ana: Web, ana: Staff, session: Session
) -> None:
    client_with_history(session, ana.id, "Ann Mild", "+16175550101", relief_days=6, weeks=3)
    with counting(app) as few:
        as_ana.get("/clients", sort="pain_days")
    for i in range(6):
        client_with_history(
            session, ana.id, f"Client {i}", f"+1617555020{i}", relief_days=2 + i % 4, weeks=3
        )
    with counting(app) as many:
        page = text_of(as_ana.get("/clients", sort="pain_days"))
    assert len(many) == len(few)
    assert "Client 5" in page


def test_the_inbox_shows_the_signals_with_their_numbers(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    estimate = relief.Relief(relief.ESTIMATED, 7.0, 3.2, 6, (), 7.0)
    raise_alert(
        session,
        "relief_gap",
        now(),
        client_id=client.id,
        detail=relief.gap_sentence(estimate).capitalize(),
    )
    raise_alert(session, "lapsing", now(), client_id=client.id, detail="usually every 7 days")
    raise_alert(session, "not_answering", now(), client_id=client.id, detail="2 check-ins")
    session.commit()
    page = text_of(as_ana.get("/"))
    assert "Gap longer than relief" in page
    assert "Relief lasts about 3 days; sessions are 7 days apart" in page
    assert "Lapsing" in page and "usually every 7 days" in page
    assert "Not answering" in page and "2 check-ins" in page


# --- the chart's geometry ------------------------------------------------------------------


def curve_of(*points: tuple[int, float, float, float]) -> tuple[relief.CurvePoint, ...]:
    return tuple(relief.CurvePoint(d, m, lo, hi, 4) for d, m, lo, hi in points)


def test_the_relief_chart_places_curve_band_baseline_and_marks() -> None:
    estimate = relief.Relief(
        relief.ESTIMATED, 7.0, 3.5, 6, curve_of((1, 2, 1, 3), (3, 4, 3, 5), (6, 7, 6, 8)), 7.0
    )
    chart = charts.relief_chart(estimate)
    assert chart is not None
    first, _, last = chart.points
    assert first.x < last.x and first.y > last.y  # day 1 left and low, day 6 right and high
    assert chart.baseline is not None and chart.baseline.text == "baseline 7"
    assert chart.baseline.y == last.y  # day 6's median is the baseline
    assert chart.relief is not None and chart.relief.text == "relief about 4 days"
    assert chart.gap is not None and chart.gap.text == "sessions 7 days apart"
    assert chart.x_ticks[0].text == "day 0" and chart.x_ticks[0].x == chart.left
    assert chart.relief.x < chart.gap.x <= chart.right
    # The band goes out along the upper quartiles and back along the lower ones.
    band = [tuple(map(float, p.split(","))) for p in chart.band.split()]
    assert len(band) == 6 and band[0][0] == band[-1][0] == first.x
    assert band[0][1] < band[-1][1]  # the upper quartile is above the lower
    assert chart.desc == (
        "Median pain by day after a session, over 6 recent sessions: day 1 2; day 3 4; day 6 7. "
        "Baseline before a session 7. Relief lasts about 4 days. "
        "Sessions are usually 7 days apart."
    )


def test_no_curve_no_relief_chart() -> None:
    assert (
        charts.relief_chart(relief.Relief(relief.NOT_ENOUGH_DATA, None, None, 0, (), None)) is None
    )


def test_a_curve_without_an_estimate_has_no_marks() -> None:
    estimate = relief.Relief(relief.NOT_ENOUGH_DATA, None, None, 1, curve_of((1, 2, 2, 2)), None)
    chart = charts.relief_chart(estimate)
    assert chart is not None
    assert (chart.baseline, chart.relief, chart.gap) == (None, None, None)
    assert re.fullmatch(r"[\d.]+,[\d.]+", chart.line)
