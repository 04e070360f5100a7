"""Two-step sign-in in a real browser: turned on with a code computed from the secret the page
shows, then signing in with a code, with a recovery code, and changing the password."""

from __future__ import annotations

import time

import pyotp

from service import accounts
from service.config import settings_of
from service.db import get_db
from tests.browser.conftest import Console, Live, skip_without_a_browser

skip_without_a_browser()

from playwright.sync_api import Page, expect  # noqa: E402 - only once known to be installed

PASSWORD = "long-enough-pw"
NEW_PASSWORD = "a quiet lake at dawn"


def _password_step(page: Page, live: Live, password: str) -> None:
    page.goto(live.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill("ana@practice.test")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _code_step(page: Page, code: str) -> None:
    expect(page.get_by_role("heading", name="Sign-in code")).to_be_visible()
    page.locator('input[name="code"]').fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_two_step_sign_in_from_enrolment_to_a_recovery_code(
    live: Live, page: Page, console: Console
) -> None:
    with get_db(live.app).session() as session:
        accounts.create_user(
            session, settings_of(live.app), "ana@practice.test", "Ana Ruiz", PASSWORD
        )
        session.commit()
    _password_step(page, live, PASSWORD)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()

    # Turn it on: the QR code is drawn inline, the secret is there to type.
    page.goto(live.url + "/account")
    page.get_by_role("link", name="Turn on two-step sign-in").click()
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    totp = pyotp.TOTP(page.locator("#secret").inner_text().replace(" ", ""))
    page.locator('input[name="code"]').fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    recovery = page.locator("#recovery-codes code").all_inner_texts()
    assert len(recovery) == 10
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("#two-step")).to_contain_text("10 recovery codes left")
    _sign_out(page)

    # Password, then the app's code: the next step's, since the one just used cannot be
    # used again (one step of drift is accepted, so no waiting).
    _password_step(page, live, PASSWORD)
    _code_step(page, totp.at(time.time() + 30))
    _sign_out(page)

    # Password, then a recovery code, typed in capitals with a space.
    _password_step(page, live, PASSWORD)
    _code_step(page, recovery[0].upper().replace("-", " "))
    page.goto(live.url + "/account")
    expect(page.locator("#two-step")).to_contain_text("9 recovery codes left")
    assert console.problems() == []  # the QR code and every page kept to the CSP

    # Change the password on the account page, then sign in with the new one.
    form = page.locator('form[action="/account/password"]')
    form.locator('input[name="current_password"]').fill(PASSWORD)
    form.locator('input[name="new_password"]').fill(NEW_PASSWORD)
    form.locator('input[name="confirm_password"]').fill(NEW_PASSWORD)
    form.locator('button[type="submit"]').click()
    expect(page.get_by_role("status")).to_contain_text("Password changed")
    page.goto(live.url + "/")
    _sign_out(page)
    _password_step(page, live, NEW_PASSWORD)
    _code_step(page, recovery[1])
    assert console.problems() == []
