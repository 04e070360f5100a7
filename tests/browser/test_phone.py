"""Every dashboard page on a phone: no sideways scrolling, a short header, tap targets big
enough for a thumb, and axe-core finding nothing, at 390 x 844 and 360 x 740.

One app, one seeded demo practice and one browser tab per role (a therapist, an admin, nobody
signed in) serve the whole module; each test opens one page of ``PAGES`` at both sizes. A new
page is one line in ``PAGES``: its path may name the ids in ``Ids`` (``/series/{series}/end``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from service import calendar_links, create_app
from service import demo_data as demo
from service.config import settings_of
from service.db import get_db
from service.domain.vocabulary import AlertKind
from service.models import (
    Alert,
    Appointment,
    AppointmentSeries,
    Client,
    Contact,
    OutboundMessage,
    User,
)
from tests.browser.conftest import skip_without_a_browser
from tests.conftest import base_config, clean_tables

skip_without_a_browser()

from axe_playwright_python.sync_playwright import Axe  # noqa: E402 - once known to be installed
from playwright.sync_api import Browser, Page  # noqa: E402

SIZES = ((390, 844), (360, 740))
HEADER_MAX = 64
TARGET_MIN = 24  # WCAG 2.2, 2.5.8: every link and button
PRIMARY_MIN = 44  # buttons and action links a therapist taps between sessions
AXE = Axe()  # reads axe-core's script once
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass(frozen=True)
class Ids:
    """The rows of the demo practice the paths name."""

    client: int  # Maria Lopez: a Spanish-speaking client with a caregiver and a series
    contact: int
    series: int
    appointment: int  # her next session
    unknown: int  # the inbox item of a text from a number that matches no client
    therapist: int  # Ana's account
    call: int  # the check-in call to Ruth Alvarez the demo left unanswered


# (name, path, who is signed in: the therapist "ana", "admin", or nobody ""): every page.
PAGES = [
    ("inbox", "/", "ana"),
    ("schedule", "/schedule", "ana"),
    ("schedule of every therapist", "/schedule", "admin"),
    ("clients list", "/clients", "admin"),
    ("client page", "/clients/{client}", "ana"),
    ("new client", "/clients/new", "ana"),
    ("edit client", "/clients/{client}/edit", "ana"),
    ("new contact", "/clients/{client}/contacts/new", "ana"),
    ("edit contact", "/contacts/{contact}/edit", "ana"),
    ("new series", "/clients/{client}/series/new", "ana"),
    ("edit series", "/series/{series}/edit", "ana"),
    ("end series", "/series/{series}/end", "ana"),
    ("new appointment", "/clients/{client}/appointments/new", "ana"),
    ("move", "/appointments/{appointment}/move", "ana"),
    ("cancel", "/appointments/{appointment}/cancel", "ana"),
    ("link an unknown number", "/alerts/{unknown}/link", "ana"),
    ("export", "/export", "ana"),
    ("import clients", "/clients/import", "admin"),
    ("accounts", "/admin/users", "admin"),
    ("user form", "/admin/users/new", "admin"),
    ("edit an account", "/admin/users/{therapist}", "admin"),
    ("everyone's API tokens", "/admin/tokens", "admin"),
    ("your account", "/account", "ana"),
    ("your account with a calendar address", "/account", "admin"),
    ("two-step enrolment", "/account/two-step", "ana"),
    ("settings", "/settings", "admin"),
    ("texts", "/settings/texts", "admin"),
    ("edit a text", "/settings/texts/reminder/en", "admin"),
    ("edit a caregiver's text", "/settings/texts/checkin_caregiver/es", "admin"),
    ("phone simulator", "/simulator/", "ana"),
    ("phone simulator, Maria's phone", "/simulator/?phone=%2B16175550111", "ana"),
    ("phone simulator, Ruth's calls", "/simulator/?phone=%2B16175550231", "ana"),
    ("a call on the phone simulator", "/simulator/call/{call}?phone=%2B16175550231", "ana"),
    ("error page", "/clients/999999", "ana"),
    ("login", "/login", ""),
    ("forgotten password", "/login/forgot", ""),
    ("texted reset code", "/login/forgot/code", ""),
    ("reset link no longer valid", "/reset/not-a-token", ""),
]
# The pages that are right to answer 404: what they show is that nothing is there.
NOT_FOUND = {"error page", "reset link no longer valid"}

# Every target a finger may need: links, buttons, summaries, and what acts like them.
TARGETS = "a[href], button, summary, input[type=submit], input[type=checkbox], select"
PRIMARY = "button:not(.link), .button, a.action, input[type=submit]"
MEASURE = """([targets, primary]) => {
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && style.visibility !== 'hidden'
      && r.right > 0 && r.left < innerWidth;
  };
  const size = (el) => {
    const r = el.getBoundingClientRect();
    return {text: (el.innerText || el.value || el.name || el.tagName).trim().slice(0, 40),
            width: Math.round(r.width * 10) / 10, height: Math.round(r.height * 10) / 10};
  };
  const header = document.querySelector('header');
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: innerWidth,
    header: header ? header.getBoundingClientRect().height : 0,
    targets: [...document.querySelectorAll(targets)].filter(shown).map(size),
    primary: [...document.querySelectorAll(primary)].filter(shown).map(size),
  };
}"""


@dataclass
class Phone:
    """The module's browser tab and the ids its paths use."""

    url: str
    tabs: dict[str, Page]  # by who is signed in, "" for nobody
    ids: Ids

    def path(self, template: str) -> str:
        return self.url + template.format(**asdict(self.ids))


