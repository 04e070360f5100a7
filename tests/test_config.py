"""Configuration: defaults, a one-line error naming the variable for each bad value, and the
fast password hash of the tests nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from service.config import DEFAULTS, ENVIRONMENTS, TEST_PASSWORD_HASH, ConfigError, load_settings
from service.db import get_db
from service.models import User
from tests.dashboard.conftest import PASSWORD, make_staff, signed_in

BASE = {"TOUCHBASE_ENV": "test", "SECRET_KEY": "k"}


def settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings({**BASE, **env}, "/srv/instance")


def test_it_has_practice_defaults() -> None:
    s = load_settings({}, "/srv/instance")
    assert s.database_url == "sqlite:////srv/instance/touchbase.sqlite3"
    assert s.practice_timezone == "America/New_York"
    assert s.default_region == "US"
    assert s.quiet_hours == (time(21, 0), time(8, 0))
    assert s.reminder_offsets == (timedelta(hours=24),)
    assert s.checkin_offsets == "auto"
    assert s.pain_alert_threshold == 8
    assert s.twilio_api_base_url == "https://api.twilio.com"
    assert not s.twilio_configured


def test_it_generates_a_secret_key_in_development() -> None:
    s = load_settings({}, "/srv/instance")
    assert s.secret_key_generated and len(s.secret_key) >= 32


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example:5432/tb", "postgresql+psycopg://u:p@db.example:5432/tb"),
        ("postgresql://u@localhost/tb", "postgresql+psycopg://u@localhost/tb"),
        ("postgresql+psycopg://u@localhost/tb", "postgresql+psycopg://u@localhost/tb"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_it_points_postgres_urls_at_psycopg3(given: str, expected: str) -> None:
    assert settings(DATABASE_URL=given).database_url == expected


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"TOUCHBASE_ENV": "staging"}, "TOUCHBASE_ENV"),
        ({"TOUCHBASE_ENV": "production", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"PRACTICE_TIMEZONE": "Mars/Olympus"}, "PRACTICE_TIMEZONE"),
        ({"PRACTICE_TIMEZONE": "../etc/passwd"}, "PRACTICE_TIMEZONE"),
        ({"DEFAULT_REGION": "XX"}, "DEFAULT_REGION"),
        ({"QUIET_HOURS": "9pm-8am"}, "QUIET_HOURS"),
        ({"QUIET_HOURS": "21:00"}, "QUIET_HOURS"),
        ({"QUIET_HOURS": "25:00-08:00"}, "QUIET_HOURS"),
        ({"REMINDER_OFFSETS": "1 day"}, "REMINDER_OFFSETS"),
        ({"REMINDER_OFFSETS": ","}, "REMINDER_OFFSETS"),
        ({"CHECKIN_OFFSETS": "24h,-3h"}, "CHECKIN_OFFSETS"),
        ({"CHECKIN_OFFSETS": "0h"}, "CHECKIN_OFFSETS"),
        ({"CHECKIN_OFFSETS": "automatic"}, "CHECKIN_OFFSETS"),
        ({"CHECKIN_OFFSETS": "auto,24h"}, "CHECKIN_OFFSETS"),
        ({"REMINDER_OFFSETS": "auto"}, "REMINDER_OFFSETS"),
        ({"PAIN_ALERT_THRESHOLD": "eleven"}, "PAIN_ALERT_THRESHOLD"),
        ({"PAIN_ALERT_THRESHOLD": "11"}, "PAIN_ALERT_THRESHOLD"),
        ({"TWILIO_API_BASE_URL": "ftp://x"}, "TWILIO_API_BASE_URL"),
        ({"PUBLIC_BASE_URL": "example.com"}, "PUBLIC_BASE_URL"),
        ({"TWILIO_FROM_NUMBER": "12"}, "TWILIO_FROM_NUMBER"),
        ({"PRACTICE_PHONE": "call us"}, "PRACTICE_PHONE"),
        ({"SMS_SEND_CONCURRENCY": "0"}, "SMS_SEND_CONCURRENCY"),
        ({"SMS_MAX_PER_SECOND": "fast"}, "SMS_MAX_PER_SECOND"),
        ({"VOICE_MAX_PER_SECOND": "fast"}, "VOICE_MAX_PER_SECOND"),
        ({"VOICE_MAX_PER_SECOND": "0"}, "VOICE_MAX_PER_SECOND"),
        ({"VOICE_MAX_PER_SECOND": "-1"}, "VOICE_MAX_PER_SECOND"),
        ({"VOICE_MAX_PER_SECOND": "1001"}, "VOICE_MAX_PER_SECOND"),
        ({"VOICE_MAX_PER_SECOND": "unlimited"}, "VOICE_MAX_PER_SECOND"),
        ({"PLANNING_HORIZON_DAYS": "400"}, "PLANNING_HORIZON_DAYS"),
        ({"PRACTICE_TIMEZONE": "America"}, "PRACTICE_TIMEZONE"),
        ({"REMINDER_OFFSETS": "999999d"}, "REMINDER_OFFSETS"),
        ({"REMINDER_OFFSETS": "99999999999999999999d"}, "REMINDER_OFFSETS"),
        ({"CHECKIN_OFFSETS": "31d"}, "CHECKIN_OFFSETS"),
        ({"VOICE_FALLBACK_AFTER": "soon"}, "VOICE_FALLBACK_AFTER"),
        ({"VOICE_FALLBACK_AFTER": "0h"}, "VOICE_FALLBACK_AFTER"),
        ({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, "TWILIO_FROM_NUMBER"),
    ],
)
def test_it_refuses_a_bad_value_naming_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**env)
    message = str(caught.value)
    assert message.startswith(f"configuration error: {variable}:")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("24h", (timedelta(hours=24),)),
        ("72h, 24h", (timedelta(hours=24), timedelta(hours=72))),
        ("2d,90m", (timedelta(minutes=90), timedelta(days=2))),
        ("1h30m", (timedelta(minutes=90),)),
        ("24h,24h", (timedelta(hours=24),)),
    ],
)
def test_it_reads_offset_lists(raw: str, expected: tuple[timedelta, ...]) -> None:
    assert settings(REMINDER_OFFSETS=raw).reminder_offsets == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("auto", "auto"),
        (" AUTO ", "auto"),
        ("24h,72h", (timedelta(hours=24), timedelta(hours=72))),
        ("3d, 1d", (timedelta(days=1), timedelta(days=3))),
    ],
)
def test_it_reads_checkin_offsets_auto_or_fixed(raw: str, expected: object) -> None:
    assert settings(CHECKIN_OFFSETS=raw).checkin_offsets == expected


def test_it_reads_how_long_a_text_waits_before_its_call() -> None:
    assert settings().voice_fallback_after == timedelta(hours=4)
    assert settings(VOICE_FALLBACK_AFTER="1h30m").voice_fallback_after == timedelta(minutes=90)


def test_calls_have_a_send_rate_of_their_own_one_a_second_unless_told() -> None:
    # Twilio's default for outbound calls: one a second per account, apart from texts.
    assert settings().voice_max_per_second == 1.0
    assert settings(VOICE_MAX_PER_SECOND="  ").voice_max_per_second == 1.0  # unset
    told = settings(VOICE_MAX_PER_SECOND="0.5", SMS_MAX_PER_SECOND="30")
    assert (told.voice_max_per_second, told.sms_max_per_second) == (0.5, 30.0)
    assert settings(SMS_MAX_PER_SECOND="30").voice_max_per_second == 1.0


def test_it_reads_a_daytime_quiet_window() -> None:
    assert settings(QUIET_HOURS="12:00 - 13:30").quiet_hours == (time(12, 0), time(13, 30))


def test_it_normalizes_phone_settings_to_e164() -> None:
    s = settings(TWILIO_FROM_NUMBER="(617) 555-0123", PRACTICE_PHONE="617.555.0100")
    assert (s.twilio_from_number, s.practice_phone) == ("+16175550123", "+16175550100")


@pytest.mark.parametrize(
    ("phone", "region", "shown"),
    [
        ("617.555.0100", "US", "(617) 555-0100"),  # texts to clients write it as people do
        ("+44 20 7946 0958", "US", "+44 20 7946 0958"),  # another country's stays international
        ("020 7946 0958", "GB", "020 7946 0958"),
        ("", "US", ""),
    ],
)
def test_texts_show_the_practice_phone_in_the_national_format(
    phone: str, region: str, shown: str
) -> None:
    assert settings(PRACTICE_PHONE=phone, DEFAULT_REGION=region).practice_phone_shown == shown


def test_it_treats_empty_values_as_unset() -> None:
    s = settings(TWILIO_ACCOUNT_SID="", QUIET_HOURS="  ")
    assert s.twilio_account_sid is None
    assert s.quiet_hours == (time(21, 0), time(8, 0))


def test_the_readme_states_every_default_the_code_has() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    for name, default in DEFAULTS.items():
        [row] = [r for r in rows if f"`{name}`" in r.split("|")[1]]
        assert f"`{default}`" in row.split("|")[2], (name, default)


def test_only_the_test_suite_hashes_passwords_fast() -> None:
    # Every environment is named: a new one must choose its hash here, on purpose.
    methods = {env: settings(TOUCHBASE_ENV=env).password_hash_method for env in ENVIRONMENTS}
    assert methods == {"development": "scrypt", "production": "scrypt", "test": TEST_PASSWORD_HASH}


@pytest.mark.parametrize("env", ["production", "development"])
def test_a_user_made_on_the_command_line_outside_tests_gets_scrypt(
    make_app: Callable[..., Flask], env: str
) -> None:
    app = make_app(TOUCHBASE_ENV=env)
    result = app.test_cli_runner().invoke(
        args=["create-user", "cy@practice.test", "--name", "Cy Chen", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert stored_hashes(app) == {"cy@practice.test": "scrypt"}


@pytest.mark.parametrize("env", ["production", "development"])
def test_a_user_made_in_the_dashboard_outside_tests_gets_scrypt(
    make_app: Callable[..., Flask], env: str
) -> None:
    app = make_app(TOUCHBASE_ENV=env)
    admin = signed_in(app, make_staff(app, "boss@practice.test", "Bo Boss", admin=True))
    response = admin.post(
        "/admin/users/new",
        {"name": "Cy Chen", "email": "cy@practice.test", "role": "therapist", "password": PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored_hashes(app) == {"boss@practice.test": "scrypt", "cy@practice.test": "scrypt"}


def stored_hashes(app: Flask) -> dict[str, str]:
    """Each account's password hash method, as stored (the hash's prefix)."""
    with get_db(app).session() as session:
        rows = session.execute(select(User.email, User.password_hash)).all()
    return {email: stored.split(":", 1)[0] for email, stored in rows}
