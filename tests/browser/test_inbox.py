"""The inbox on a phone (390 x 844): urgency order, items closing themselves after a signed
reply, answering from an item, and "Send at 8:00 AM" inside the client's quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service import accounts
from service.alerts import raise_alert
from service.config import settings_of
from service.db import get_db
from tests import factories
from tests.browser.conftest import Live, skip_without_a_browser, text_from_phone
from tests.dashboard.test_send_text import zone_at
from tests.domain.test_segments import TABLE

skip_without_a_browser()

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402 - only once known to be installed

PASSWORD = "long-enough-pw"
SAM = "+16175550123"


def _arrange(live: Live) -> None:
    """Ana; Sam (afternoon where he lives) had a reminder and an old pain alert; Nia (2 AM
    where she lives) sent a text nobody understood a minute ago."""
    now = datetime.now(UTC)
    with get_db(live.app).session() as session:
        ana = accounts.create_user(
            session, settings_of(live.app), "ana@practice.test", "Ana Ruiz", PASSWORD
        )
        sam, contact = factories.client_with_phone(
            session, "Sam Lee", SAM, therapist_id=ana.id, timezone=zone_at(13)
        )
        visit = factories.appointment(session, sam, now + timedelta(days=1))
        factories.sent(
            session,
            sam,
            contact,
            kind="reminder",
            sent_at=now - timedelta(hours=1),
            appointment_id=visit.id,
        )
        raise_alert(session, "pain", now - timedelta(hours=3), client_id=sam.id, detail="pain 8/10")
        nia, _ = factories.client_with_phone(
            session, "Nia Park", "+16175550124", therapist_id=ana.id, timezone=zone_at(2)
        )
        raise_alert(session, "not_understood", now - timedelta(minutes=1), client_id=nia.id)
        session.commit()


def _violations(page: Page) -> list[str]:
    """What axe finds wrong with the page as shown."""
    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in found]


def _phone(browser: Browser) -> Page:
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(15_000)
    return page


def test_the_inbox_triages_closes_itself_and_answers(live: Live, browser: Browser) -> None:
    _arrange(live)
    text_from_phone(live, SAM, "R")
    page = _phone(browser)
    page.goto(live.url + "/")
    page.get_by_label("Email").fill("ana@practice.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    badges = page.locator(".alerts .alert-item .badge")
    expect(badges).to_have_text(["Pain alert", "Reschedule request", "Not understood"])
    expect(page.locator(".zone-note")).to_contain_text("America/New_York")

    text_from_phone(live, SAM, "C")
    page.reload()
    expect(badges).to_have_text(["Pain alert", "Not understood"])
    expect(page.locator(".closed-item")).to_contain_text("Sam Lee: client confirmed at")
    assert _violations(page) == []

    item = page.locator(".alerts .alert-item", has_text="Nia Park")
    item.locator("summary").click()
    box = item.get_by_label("Text")
    box.fill("Got your text, I will call you in the morning.")
    expect(item.locator(".text-count")).to_contain_text("1 text (GSM-7)")
    item.get_by_role("button", name="Send text").click()

    expect(page.get_by_role("heading", name="Text Nia Park")).to_be_visible()
    assert _violations(page) == []
    page.get_by_role("button", name="Send at 8:00 AM").click()
    expect(page.get_by_role("status")).to_contain_text("it goes out at 8:00 AM their time")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.context.close()


def test_the_text_box_counts_as_the_server_does(live: Live, browser: Browser) -> None:
    page = _phone(browser)
    page.goto(live.url + "/login")
    page.add_script_tag(url=live.url + "/static/text_box.js")
    for text, characters, segments, encoding in TABLE:
        counted = page.evaluate("text => window.touchbaseCount(text)", text)
        assert counted == {"characters": characters, "segments": segments, "encoding": encoding}
    page.context.close()
