"""The Procfile's commands, run for real as a Heroku-style platform runs them, and app.json.

A fresh deploy goes release → web → clock on a new database (the run's backend: SQLite, or
PostgreSQL when TEST_DATABASE_URL is set), with the environment app.json sets up. Every
process is started in its own process group and always killed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from service.config import DEFAULTS, parse_database_url
from service.models import OutboundMessage
from tests.fake_twilio import FakeTwilio, Reply
from tests.test_dispatch_processes import due_texts

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)  # the venv's flask and gunicorn
AUTH_TOKEN = "deploy-test-token"
PHONE = "+16175550123"
# app.json's top-level keys and the keys of each part, from Heroku's app.json schema.
APP_JSON_KEYS = {
    "name",
    "description",
    "keywords",
    "website",
    "repository",
    "logo",
    "success_url",
    "scripts",
    "env",
    "formation",
    "image",
    "addons",
    "buildpacks",
    "environments",
    "stack",
}
ENV_KEYS = {"description", "value", "required", "generator", "order"}
FORMATION_KEYS = {"quantity", "size"}
ADDON_KEYS = {"plan", "as", "options"}


def procfile() -> dict[str, str]:
    """The Procfile's process types and commands."""
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_platform_url(url: str) -> str:
    """The URL as Heroku hands it out: ``postgres://``, which the app must accept."""
    return re.sub(r"^postgresql\+psycopg://", "postgres://", url)


def platform_env(database_url: str, **more: str) -> dict[str, str]:
    """The environment of a dyno configured from app.json, and nothing from ours."""
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": as_platform_url(database_url),
        "WEB_CONCURRENCY": "2",
    }
    for name, spec in json.loads((ROOT / "app.json").read_text())["env"].items():
        if "value" in spec:
            env[name] = spec["value"]
    env["SECRET_KEY"] = "deploy-test-secret"
    env.update(more)
    return env


class Process:
    """A Procfile command running under ``bash -c`` in its own process group."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                ["bash", "-c", command],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self, timeout: float) -> int:
        """SIGTERM to every process of the command, as a platform stops a dyno; its exit code."""
        os.killpg(self.popen.pid, signal.SIGTERM)
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL whatever is left of the command."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Start Procfile commands; every one is killed at the end, whatever happened."""
    started: list[Process] = []

    def run(command: str, env: dict[str, str], name: str) -> Process:
        process = Process(command, env, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield run
    for process in started:
        process.kill()


def run_command(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a one-off Procfile command (release, clock --once) to the end."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def get(url: str, **headers: str) -> tuple[int, str]:
    """GET ``url``; the status and body, errors included."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def post(url: str, form: dict[str, str], **headers: str) -> tuple[int, str]:
    """POST a form to ``url``; the status and body."""
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for_health(process: Process, url: str, timeout: float = 60) -> dict[str, Any]:
    """Poll ``/healthz`` until it answers 200; its JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.popen.poll() is None, process.output()[-3000:]
        try:
            status, body = get(url + "/healthz")
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
            continue
        assert status == 200, body
        return json.loads(body)  # type: ignore[no-any-return]
    raise AssertionError(f"web never answered /healthz:\n{process.output()[-3000:]}")


# --- the Procfile and the platform files ---------------------------------------------------


def test_the_procfile_has_exactly_release_web_and_clock() -> None:
    commands = procfile()
    assert list(commands) == ["release", "web", "clock"]
    assert commands["release"] == "flask --app service db upgrade"
    assert commands["web"].startswith("gunicorn --config gunicorn.conf.py ")
    assert commands["clock"] == "python -m jobs.clock"


def test_app_json_uses_only_the_platforms_keys() -> None:
    spec = json.loads((ROOT / "app.json").read_text())
    assert set(spec) <= APP_JSON_KEYS
    assert spec["name"] and spec["description"]
    for name, var in spec["env"].items():
        assert set(var) <= ENV_KEYS, name
        assert var["description"].strip(), f"{name} needs a description"
        assert "value" in var or "generator" in var or var.get("required") is False, name
    for process in spec["formation"].values():
        assert set(process) <= FORMATION_KEYS
    for addon in spec["addons"]:
        assert set(addon) <= ADDON_KEYS
    assert spec["buildpacks"] == [{"url": "heroku/python"}]


def test_app_json_deploys_what_the_procfile_runs() -> None:
    spec = json.loads((ROOT / "app.json").read_text())
    assert spec["formation"] == {"web": {"quantity": 1}, "clock": {"quantity": 1}}
    assert set(spec["formation"]) == set(procfile()) - {"release"}
    assert [a["plan"] for a in spec["addons"]] == ["heroku-postgresql"]
    assert spec["env"]["SECRET_KEY"] == {
        "description": spec["env"]["SECRET_KEY"]["description"],
        "generator": "secret",
    }
    assert spec["env"]["TOUCHBASE_ENV"]["value"] == "production"
    assert spec["env"]["TRUSTED_PROXIES"]["value"] == "1"  # the platform's router


def test_app_json_describes_every_setting() -> None:
    # Every variable service/config.py reads, except DATABASE_URL (the add-on sets it).
    source = (ROOT / "service" / "config.py").read_text()
    read = set(re.findall(r'(?:get\(|env\[)"([A-Z][A-Z0-9_]+)"', source)) - {"DATABASE_URL"}
    assert set(DEFAULTS) <= read
    described = set(json.loads((ROOT / "app.json").read_text())["env"])
    assert read - described == set(), "add these to app.json's env, with a description"
    assert described - read == set(), "app.json names settings the app does not read"


def test_the_platform_python_is_one_the_project_supports() -> None:
    version = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))
    # The buildpack installs from requirements.txt: the project itself, from pyproject.toml.
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert [ln for ln in lines if ln.strip() and not ln.startswith("#")] == ["."]


