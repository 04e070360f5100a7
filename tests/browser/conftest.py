"""Browser fixtures: the app served on a free local port, and Debian's Chromium via Playwright.

Playwright's own browser download is never used (it needs the network): the tests drive
``/usr/bin/chromium``. The test modules skip, saying how to enable them, when Chromium or
the playwright package is missing, so nothing here imports playwright at module level.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:  # the package is optional: test_dashboard.py skips when it is missing
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AUTH_TOKEN = "browser-test-token"


def skip_without_a_browser() -> None:
    """Skip the calling test module, saying how to enable it, without Chromium or Playwright."""
    missing = [
        step
        for step, absent in (
            ("apt-get install chromium", not os.path.exists(CHROMIUM)),
            ("pip install playwright", importlib.util.find_spec("playwright") is None),
        )
        if absent
    ]
    if missing:
        pytest.skip(
            "browser tests need Debian's Chromium and the playwright package; enable them "
            "with: " + " and ".join(missing),
            allow_module_level=True,
        )


PRACTICE_NUMBER = "+16175550100"


class _Late:
    """A WSGI app set after the server is bound, so the app can be told its own URL."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class Live:
    """The app as a browser and Twilio reach it."""

    app: Flask
    url: str


@pytest.fixture
def live(make_app: Callable[..., Flask]) -> Iterator[Live]:
    """The app on 127.0.0.1 and a free port, with Twilio set to a fake token and this URL."""
    late = _Late()
    server: BaseWSGIServer = make_server("127.0.0.1", 0, late, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    late.app = make_app(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=PRACTICE_NUMBER,
        PUBLIC_BASE_URL=url,
    )
    # shutdown() waits for the loop to look at its flag: every 0.05 s, not the default 0.5 s.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield Live(late.app, url)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the run."""
    # Imported here, not at the top: without the optional package this conftest must still
    # load, so that the test modules can skip with their message.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@dataclass
class Console:
    """What the page said on its console (CSP violations are reported there as errors)."""

    messages: list[str] = field(default_factory=list)

    def record(self, message: ConsoleMessage) -> None:
        self.messages.append(f"{message.type}: {message.text}")

    def problems(self) -> list[str]:
        """Errors and warnings, CSP violations among them."""
        return [
            m
            for m in self.messages
            if m.startswith(("error", "warning")) or "Content Security Policy" in m
        ]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh tablet-to-laptop sized page whose console is recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.on("console", console.record)
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def text_from_phone(live: Live, sender: str, body: str) -> str:
    """Post an inbound text to the webhook, signed as Twilio signs it; the TwiML answer."""
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": PRACTICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    url = live.url + "/sms/inbound"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"X-Twilio-Signature": signature},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return str(response.read().decode())
