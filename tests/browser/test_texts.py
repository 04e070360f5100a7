"""The wording pages in a real browser: an admin edits the reminder, watches the preview
grow to two segments with its warning, saves it, finds it in the list and resets it; the
live preview fills placeholders exactly as the server renders them; without JavaScript
the "Preview" button shows the same."""

from __future__ import annotations

import html
import re

from service import accounts
from service.config import settings_of
from service.db import get_db
from service.domain import wording as rules
from tests.browser.conftest import Console, Live, skip_without_a_browser

skip_without_a_browser()

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402 - only once known to be installed

PASSWORD = "long-enough-pw"
LONGER = " We look forward to seeing you, and please bring comfortable clothes to wear."


def _sign_in_as_admin(live: Live, page: Page) -> None:
    with get_db(live.app).session() as session:
        accounts.create_user(
            session, settings_of(live.app), "boss@practice.test", "Bo Boss", PASSWORD, admin=True
        )
        session.commit()
    page.goto(live.url + "/login")
    page.get_by_label("Email").fill("boss@practice.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def _violations(page: Page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in found]


def test_an_admin_edits_the_reminder_saves_it_and_resets_it(
    live: Live, page: Page, console: Console
) -> None:
    _sign_in_as_admin(live, page)
    page.get_by_role("link", name="Texts").click()
    expect(page.get_by_role("heading", name="Texts")).to_be_visible()
    page.get_by_role("link", name="Edit Reminder in English").click()
    expect(page.get_by_role("heading", name="Reminder (English)")).to_be_visible()

    box = page.get_by_role("textbox", name="Wording")
    box.fill("Hi {first name}, see you {when}.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("The 2 reasons are beside the wording.")
    expect(page.locator("#f-body-error")).to_contain_text("Keep {reply_hint}")
    assert _violations(page) == []
    box.fill(rules.shipped("reminder", "en"))

    longest = page.locator(".preview").nth(1)
    expect(longest.locator(".preview-count")).to_contain_text("1 SMS segment (GSM-7)")
    expect(longest.locator(".preview-warning")).to_be_hidden()
    expect(page.get_by_role("button", name="Preview")).to_be_hidden()  # the preview is live

    box.press("Control+End")
    box.press_sequentially(LONGER)
    expect(longest.locator(".preview-count")).to_contain_text("2 SMS segments (GSM-7)")
    expect(longest.locator(".preview-warning")).to_be_visible()
    expect(longest.locator(".preview-text")).to_contain_text(LONGER.strip())
    assert _violations(page) == []

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Reminder (English): version 1 saved")
    row = page.locator("#reminder-en")
    expect(row).to_contain_text(LONGER.strip())
    expect(row).to_contain_text("edited")

    row.get_by_role("link", name="Edit Reminder in English").click()
    expect(page.locator(".versions")).to_contain_text("by Bo Boss")
    page.get_by_role("button", name="Reset to default").click()
    expect(page.get_by_role("status")).to_contain_text("back to the shipped wording")
    row = page.locator("#reminder-en")
    expect(row).to_contain_text("shipped wording")
    expect(row).not_to_contain_text(LONGER.strip())
    expect(row.locator(".wording-body")).to_have_text(rules.shipped("reminder", "en"))
    # The refused save's 422 is the one answer the console reports.
    assert [p for p in console.problems() if "status of 422" not in p] == []


# Bodies whose placeholders the browser must fill exactly as domain.wording.render does.
FILLS = [
    "Hi {first_name}, see you {when}. {reply_hint}",
    "Hi {first_name},\nline two {practice}",
    "{first_name}{first_name} and  {practice_phone}",
    "Gone: {nope} and {first name} and {} end",
    "Empty {client_first_name}, {constructor} {toString}",
    "Brace { alone } and {{practice}}",
]
VALUES = {
    "first_name": "Lucía",
    "client_first_name": "",
    "practice": "Bright Path",
    "practice_phone": " (617) 555-0100 ",
    "when": "Thu Mar 4, 9:00 AM",
    "reply_hint": "Reply C to confirm or R to reschedule.",
}


def test_the_live_preview_fills_placeholders_as_the_server_does(
    live: Live, browser: Browser
) -> None:
    page = browser.new_context().new_page()
    page.goto(live.url + "/login")
    page.add_script_tag(url=live.url + "/static/template_preview.js")
    for body in FILLS:
        filled = page.evaluate("([b, v]) => window.touchbaseFill(b, v)", [body, VALUES])
        assert filled == rules.render(body, VALUES), body
    page.context.close()


# Kinds and bodies typed on their edit page: the live preview must show what the server's
# preview shows (a long cancellation drops the phone from its reply hint, as sending does).
TYPED = [
    ("reminder", "es", "Hola {first_name}, cita el {when}. {reply_hint}"),
    ("checkin_caregiver", "en", "{first_name}: how is {client_first_name}? {reply_hint}"),
    ("cancel_notice", "en", rules.shipped("cancel_notice", "en")),
    ("cancel_notice", "en", rules.shipped("cancel_notice", "en") + LONGER),
    ("cancel_notice_caregiver", "es", rules.shipped("cancel_notice_caregiver", "es") + LONGER),
    ("help", "en", "{practice} {nope} {first_name} {practice_phone}. Reply STOP to opt out."),
]


def _untimed(texts: list[str]) -> list[str]:
    """The texts with the clock times taken out: {when} is tomorrow at this minute, and the
    minute may turn between the page and the server's preview."""
    return [re.sub(r"\d{1,2}:\d{2}", "H:MM", t) for t in texts]


def test_the_live_preview_shows_what_the_server_renders(live: Live, page: Page) -> None:
    _sign_in_as_admin(live, page)
    for kind, language, body in TYPED:
        path = f"{live.url}/settings/texts/{kind}/{language}"
        page.goto(path)
        page.get_by_role("textbox", name="Wording").fill(body)
        typed = page.locator(".preview-text").all_inner_texts()
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        served = page.request.post(
            path, form={"csrf_token": token or "", "body": body, "action": "preview"}
        ).text()
        rendered = [html.unescape(t) for t in re.findall(r'class="preview-text">(.*?)</p>', served)]
        assert _untimed(typed) == _untimed(rendered), (kind, language, body)


def test_without_javascript_the_preview_button_asks_the_server(
    live: Live, browser: Browser
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _sign_in_as_admin(live, page)
    page.goto(live.url + "/settings/texts/reminder/en")
    page.get_by_role("textbox", name="Wording").fill(
        "Hi {first_name}, see you {when}." + LONGER * 2 + " {reply_hint}"
    )
    page.get_by_role("button", name="Preview").click()
    longest = page.locator(".preview").nth(1)
    expect(longest.locator(".preview-count")).to_contain_text("2 SMS segments")
    expect(longest.locator(".preview-warning")).to_be_visible()
    page.get_by_role("textbox", name="Wording").fill("Hi {first name}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-body-error")).to_contain_text('"{first name}" is not a placeholder')
    expect(page.get_by_role("alert")).to_contain_text("The 2 reasons are beside the wording.")
    context.close()
