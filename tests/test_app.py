"""The app factory: configuration comes in as an argument; nothing happens at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from service import create_app, settings_of
from service.config import DEFAULTS, ConfigError


def test_it_imports_without_reading_the_environment() -> None:
    # A broken environment must not break the import, only create_app().
    code = "import service, service.models, jobs; print('imported')"
    env = {"DATABASE_URL": "mysql://nope", "QUIET_HOURS": "never", "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"


def test_it_takes_its_configuration_as_an_argument(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a configuration, the environment is not read at all.
    monkeypatch.setenv("QUIET_HOURS", "never")
    monkeypatch.setenv("PRACTICE_TIMEZONE", "Europe/Madrid")
    app = create_app(
        {"DATABASE_URL": database_url, "PRACTICE_NAME": "Calm Hands", "TOUCHBASE_ENV": "test"}
    )
    assert settings_of(app).practice_name == "Calm Hands"
    assert settings_of(app).practice_timezone == DEFAULTS["PRACTICE_TIMEZONE"]
    assert app.config["TESTING"] is True


def test_it_stops_with_the_variable_named_on_bad_configuration() -> None:
    with pytest.raises(ConfigError, match="PAIN_ALERT_THRESHOLD"):
        create_app({"PAIN_ALERT_THRESHOLD": "-1", "SECRET_KEY": "k"})


def test_it_makes_cookies_secure_in_production(database_url: str) -> None:
    app = create_app(
        {"DATABASE_URL": database_url, "TOUCHBASE_ENV": "production", "SECRET_KEY": "s" * 40}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_bad_environment_gives_one_line_and_no_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service", "create-token", "a@b.co"],
        env={"QUIET_HOURS": "late", "PATH": "", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "QUIET_HOURS" in done.stderr
