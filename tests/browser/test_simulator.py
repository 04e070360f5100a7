"""The phone simulator in a real browser, on the real demo process: reply, auto-refresh, inbox.

Chromium runs under the dashboard's strict CSP; any violation shows on the console and
fails the test. Skips, saying how to enable it, without Chromium or playwright.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import Console, skip_without_a_browser
from tests.test_demo import SAM, Demo, csrf, sign_in

skip_without_a_browser()

from playwright.sync_api import Page, expect  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
REPLY = "Could we move Wednesday to Friday?"
LATER = "And can I bring my own oil?"  # sent from another tab


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """The demo process on a free port; killed at the end regardless."""
    running = Demo(tmp_path / "instance", tmp_path / "demo.log", "--port", "0")
    try:
        yield running
    finally:
        running.kill()


def test_a_reply_from_the_simulator_reaches_the_inbox(
    demo: Demo, page: Page, console: Console, tmp_path: Path
) -> None:
    url = demo.url()
    email, password = re.search(r"sign in as\s+(\S+) / (\S+)", demo.output()).groups()  # type: ignore[union-attr]
    page.clock.install()  # the page's timers run as usual, and the test may move them on
    page.goto(url + "simulator/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Phone simulator")).to_be_visible()

    page.get_by_label("Phone").select_option(SAM)
    page.get_by_role("button", name="Show this phone").click()
    screen = page.locator("#screen .thread")
    expect(screen).to_contain_text("Reply C to confirm or R to reschedule")
    page.get_by_label("Reply from this phone").fill(REPLY)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Replied to the phone")
    expect(screen).to_contain_text(REPLY)

    # A text arriving while the page is open shows up without a reload (simulator.js).
    other = sign_in(url, demo.output())
    form = other.get(url + "simulator/", params={"phone": SAM}, timeout=30)
    posted = other.post(
        url + "simulator/reply",
        data={"csrf_token": csrf(form.text), "phone": SAM, "body": LATER},
        timeout=30,
    )
    assert posted.status_code == 200
    # The page refreshes on an interval: run its next tick now rather than wait for it.
    page.clock.fast_forward(10_000)
    expect(screen).to_contain_text(LATER, timeout=20_000)

    shots = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "simulator.png"), full_page=True)

    page.get_by_role("link", name="Open the inbox").click()
    expect(page.locator(".alert-item", has_text=REPLY)).to_be_visible()
    assert console.problems() == []
    assert demo.stop() == 0


RUTH = "+16175550231"  # the demo client who answers calls with the keypad


def test_a_check_in_call_answered_with_the_keypad_shows_its_score_in_the_chart(
    demo: Demo, page: Page, console: Console, tmp_path: Path
) -> None:
    url = demo.url()
    email, password = re.search(r"sign in as\s+(\S+) / (\S+)", demo.output()).groups()  # type: ignore[union-attr]
    page.goto(url + "simulator/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Phone").select_option(RUTH)
    page.get_by_role("button", name="Show this phone").click()
    # Newest first: the check-in call the demo left unanswered.
    page.locator("#screen .thread li", has_text="Check-in call").first.get_by_role(
        "link", name=re.compile("Answer the call")
    ).click()
    expect(page.locator(".call-said")).to_contain_text("How is your pain today")
    keypad = page.get_by_role("group", name="Keypad")
    keypad.get_by_role("button", name="7", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Pressed so far: 7")
    shots = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "simulator-call.png"), full_page=True)
    page.get_by_role("group", name="Keypad").get_by_role("button", name="#").click()
    expect(page.locator(".call-said")).to_contain_text("You pressed 7. Thank you.")
    expect(page.locator(".call-said")).to_contain_text("To stop these calls, press 9.")
    page.get_by_role("link", name=re.compile("back to the phone")).click()
    expect(page.locator("#screen .thread")).to_contain_text("Pressed 7")

    page.goto(url + "clients?q=Ruth")
    page.get_by_role("link", name="Ruth Alvarez").first.click()
    expect(page.locator(".pain-chart .latest-score")).to_have_text("7")
    page.locator("#pain summary").click()
    expect(page.locator("#pain details li").first).to_contain_text("7")
    assert console.problems() == []
    assert demo.stop() == 0
