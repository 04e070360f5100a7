"""The practice's saved settings: what an admin edits in the dashboard or the API.

The environment variables of the same names (upper case) are the first-run defaults; once a
value is saved here, the saved value wins. A value is stored as written, in its variable's
form ("48h,2h", "21:00-08:00", "on"), and read by start-up's own code (``load_settings``),
so the dashboard and the environment accept exactly the same values, with the same message
when they do not.

Readers get ``effective``: the environment's ``Settings`` with the saved values over them.
A request reads it once (``config.current_settings``); the clock's jobs and the dispatcher
read it at every tick. A saved value that no longer reads (a check made stricter by an
upgrade) is passed over with a warning, never a crash.

``save`` checks every value before writing any (all the reasons at once, nothing half
saved), audits each change with its old and new value, and when a value the plan depends on
changed, re-plans every unsent text in the same transaction. Saves take turns with one
another and with the clock's planning (``hold``), so no planning tick can write a plan made
with a value a save has just replaced.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from service import audit, planner
from service.config import EFFECTIVE, ConfigError, Settings, load_settings
from service.db import get_session
from service.domain import clinical
from service.models import Appointment, PracticeSetting, User

log = logging.getLogger(__name__)

# What the practice may edit, by the name of its ``Settings`` field (its environment
# variable is the same in upper case), in the order the dashboard shows them.
FIELDS = (
    "practice_name",
    "practice_phone",
    "practice_timezone",
    "default_language",
    "reminder_offsets",
    "checkin_offsets",
    "quiet_hours",
    "pain_alert_threshold",
    "rebooking_texts",
    "names_in_texts",
    "two_step_for_admins",
    "two_step_for_everyone",
    "calendar_initials_only",
)
# A change of one of these changes when, or in which words, planned texts go out.
REPLANS = frozenset(
    {
        "practice_name",
        "practice_phone",
        "practice_timezone",
        "reminder_offsets",
        "checkin_offsets",
        "quiet_hours",
        "names_in_texts",
    }
)
# May be saved empty: the practice has no phone to give.
OPTIONAL = frozenset({"practice_phone"})
NAME_MAX = 60  # the practice's name is in most texts: a long one costs a second segment
VALUE_MAX = 200


class InvalidSettings(Exception):
    """Values refused, each with its reason (the environment variable's message)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{env_name(k)}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Saved:
    """What a save did: the settings now in force, each change as (old, new) in the
    environment's form, and how many planned texts the re-plan changed."""

    settings: Settings
    changes: dict[str, tuple[str, str]]
    replanned: int


def env_name(field: str) -> str:
    """The environment variable a setting comes from."""
    return field.upper()


@functools.lru_cache(maxsize=256)
def _read_alone(name: str, raw: str, region: str) -> Settings:
    """Start-up's reading of one variable, the others left at their defaults."""
    environment = {"SECRET_KEY": "unused", "DATABASE_URL": "sqlite://", "DEFAULT_REGION": region}
    return load_settings({**environment, name: raw}, "")


def parse(field: str, raw: str, region: str) -> Any:
    """The value ``raw`` gives ``field``, as start-up reads its variable; ConfigError (with
    start-up's message) when it does not read."""
    name, value = env_name(field), raw.strip()
    if not value:
        if field in OPTIONAL:
            return None
        raise ConfigError(f"{name}: required")
    if len(value) > VALUE_MAX:
        raise ConfigError(f"{name}: longer than {VALUE_MAX} characters")
    if field == "practice_name":
        # Start-up takes any name; one typed in a form goes into every text as it is.
        if len(value) > NAME_MAX:
            raise ConfigError(f"{name}: longer than {NAME_MAX} characters")
        if not value.isprintable():
            raise ConfigError(f"{name}: {raw!r} has a line break or a control character")
    return getattr(_read_alone(name, value, region), field)


def reason(exc: ConfigError, field: str) -> str:
    """A refusal's message without its "configuration error: NAME:" lead (the field's
    label says which it is)."""
    return str(exc.code).removeprefix(f"configuration error: {env_name(field)}: ")


def _duration(value: timedelta) -> str:
    hours, minutes = divmod(int(value.total_seconds()) // 60, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


def shown(field: str, value: Any) -> str:
    """A setting's value written as its environment variable would be."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if field == "quiet_hours":
        start, end = value
        return f"{start:%H:%M}-{end:%H:%M}"
    if isinstance(value, tuple) and value and all(isinstance(v, timedelta) for v in value):
        return ",".join(_duration(v) for v in value)
    return str(value)


def written(settings: Settings) -> dict[str, str]:
    """Every editable setting in force, as its environment variable would be written."""
    return {field: shown(field, getattr(settings, field)) for field in FIELDS}


def saved_values(session: Session) -> dict[str, str]:
    """The values the practice saved, as written, by field (one small query)."""
    rows = session.execute(select(PracticeSetting.name, PracticeSetting.value))
    return {name: value for name, value in rows}


@functools.lru_cache(maxsize=64)
def _warn_once(field: str, value: str, why: str) -> None:
    log.warning("saved setting %s is not used: %s", env_name(field), why)


def overlay(base: Settings, saved: Mapping[str, str]) -> Settings:
    """``base`` with each saved value that reads over it; one that does not is passed over
    with a warning (once), so the environment's value stays in force."""
    changes = {}
    for field, value in saved.items():
        if field not in FIELDS:
            _warn_once(field, value, "not a setting the practice can edit")
            continue
        try:
            changes[field] = parse(field, value, base.default_region)
        except ConfigError as exc:
            _warn_once(field, value, reason(exc, field))
    return replace(base, **changes) if changes else base


def effective(session: Session, base: Settings) -> Settings:
    """The settings in force: ``base`` (the environment's) with the saved values over it."""
    return overlay(base, saved_values(session))


def hold(session: Session, *, exclusive: bool = False) -> None:
    """Keep the saved settings as they are until this transaction ends.

    A save holds them ``exclusive``ly, so saves take turns; the clock's planning holds them
    shared, so a save waits for a planning tick in progress and the tick for the save, and
    no tick writes a plan made with a value just replaced. PostgreSQL: a table lock that
    plain reads never wait for. SQLite: its one write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        mode = "SHARE ROW EXCLUSIVE" if exclusive else "SHARE"
        session.execute(text(f"LOCK TABLE practice_settings IN {mode} MODE"))
    else:
        session.execute(
            update(PracticeSetting)
            .where(PracticeSetting.name == "")
            .values(name=PracticeSetting.name)
        )


def check(base: Settings, values: Mapping[str, str]) -> dict[str, Any]:
    """Every value read as start-up reads it; InvalidSettings with every reason otherwise."""
    parsed, errors = {}, {}
    for field, raw in values.items():
        if field not in FIELDS:
            errors[field] = "not a setting the practice can edit"
            continue
        try:
            parsed[field] = parse(field, raw, base.default_region)
        except ConfigError as exc:
            errors[field] = reason(exc, field)
    # The name goes into most texts, so a save refuses a diagnosis or condition in it (start-up
    # does not); a treatment may stay, since practices are named after their trade.
    if terms := clinical.found(parsed.get("practice_name") or "", conditions_only=True):
        errors["practice_name"] = "; ".join(clinical.reason(term) for term in terms)
    if errors:
        raise InvalidSettings(errors)
    return parsed


def _stored(field: str, raw: str, value: Any, region: str) -> str:
    """What is kept for a value: its usual writing ("2h,48h" for "48h, 2h"), unless that
    would not read back the same (a word a parser learned that ``shown`` does not know)."""
    usual = shown(field, value)
    try:
        same = parse(field, usual, region) == value
    except ConfigError:
        same = False
    return usual if same else raw.strip()


def save(
    session: Session,
    base: Settings,
    user: User | None,
    values: Mapping[str, str],
    now: datetime,
    *,
    via: str,
) -> Saved:
    """Check ``values`` (field: text as its variable would be written), then save those
    that differ from the settings in force, audit each, and re-plan every unsent text when
    one the plan depends on changed; InvalidSettings with every reason, and nothing
    written, when any is refused. The caller commits."""
    parsed = check(base, values)
    hold(session, exclusive=True)
    before = effective(session, base)  # read again under the lock: not a request's copy
    changed = {f: v for f, v in parsed.items() if v != getattr(before, f)}
    if not changed:
        return Saved(before, {}, 0)
    after = replace(before, **changed)
    changes = {}
    for field, value in changed.items():
        old = shown(field, getattr(before, field))
        new = _stored(field, values[field], value, base.default_region)
        _write(session, field, new, user, now)
        audit.record(session, user, "change", "setting", field, old=old, new=new, via=via)
        changes[field] = (old, new)
    replanned = replan(session, before, after, now) if REPLANS & changed.keys() else 0
    return Saved(after, changes, replanned)


def _write(session: Session, field: str, value: str, user: User | None, now: datetime) -> None:
    row = session.get(PracticeSetting, field)
    if row is None:
        row = PracticeSetting(name=field)
        session.add(row)
    row.value, row.updated_at = value, now
    row.updated_by_id = user.id if user is not None else None


def replan(session: Session, before: Settings, after: Settings, now: datetime) -> int:
    """Re-plan every unsent text with ``after``; how many planned texts changed.

    As far back as either settings' check-ins reach: a check-in the old offsets planned for
    a session the new ones no longer reach is still unsent, and must go too. Texts sent or
    being sent are never touched (``planner``).
    """
    counts = planner.plan_horizon(session, after, now)  # new occurrences first
    since = now - max(planner.lookback(before), planner.lookback(after))
    clients: Iterable[int] = session.scalars(
        select(Appointment.client_id).where(Appointment.ends_at >= since).distinct()
    )
    counts.add(planner.replan_clients(session, after, clients, now, since=since))
    return counts.planned + counts.updated + counts.cancelled


def _for_request(base: Settings) -> Settings:
    return effective(get_session(), base)


def init_app(app: Flask) -> None:
    """Make ``config.current_settings`` give the settings in force."""
    app.extensions[EFFECTIVE] = _for_request