def _ids(app: Any) -> Ids:
    with get_db(app).session() as session:
        maria = session.scalars(select(Client).where(Client.name == "Maria Lopez")).one()
        return Ids(
            client=maria.id,
            contact=session.scalars(
                select(Contact.id).where(Contact.client_id == maria.id, Contact.name != maria.name)
            ).first()
            or 0,
            series=session.scalars(
                select(AppointmentSeries.id).where(AppointmentSeries.client_id == maria.id)
            ).first()
            or 0,
            appointment=session.scalars(
                select(Appointment.id)
                .where(Appointment.client_id == maria.id, Appointment.starts_at > datetime.now(UTC))
                .order_by(Appointment.starts_at)
            ).first()
            or 0,
            unknown=session.scalars(
                select(Alert.id).where(Alert.kind == AlertKind.UNKNOWN_SENDER)
            ).first()
            or 0,
            therapist=session.scalars(
                select(User.id).where(User.email == "ana@touchbase.demo")
            ).one(),
            call=session.scalars(
                select(OutboundMessage.id)
                .join(Client, Client.id == OutboundMessage.client_id)
                .where(Client.name == "Ruth Alvarez", OutboundMessage.status == "delivered")
                .where(OutboundMessage.kind == "checkin")
                .order_by(OutboundMessage.send_at.desc())
            ).first()
            or 0,
        )


@pytest.fixture(scope="module")
def phone(database_url: str, browser: Browser) -> Iterator[Phone]:
    """The app on a free port with the demo practice, and a tab signed in as its admin."""
    app = create_app(base_config(database_url))  # texts simulated: the simulator is on
    with get_db(app).session() as session:
        demo.load(session, settings_of(app), datetime.now(UTC))
        admin = session.scalars(select(User).where(User.email == demo.ADMIN_EMAIL)).one()
        calendar_links.create(session, admin, settings_of(app).secret_key, datetime.now(UTC))
        session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    contexts = [browser.new_context(viewport={"width": 390, "height": 844}) for _ in range(3)]
    try:
        tabs = dict(zip(("ana", "admin", ""), (c.new_page() for c in contexts), strict=True))
        _sign_in(tabs["ana"], url, "ana@touchbase.demo")
        _sign_in(tabs["admin"], url, demo.ADMIN_EMAIL)
        yield Phone(url, tabs, _ids(app))
    finally:
        for context in contexts:
            context.close()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        clean_tables(app)
        get_db(app).engine.dispose()


def _sign_in(tab: Page, url: str, email: str) -> None:
    tab.goto(url + "/login")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(demo.PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(url + "/")


def problems(tab: Page) -> list[str]:
    """What is wrong with the page as shown now, one line each."""
    seen = tab.evaluate(MEASURE, [TARGETS, PRIMARY])
    found = []
    if seen["scrollWidth"] > seen["innerWidth"]:
        found.append(f"document {seen['scrollWidth']} px wide in {seen['innerWidth']} px")
    if seen["header"] > HEADER_MAX:
        found.append(f"header {seen['header']} px tall")
    found += [
        f"target {t['text']!r} {t['width']}x{t['height']}"
        for t in seen["targets"]
        if t["width"] < TARGET_MIN or t["height"] < TARGET_MIN
    ]
    found += [
        f"primary {t['text']!r} {t['width']}x{t['height']}"
        for t in seen["primary"]
        if t["width"] < PRIMARY_MIN or t["height"] < PRIMARY_MIN
    ]
    axe = AXE.run(tab)
    found += [
        f"axe {v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in axe.response["violations"]
    ]
    return found


@pytest.mark.parametrize(("name", "path", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_the_page_works_on_a_phone(phone: Phone, name: str, path: str, who: str) -> None:
    tab = phone.tabs[who]
    found = []
    for width, height in SIZES:
        tab.set_viewport_size({"width": width, "height": height})
        response = tab.goto(phone.path(path))
        assert response is not None
        assert response.status == (404 if name in NOT_FOUND else 200), name
        found += [f"{width}x{height} {p}" for p in problems(tab)]
    assert not found, f"{name}:\n" + "\n".join(found)


def test_the_menu_opens_the_navigation_by_keyboard(phone: Phone) -> None:
    tab = phone.tabs["ana"]
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.goto(phone.url + "/")
    schedule = tab.get_by_role("link", name="Schedule")
    assert not schedule.is_visible()
    tab.get_by_text("Menu").focus()
    tab.keyboard.press("Enter")
    schedule.wait_for(state="visible")
    tab.keyboard.press("Escape")
    schedule.wait_for(state="hidden")
    assert tab.evaluate("document.activeElement.textContent") == "Menu"
    tab.keyboard.press("Space")
    schedule.click()
    tab.wait_for_url(phone.url + "/schedule")


def test_without_its_script_the_navigation_stays_open(phone: Phone, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    try:
        tab = context.new_page()
        _sign_in(tab, phone.url, "ana@touchbase.demo")
        assert tab.get_by_role("link", name="Schedule").is_visible()
        assert not tab.get_by_text("Menu").is_visible()
        assert tab.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


def test_phone_screenshots(phone: Phone, tmp_path: Path) -> None:
    # The README's phone pictures are refreshed with UPDATE_SCREENSHOTS=1; otherwise they are
    # taken all the same, into a scratch folder, so a test run leaves the tree clean.
    shots = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    tab = phone.tabs["ana"]
    tab.set_viewport_size({"width": 390, "height": 844})
    for name, path in (("inbox", "/"), ("schedule", "/schedule"), ("client", "/clients/{client}")):
        tab.goto(phone.path(path))
        tab.screenshot(path=str(shots / f"phone-{name}.png"))
        assert (shots / f"phone-{name}.png").stat().st_size > 10_000
