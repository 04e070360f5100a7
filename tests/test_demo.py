"""The one-command demo, run as a newcomer runs it: start, sign in, reply from a phone, stop.

Each run gets a temporary instance folder and a free port (``--port 0``, the URL is read
from the terminal output); the process is always killed at the end.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from service import demo

SAM = "+16175550123"  # a demo client with a few weeks of texts
REPLY = "Can I come Friday instead? (sent from the demo test)"


class Demo:
    """A running ``python -m service.demo``."""

    def __init__(self, instance: Path, log: Path, *args: str) -> None:
        self.log = log
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(instance.parent),
            # The demo must ignore all of these: its own SQLite, and never real texts.
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/not-the-demo",
            "TWILIO_ACCOUNT_SID": "AC" + "6" * 32,
            "TWILIO_AUTH_TOKEN": "real-looking-token",
            "TWILIO_FROM_NUMBER": "+16175550100",
            "TOUCHBASE_ENV": "production",
        }
        command = [sys.executable, "-m", "service.demo", "--instance", str(instance), *args]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=instance.parent, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self, timeout: float = 120) -> str:
        """Wait for the URL the demo prints when it is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"TouchBase demo running at (http://\S+/)", self.output())
            if found:
                return found.group(1)
            assert self.process.poll() is None, self.output()[-3000:]
            time.sleep(0.1)
        raise AssertionError(f"the demo never printed its URL:\n{self.output()[-3000:]}")

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C would; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def run_demo(tmp_path: Path) -> Iterator[Callable[..., Demo]]:
    """Start the demo on a free port in one instance folder; killed at the end regardless."""
    started: list[Demo] = []

    def start(*args: str) -> Demo:
        running = Demo(tmp_path / "instance", tmp_path / f"demo-{len(started)}.log", *args)
        started.append(running)
        return running

    yield start
    for running in started:
        running.kill()


def sign_in(url: str, output: str) -> requests.Session:
    """Sign in with the therapist login the demo printed."""
    email, password = re.search(r"sign in as\s+(\S+) / (\S+)\s+\(therapist\)", output).groups()  # type: ignore[union-attr]
    browser = requests.Session()
    page = browser.get(url + "login", timeout=30)
    response = browser.post(
        url + "login",
        data={"csrf_token": csrf(page.text), "email": email, "password": password},
        timeout=30,
    )
    assert response.status_code == 200 and response.url == url, response.text[-2000:]
    return browser


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def test_a_newcomer_runs_the_demo_and_replies_from_a_phone(run_demo: Callable[..., Demo]) -> None:
    first = run_demo("--port", "0")
    url = first.url()
    assert "texts are simulated" in first.output()
    browser = sign_in(url, first.output())
    inbox = browser.get(url, timeout=30)
    assert "<h1>Inbox</h1>" in inbox.text and "things need a look" in inbox.text

    phone = browser.get(url + "simulator/", params={"phone": SAM}, timeout=30)
    assert phone.status_code == 200
    assert "Reply C to confirm or R to reschedule" in phone.text  # what Sam's phone received
    sent = browser.post(
        url + "simulator/reply",
        data={"csrf_token": csrf(phone.text), "phone": SAM, "body": REPLY},
        timeout=30,
    )
    assert sent.status_code == 200 and REPLY in sent.text  # back on the phone's screen
    assert REPLY in browser.get(url, timeout=30).text  # and in the practice's inbox
    assert first.stop() == 0
    output = first.output()
    assert "demo stopped" in output
    assert "6175550123" not in output and REPLY not in output  # masked numbers, no bodies

    # A second run keeps the demo database, reply included.
    second = run_demo("--port", "0")
    url = second.url()
    assert "(reused; --reset starts over)" in second.output()
    assert REPLY in sign_in(url, second.output()).get(url, timeout=30).text
    assert second.stop() == 0

    # --reset starts over: fresh demo data, without the reply.
    third = run_demo("--port", "0", "--reset")
    url = third.url()
    assert "(new, demo practice loaded)" in third.output()
    assert REPLY not in sign_in(url, third.output()).get(url, timeout=30).text
    assert third.stop() == 0


def test_a_busy_port_is_said_plainly(run_demo: Callable[..., Demo]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_demo("--port", str(port))
        assert busy.process.wait(timeout=60) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in busy.output()
    assert "--port 0" in busy.output() and "Traceback" not in busy.output()


def test_the_console_script_is_declared() -> None:
    import tomllib

    root = Path(__file__).resolve().parent.parent
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"touchbase-demo": "service.demo:main"}
    assert callable(demo.main)