# --- running the commands ------------------------------------------------------------------


def test_a_fresh_deploy_goes_from_release_to_web_and_clock(
    make_database: Callable[[], str], start: Callable[..., Process]
) -> None:
    url = make_database()
    port = free_port()
    env = platform_env(
        url,
        PORT=str(port),
        TWILIO_ACCOUNT_SID="AC" + "5" * 32,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER="+16175550100",
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{free_port()}",  # nothing is due; no network
    )
    commands = procfile()

    release = run_command(commands["release"], env)
    assert release.returncode == 0, release.stderr[-3000:]
    engine = create_engine(parse_database_url("url", url))
    assert {"users", "outbound_messages", "heartbeats"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    again = run_command(commands["release"], env)  # every deploy runs it: a no-op now
    assert again.returncode == 0, again.stderr[-3000:]

    web = start(commands["web"], env, "web")
    base = f"http://127.0.0.1:{port}"
    assert wait_for_health(web, base) == {
        "database": "ok",
        "clock": {"last_beat": None, "ok": False},
        "simulated": False,
    }

    clock = run_command(commands["clock"] + " --once", env)
    assert clock.returncode == 0, clock.stderr[-3000:]
    assert "dispatch: nothing due" in clock.stdout
    status, body = get(base + "/healthz")
    assert status == 200 and json.loads(body)["clock"]["ok"] is True

    # Behind the router (one trusted proxy), Twilio's signature of the https URL validates.
    public = "https://touchbase-demo.example.com/sms/inbound"
    form = {"MessageSid": "SM" + "d" * 32, "From": PHONE, "To": "+16175550100", "Body": "hi"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(public, form)
    # Heroku's router keeps the Host header and adds X-Forwarded-Proto/-Port/-For.
    routed = {
        "Host": "touchbase-demo.example.com",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        "X-Forwarded-For": "203.0.113.7",
    }
    status, answer = post(
        base + "/sms/inbound", form, **routed, **{"X-Twilio-Signature": signature}
    )
    assert status == 200 and "<Response" in answer
    assert post(base + "/sms/inbound", form, **routed)[0] == 403

    # One access line per request: the path, never the query string with its number.
    get(base + "/healthz?phone=%2B16175550123", **{"X-Request-Id": "req-deploy-1"})
    assert web.terminate(timeout=30) == 0
    log = web.output()
    [line] = [ln for ln in log.splitlines() if "request_id=req-deploy-1" in ln]
    assert '"GET /healthz" 200' in line
    assert "6175550123" not in log
    assert "Traceback" not in log


def test_web_answers_503_when_the_database_is_unreachable(start: Callable[..., Process]) -> None:
    port = free_port()
    env = platform_env("postgresql://postgres@127.0.0.1:1/nowhere", PORT=str(port))
    web = start(procfile()["web"], env, "web")
    deadline = time.monotonic() + 60
    while True:
        assert web.popen.poll() is None, web.output()[-3000:]
        try:
            status, body = get(f"http://127.0.0.1:{port}/healthz")
            break
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, web.output()[-3000:]
            time.sleep(0.05)
    assert status == 503
    assert json.loads(body)["database"] == "unreachable"
    assert web.terminate(timeout=30) == 0


def test_release_fails_when_the_migrations_fail(make_database: Callable[[], str]) -> None:
    unreachable = run_command(
        procfile()["release"], platform_env("postgresql://postgres@127.0.0.1:1/nowhere")
    )
    assert unreachable.returncode != 0
    assert "migrations failed: OperationalError" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    # A database migrated by a newer release than this one: refused, left as it is.
    url = make_database()
    engine = create_engine(parse_database_url("url", url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('from_the_future')"))
    newer = run_command(procfile()["release"], platform_env(url))
    assert newer.returncode != 0
    assert "migrations failed" in newer.stderr
    assert inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()


def test_the_clock_finishes_the_send_in_flight_on_sigterm_and_exits(
    session: Session, database_url: str, start: Callable[..., Process]
) -> None:
    count = 60
    due_texts(session, count)
    with FakeTwilio() as fake:
        answer = threading.Event()
        fake.script(Reply(until=answer))  # the first send is held: SIGTERM lands while it is out
        env = platform_env(
            database_url,
            TWILIO_ACCOUNT_SID=fake.account_sid,
            TWILIO_AUTH_TOKEN=fake.auth_token,
            TWILIO_FROM_NUMBER="+16175550100",
            TWILIO_API_BASE_URL=fake.base_url,
            SMS_SEND_CONCURRENCY="1",
        )
        clock = start(procfile()["clock"], env, "clock")
        deadline = time.monotonic() + 60
        while not fake.messages and time.monotonic() < deadline:
            assert clock.popen.poll() is None, clock.output()[-3000:]
            time.sleep(0.05)
        assert fake.messages, clock.output()[-3000:]
        stopping = threading.Event()

        def answer_once_stopping() -> None:
            # The scheduler logs its shutdown after the clock's handler set the stop: from
            # then on no send starts, and the one held can come back.
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline and not stopping.is_set():
                if "Scheduler has been shut down" in clock.output():
                    stopping.set()
                time.sleep(0.02)
            answer.set()

        threading.Thread(target=answer_once_stopping, daemon=True).start()
        assert clock.terminate(timeout=10) == 0, clock.output()[-3000:]
        assert stopping.is_set(), "the clock never said it was stopping"
        assert len(fake.sent) == 1  # the one in flight went out; nothing was started after
    session.expire_all()
    statuses = dict(
        session.execute(
            select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
        ).all()
    )
    assert statuses == {"sent": 1, "planned": count - 1}  # the rest handed back, none stuck


def test_gunicorn_is_set_for_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == ["0.0.0.0:5123"]
    assert settings["workers"] == 3
    assert settings["threads"] == 1  # sync workers: ``timeout`` caps each request
    assert settings["timeout"] < 30 and settings["graceful_timeout"] < 30  # the router's 30 s
    assert "%(U)s" in settings["access_log_format"]  # the path, never the query string
    assert (
        "%(r)s" not in settings["access_log_format"]
        and "%(q)s" not in settings["access_log_format"]
    )
    assert "%(f)s" not in settings["access_log_format"]  # nor the referrer's
