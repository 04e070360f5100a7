"""Configuration, read from the environment once, refusing bad values at start-up.

Every setting goes through a small typed parser; a bad value raises ``ConfigError`` whose
one-line message names the variable, so an operator sees it in the release log instead of
a traceback at the first request. An empty string counts as unset.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta

import phonenumbers
from flask import Flask, current_app, g
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from service import phones
from service.domain import sampling
from service.domain.vocabulary import Language
from service.values import is_time_zone

ENVIRONMENTS = ("development", "production", "test")
# How names appear in texts: as written, or with accents and other marks taken off so that
# "Lucía" reads "Lucia" and the text stays GSM-7.
NAME_STYLES = ("as_written", "plain_letters")
TEST_PASSWORD_HASH = "pbkdf2:sha256:1"  # the test suite's only: see password_hash_method
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
MAX_OFFSET = timedelta(days=30)
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class ConfigError(SystemExit):
    """A setting has a bad value; the message names the variable.

    It is a SystemExit so that every entry point (the flask CLI, gunicorn, the clock)
    stops with the one-line message and no traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"configuration error: {message}")


@dataclass(frozen=True)
class Settings:
    """Everything TouchBase reads from its environment, parsed and checked."""

    env: str
    database_url: str
    secret_key: str
    secret_key_generated: bool
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from_number: str | None
    twilio_messaging_service_sid: str | None
    twilio_api_base_url: str
    public_base_url: str | None
    practice_name: str
    practice_phone: str | None
    practice_timezone: str
    default_region: str
    quiet_hours: tuple[time, time]
    reminder_offsets: tuple[timedelta, ...]
    checkin_offsets: sampling.CheckinOffsets  # fixed, or AUTO: each client's rhythm
    pain_alert_threshold: int
    planning_horizon_days: int = 14
    sms_send_concurrency: int = 4
    sms_max_per_second: float | None = None  # all clock processes together (send_rate)
    sms_max_attempts: int = 5
    # Calls a second, all clock processes together: Twilio's default for an account is one.
    voice_max_per_second: float = 1.0
    trusted_proxies: int = 0
    rebooking_texts: bool = False
    two_step_for_admins: bool = False  # admins must turn on two-step sign-in
    two_step_for_everyone: bool = False  # every user must turn on two-step sign-in
    calendar_initials_only: bool = False  # calendar feed titles: "M. G.", not "Maria G."
    default_language: str = "en"  # of new clients
    names_in_texts: str = "as_written"  # or "plain_letters": see NAME_STYLES
    calendar_feeds_allow_private: bool = False  # feeds may use private addresses (tests)
    # How long a text to a contact on sms_then_voice waits for a reply before its one call.
    voice_fallback_after: timedelta = timedelta(hours=4)

    @property
    def twilio_configured(self) -> bool:
        """True when real Twilio credentials are set (otherwise texts are simulated)."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def password_hash_method(self) -> str:
        """How new passwords are hashed: scrypt, memory-hard, everywhere but the test suite,
        where one fast PBKDF2 round keeps thousands of sign-ins quick. Only
        ``TOUCHBASE_ENV=test`` gives the fast one, and production refuses to be that."""
        return TEST_PASSWORD_HASH if self.env == "test" else "scrypt"

    @property
    def practice_phone_shown(self) -> str:
        """The practice's number as texts and pages show it: DEFAULT_REGION's national
        format ("(617) 555-0100"), international when the number is from elsewhere."""
        if not self.practice_phone:
            return ""
        return phones.display(self.practice_phone, self.default_region)

    @property
    def phone_simulator(self) -> bool:
        """True when staff may play a client's phone: texts simulated, and not production
        (a production deploy still missing its Twilio settings must not take made-up
        replies into real clients' records)."""
        return not self.twilio_configured and self.env != "production"


def parse_duration(name: str, raw: str) -> timedelta:
    """Parse ``24h``, ``90m``, ``2d`` or ``1h30m`` into a positive timedelta."""
    text = raw.strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(text)
    if not text or not match or not any(match.groups()):
        raise ConfigError(f"{name}: {raw!r} is not a duration like 24h, 90m or 2d")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    if days > MAX_OFFSET.days or hours > 24 * MAX_OFFSET.days or minutes > 1440 * MAX_OFFSET.days:
        raise ConfigError(f"{name}: {raw!r} is longer than {MAX_OFFSET.days} days")
    value = timedelta(days=days, hours=hours, minutes=minutes)
    if not timedelta(0) < value <= MAX_OFFSET:
        raise ConfigError(f"{name}: {raw!r} must be longer than zero and at most 30 days")
    return value


def parse_offsets(name: str, raw: str) -> tuple[timedelta, ...]:
    """Parse a comma-separated list of durations, sorted and without repeats."""
    parts = [p for p in raw.split(",") if p.strip()]
    if not parts:
        raise ConfigError(f"{name}: {raw!r} is not a list of durations like 24h,72h")
    return tuple(sorted({parse_duration(name, p) for p in parts}))


def parse_checkin_offsets(name: str, raw: str) -> sampling.CheckinOffsets:
    """Parse check-in offsets: ``auto`` (any case; days that follow each client's rhythm,
    ``service.domain.sampling``) or fixed durations after each session like ``24h,72h``."""
    if raw.strip().lower() == sampling.AUTO:
        return sampling.AUTO
    if not any(c.isdigit() for c in raw):  # a word, not a mistyped duration
        raise ConfigError(f"{name}: {raw!r} is not auto or a list of durations like 24h,72h")
    return parse_offsets(name, raw)


def parse_quiet_hours(name: str, raw: str) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM``; the window may wrap past midnight."""
    pieces = raw.replace(" ", "").split("-")
    clocks = [_CLOCK.fullmatch(p) for p in pieces]
    if len(pieces) != 2 or not all(clocks):
        raise ConfigError(f"{name}: {raw!r} is not a window like 21:00-08:00")
    start, end = (time(int(m.group(1)), int(m.group(2))) for m in clocks if m)
    return start, end


def parse_timezone(name: str, raw: str) -> str:
    """Return ``raw`` when it is a known IANA time zone name."""
    if not is_time_zone(raw):
        raise ConfigError(f"{name}: {raw!r} is not a known IANA time zone")
    return raw


def parse_language(name: str, raw: str) -> str:
    """Return the language code (``en``, ``es``) when texts are written in it."""
    code = raw.strip().lower()
    if code not in tuple(Language):
        raise ConfigError(f"{name}: {raw!r} is not one of {', '.join(Language)}")
    return code


def parse_name_style(name: str, raw: str) -> str:
    """``as_written`` or ``plain_letters`` (also written with a space or a dash)."""
    style = raw.strip().lower().replace(" ", "_").replace("-", "_")
    if style not in NAME_STYLES:
        raise ConfigError(f"{name}: {raw!r} is not one of {', '.join(NAME_STYLES)}")
    return style


def parse_database_url(name: str, raw: str) -> str:
    """Check a database URL and point PostgreSQL URLs at the psycopg 3 driver."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"{name}: {raw!r} is not a database URL") from None
    backend = url.get_backend_name()
    if backend == "postgres" or backend == "postgresql":
        # Heroku still hands out postgres://; SQLAlchemy wants postgresql+psycopg://.
        url = url.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ConfigError(f"{name}: only postgresql:// and sqlite:// are supported, not {backend}")
    return url.render_as_string(hide_password=False)


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is not between {low} and {high}")
    return value


def _url(name: str, raw: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", raw):
        raise ConfigError(f"{name}: {raw!r} is not an http(s) URL")
    return raw.rstrip("/")


def _phone(name: str, raw: str, region: str) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ConfigError(f"{name}: {raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ConfigError(f"{name}: {raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Every setting that has a default, with it: the README's table says the same.
DEFAULTS: dict[str, str] = {
    "TOUCHBASE_ENV": "development",
    "TWILIO_API_BASE_URL": "https://api.twilio.com",
    "PRACTICE_NAME": "TouchBase",
    "PRACTICE_TIMEZONE": "America/New_York",
    "DEFAULT_REGION": "US",
    "QUIET_HOURS": "21:00-08:00",
    "REMINDER_OFFSETS": "24h",
    "CHECKIN_OFFSETS": "auto",
    "PAIN_ALERT_THRESHOLD": "8",
    "PLANNING_HORIZON_DAYS": "14",
    "SMS_SEND_CONCURRENCY": "4",
    "SMS_MAX_ATTEMPTS": "5",
    "VOICE_MAX_PER_SECOND": "1",
    "TRUSTED_PROXIES": "0",
    "REBOOKING_TEXTS": "off",
    "TWO_STEP_FOR_ADMINS": "off",
    "TWO_STEP_FOR_EVERYONE": "off",
    "CALENDAR_INITIALS_ONLY": "off",
    "DEFAULT_LANGUAGE": "en",
    "NAMES_IN_TEXTS": "as_written",
    "CALENDAR_FEEDS_ALLOW_PRIVATE": "off",
    "VOICE_FALLBACK_AFTER": "4h",
}


def load_settings(environ: Mapping[str, str], instance_path: str) -> Settings:
    """Read and check every setting from ``environ`` (defaults from ``DEFAULTS``); raise
    ConfigError naming the first bad one."""
    given = {k: v.strip() for k, v in environ.items() if isinstance(v, str) and v.strip()}
    env = {**DEFAULTS, **given}
    get = env.get
    mode = env["TOUCHBASE_ENV"]
    if mode not in ENVIRONMENTS:
        raise ConfigError(f"TOUCHBASE_ENV: {mode!r} is not one of {', '.join(ENVIRONMENTS)}")
    secret = get("SECRET_KEY")
    if secret is None and mode == "production":
        raise ConfigError("SECRET_KEY: required when TOUCHBASE_ENV=production")
    region = env["DEFAULT_REGION"].upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"DEFAULT_REGION: {region!r} is not a known region code like US")
    from_number = _sender(env)
    practice_phone = get("PRACTICE_PHONE")
    max_per_second = get("SMS_MAX_PER_SECOND")
    database = get("DATABASE_URL") or f"sqlite:///{instance_path}/touchbase.sqlite3"
    return Settings(
        env=mode,
        database_url=parse_database_url("DATABASE_URL", database),
        secret_key=secret or secrets.token_hex(32),
        secret_key_generated=secret is None,
        twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
        twilio_from_number=_phone("TWILIO_FROM_NUMBER", from_number, region)
        if from_number
        else None,
        twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID"),
        twilio_api_base_url=_url("TWILIO_API_BASE_URL", env["TWILIO_API_BASE_URL"]),
        public_base_url=_url("PUBLIC_BASE_URL", v) if (v := get("PUBLIC_BASE_URL")) else None,
        practice_name=env["PRACTICE_NAME"],
        practice_phone=_phone("PRACTICE_PHONE", practice_phone, region) if practice_phone else None,
        practice_timezone=parse_timezone("PRACTICE_TIMEZONE", env["PRACTICE_TIMEZONE"]),
        default_region=region,
        quiet_hours=parse_quiet_hours("QUIET_HOURS", env["QUIET_HOURS"]),
        reminder_offsets=parse_offsets("REMINDER_OFFSETS", env["REMINDER_OFFSETS"]),
        checkin_offsets=parse_checkin_offsets("CHECKIN_OFFSETS", env["CHECKIN_OFFSETS"]),
        pain_alert_threshold=_int("PAIN_ALERT_THRESHOLD", env["PAIN_ALERT_THRESHOLD"], 0, 10),
        planning_horizon_days=_int("PLANNING_HORIZON_DAYS", env["PLANNING_HORIZON_DAYS"], 1, 366),
        sms_send_concurrency=_int("SMS_SEND_CONCURRENCY", env["SMS_SEND_CONCURRENCY"], 1, 64),
        sms_max_per_second=_rate("SMS_MAX_PER_SECOND", max_per_second) if max_per_second else None,
        sms_max_attempts=_int("SMS_MAX_ATTEMPTS", env["SMS_MAX_ATTEMPTS"], 1, 20),
        voice_max_per_second=_rate("VOICE_MAX_PER_SECOND", env["VOICE_MAX_PER_SECOND"]),
        trusted_proxies=_int("TRUSTED_PROXIES", env["TRUSTED_PROXIES"], 0, 5),
        rebooking_texts=_flag("REBOOKING_TEXTS", env["REBOOKING_TEXTS"]),
        two_step_for_admins=_flag("TWO_STEP_FOR_ADMINS", env["TWO_STEP_FOR_ADMINS"]),
        two_step_for_everyone=_flag("TWO_STEP_FOR_EVERYONE", env["TWO_STEP_FOR_EVERYONE"]),
        calendar_initials_only=_flag("CALENDAR_INITIALS_ONLY", env["CALENDAR_INITIALS_ONLY"]),
        default_language=parse_language("DEFAULT_LANGUAGE", env["DEFAULT_LANGUAGE"]),
        names_in_texts=parse_name_style("NAMES_IN_TEXTS", env["NAMES_IN_TEXTS"]),
        calendar_feeds_allow_private=_flag(
            "CALENDAR_FEEDS_ALLOW_PRIVATE", env["CALENDAR_FEEDS_ALLOW_PRIVATE"]
        ),
        voice_fallback_after=parse_duration("VOICE_FALLBACK_AFTER", env["VOICE_FALLBACK_AFTER"]),
    )


def _sender(env: Mapping[str, str]) -> str | None:
    """TWILIO_FROM_NUMBER as given; required, or a messaging service, with credentials."""
    from_number = env.get("TWILIO_FROM_NUMBER")
    credentials = env.get("TWILIO_ACCOUNT_SID") and env.get("TWILIO_AUTH_TOKEN")
    if credentials and not (from_number or env.get("TWILIO_MESSAGING_SERVICE_SID")):
        raise ConfigError(
            "TWILIO_FROM_NUMBER: required (or TWILIO_MESSAGING_SERVICE_SID) with Twilio credentials"
        )
    return from_number


def _flag(name: str, raw: str) -> bool:
    """``on``/``off`` (also true/false, yes/no, 1/0), case-insensitive."""
    value = raw.lower()
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{name}: {raw!r} is not on or off")


def _rate(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None
    if not 0 < value <= 1000:
        raise ConfigError(f"{name}: {value} is not between 0 and 1000")
    return value


def settings_of(app: Flask) -> Settings:
    """The parsed settings of ``app``."""
    settings: Settings = app.config["TOUCHBASE"]
    return settings


# Where an app keeps the function that reads the settings in force (``service.practice_settings``
# registers it: the practice's saved settings over the environment's).
EFFECTIVE = "touchbase.effective_settings"


def current_settings() -> Settings:
    """The settings in force for the current app context: the environment's, with what the
    practice saved in the dashboard over them; read once per request (or CLI command)."""
    settings: Settings | None = g.get("touchbase_settings")
    if settings is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        read = app.extensions.get(EFFECTIVE)
        settings = read(settings_of(app)) if read else settings_of(app)
        g.touchbase_settings = settings
    return settings


def settings_without_database() -> Settings:
    """The settings this request has read, or else the environment's from now on: for an
    answer that must not touch the database (the page saying it cannot be reached)."""
    settings: Settings = g.get("touchbase_settings") or settings_of(current_app)
    g.touchbase_settings = settings
    return settings
