"""A series on a phone: Mon and Thu ticked with the pickers, read back in words, ended through
its confirmation page, and restored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from service import accounts
from service.config import settings_of
from service.db import get_db
from tests import factories
from tests.browser.conftest import Console, Live, skip_without_a_browser

skip_without_a_browser()

from playwright.sync_api import Page, expect  # noqa: E402 - only once known to be installed

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PASSWORD = "long-enough-pw"
NY = ZoneInfo("America/New_York")


@pytest.fixture
def phone(browser: Browser, console: Console) -> Iterator[Page]:
    """A page the size of a phone (390 x 844), its console recorded."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    tab.on("console", console.record)
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def test_a_mon_and_thu_series_is_made_with_the_pickers_ended_and_restored(
    live: Live, phone: Page, console: Console
) -> None:
    with get_db(live.app).session() as session:
        ana = accounts.create_user(
            session, settings_of(live.app), "ana@practice.test", "Ana Ruiz", PASSWORD
        )
        client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
        session.commit()
        client_id = client.id
    phone.goto(live.url + "/login")
    phone.get_by_label("Email").fill("ana@practice.test")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("heading", name="Inbox")).to_be_visible()

    phone.goto(f"{live.url}/clients/{client_id}/series/new")
    today = datetime.now(UTC).astimezone(NY).date()
    monday = today + timedelta(days=7 - today.weekday())
    phone.get_by_label("First session").fill(f"{monday.isoformat()}T10:00")
    phone.get_by_label("Length in minutes").fill("60")
    phone.get_by_label("Monday").check()
    phone.get_by_label("Thursday").check()
    phone.get_by_role("button", name="Create series").click()
    expect(phone.get_by_role("status")).to_contain_text("Series saved")
    series = phone.locator(".series")
    expect(series).to_contain_text("Every Mon and Thu at 10:00 AM, 60 min")
    coming = phone.locator(".appointment-list li.future")
    sessions = coming.count()  # the planning horizon's Mondays and Thursdays: 2 to 4
    assert sessions >= 2

    series.get_by_role("link", name="End series").click()
    expect(phone.get_by_role("heading", name="End this series?")).to_be_visible()
    removes = phone.locator("#end-removes")
    expect(removes).to_contain_text(f"{sessions} upcoming sessions will be removed")
    phone.get_by_role("button", name="End series").click()
    expect(phone.get_by_role("status")).to_contain_text("Series ended")
    expect(coming).to_have_count(0)

    phone.locator(".series").get_by_role("button", name="Restore").click()
    expect(phone.get_by_role("status")).to_contain_text("Series restored")
    expect(coming).to_have_count(sessions)
    expect(phone.locator(".series")).to_contain_text("End series")
    assert console.problems() == []
