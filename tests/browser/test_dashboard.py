"""The dashboard in a real browser: a signed reply raises an alert a therapist then handles."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service import accounts
from service import demo_data as demo
from service.config import settings_of
from service.db import get_db
from service.models import ImportedPainReport
from tests import factories
from tests.browser.conftest import (
    Console,
    Live,
    skip_without_a_browser,
    text_from_phone,
)

skip_without_a_browser()

from playwright.sync_api import Page, expect  # noqa: E402 - only once known to be installed

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "long-enough-pw"


def _arrange(live: Live) -> None:
    """A therapist, her client, a session yesterday and the check-in sent after it."""
    now = datetime.now(UTC)
    with get_db(live.app).session() as session:
        ana = accounts.create_user(
            session, settings_of(live.app), "ana@practice.test", "Ana Ruiz", PASSWORD
        )
        client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
        visit = factories.appointment(session, client, now - timedelta(days=1), status="completed")
        factories.sent(
            session,
            client,
            contact,
            kind="checkin",
            sent_at=now - timedelta(hours=1),
            appointment_id=visit.id,
        )
        session.commit()


def _sign_in(page: Page, live: Live, email: str, password: str) -> None:
    page.goto(live.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def test_a_pain_reply_reaches_the_inbox_and_is_handled(
    live: Live, page: Page, console: Console
) -> None:
    _arrange(live)
    assert "noted" in text_from_phone(live, "+16175550123", "9")
    _sign_in(page, live, "ana@practice.test", PASSWORD)

    alert = page.locator(".alert-item", has_text="Sam Lee")
    expect(alert).to_contain_text("Pain alert")
    expect(alert).to_contain_text("“9”")
    alert.get_by_role("link", name="Sam Lee").click()

    expect(page.get_by_role("heading", name="Sam Lee", level=1)).to_be_visible()
    chart = page.locator("svg.pain-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("text.latest-score")).to_have_text("9")
    expect(chart.locator("desc")).to_contain_text("Latest: 9")
    expect(page.locator(".thread")).to_contain_text("9")

    page.get_by_role("link", name="Inbox").click()
    page.locator(".alert-item", has_text="Sam Lee").get_by_role("button").click()
    expect(page.get_by_role("status")).to_contain_text("Marked as handled")
    expect(page.locator(".alert-item")).to_have_count(0)

    page.goto(live.url + "/clients")
    page.get_by_role("link", name="Sam Lee").click()
    expect(page.locator("#history")).to_contain_text("Handled by Ana Ruiz")
    page.get_by_role("link", name="New series").click()
    first = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    page.get_by_label("First session").fill(first)
    page.get_by_label("Length in minutes").fill("45")
    page.get_by_role("button", name="Create series").click()

    expect(page.get_by_role("status")).to_contain_text("Series saved")
    expect(page.locator(".series")).to_contain_text("at 10:00 AM, 45 min")
    expect(page.locator(".appointment-list li.future")).to_have_count(2)
    assert console.problems() == []


def test_screenshots_of_the_demo_practice(
    live: Live, page: Page, console: Console, tmp_path: Path
) -> None:
    # The README's pictures are refreshed with UPDATE_SCREENSHOTS=1; otherwise they are
    # taken all the same, into a scratch folder, so a test run leaves the tree clean.
    shots = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    with get_db(live.app).session() as session:
        demo.load(session, settings_of(live.app), datetime.now(UTC))
        session.commit()
    shots.mkdir(parents=True, exist_ok=True)
    _sign_in(page, live, "ana@touchbase.demo", demo.PASSWORD)
    expect(page.locator(".alert-item").first).to_be_visible()
    page.screenshot(path=str(shots / "inbox.png"), full_page=True)

    page.get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="Maria Lopez").click()
    expect(page.locator("svg.pain-chart")).to_be_visible()
    page.screenshot(path=str(shots / "client.png"), full_page=True)
    assert (shots / "inbox.png").stat().st_size > 10_000
    assert (shots / "client.png").stat().st_size > 10_000
    assert console.problems() == []


def test_the_relief_curve_and_the_sort_by_days_in_pain(
    live: Live, page: Page, console: Console
) -> None:
    # Eight weekly sessions; pain 2 the two days after each, back at 7 from the third day.
    now = datetime.now(UTC)
    with get_db(live.app).session() as session:
        ana = accounts.create_user(
            session, settings_of(live.app), "ana@practice.test", "Ana Ruiz", PASSWORD
        )
        client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
        factories.client_with_phone(session, "Al New", "+16175550199", therapist_id=ana.id)
        # Midday UTC is early morning in New York: later days keep their local dates.
        start = (now - timedelta(days=51)).replace(hour=12, minute=0, second=0, microsecond=0)
        for week in range(8):
            at = start + timedelta(days=7 * week)
            visit = factories.appointment(session, client, at, status="completed")
            for day in range(1, 7):
                if at + timedelta(days=day) < now:
                    session.add(
                        ImportedPainReport(
                            client_id=client.id,
                            appointment_id=visit.id,
                            reported_at=at + timedelta(days=day),
                            pain=2 if day < 3 else 7,
                        )
                    )
        session.commit()
    _sign_in(page, live, "ana@practice.test", PASSWORD)
    page.goto(live.url + "/clients")
    page.get_by_role("link", name="sort by most days in pain between sessions").click()
    rows = page.locator("table.clients tbody tr")
    expect(rows.first).to_contain_text("Sam Lee")
    expect(rows.first.locator("td.pain-days")).to_contain_text("4 days")
    expect(rows.nth(1)).to_contain_text("not enough data")
    rows.first.get_by_role("link", name="Sam Lee").click()

    chart = page.locator("svg.relief-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("circle.relief-point")).to_have_count(6)
    expect(chart.locator("polygon.relief-band")).to_have_count(1)
    expect(chart.locator("line.relief-baseline")).to_have_count(1)
    expect(chart.locator("text.relief-label")).to_have_text("relief about 3 days")
    expect(chart.locator("desc")).to_contain_text("Relief lasts about 3 days")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    expect(page.locator("#relief")).to_contain_text("Gap longer than relief")
    expect(page.locator("svg.pain-chart circle.pain-point.imported").first).to_be_visible()
    assert console.problems() == []
