"""The practice's settings: any user reads them, an admin changes them (through
``service.practice_settings``: start-up's checks, an audit entry per change, and a re-plan
of every unsent text when the plan reads the value)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from service import practice_settings
from service.api.errors import ApiError, invalid
from service.api.inputs import Fields, json_body
from service.api.tokens import current_user
from service.config import NAME_STYLES, Settings, current_settings, settings_of
from service.db import get_session, utcnow
from service.domain.vocabulary import Language

bp = Blueprint("api_settings", __name__)
VIA = "api"
# In JSON a flag is a boolean and the threshold a number; the rest are strings written as
# their environment variables are ("48h,2h", "21:00-08:00"), the choices exactly as listed.
FLAGS = {
    "rebooking_texts",
    "two_step_for_admins",
    "two_step_for_everyone",
    "calendar_initials_only",
}
NUMBERS = {"pain_alert_threshold": (0, 10)}
CHOICES = {"default_language": tuple(Language), "names_in_texts": NAME_STYLES}
MAX_LENGTHS = {
    "practice_name": practice_settings.NAME_MAX,
    "practice_phone": 40,
    "practice_timezone": 64,
}
TEXT_MAX = 100


def settings_json(settings: Settings) -> dict[str, Any]:
    """The settings in force, as the API shows them."""
    return {
        **practice_settings.written(settings),
        "practice_phone": settings.practice_phone,
        "pain_alert_threshold": settings.pain_alert_threshold,
        "rebooking_texts": settings.rebooking_texts,
        "two_step_for_admins": settings.two_step_for_admins,
        "two_step_for_everyone": settings.two_step_for_everyone,
        "calendar_initials_only": settings.calendar_initials_only,
    }


@bp.get("/settings")
def show() -> dict[str, Any]:
    """The practice's settings in force."""
    return settings_json(current_settings())


def _read(fields: Fields, field: str) -> str | None:
    """One field as its environment variable would be written; None when refused."""
    if field in FLAGS:
        return "on" if fields.boolean(field, False) else "off"
    if field in NUMBERS:
        low, high = NUMBERS[field]
        number = fields.integer(field, low=low, high=high)
        return None if number is None else str(number)
    if field in CHOICES:
        return fields.choice(field, CHOICES[field])
    if field == "practice_phone" and fields.data[field] is None:
        return ""  # null: the practice gives no phone
    return fields.text(field, max_length=MAX_LENGTHS.get(field, TEXT_MAX))


@bp.patch("/settings")
def change() -> dict[str, Any]:
    """Change the settings sent (admins); 422 with every reason, and nothing saved, when
    any is refused. The answer has the settings now in force and how many planned texts
    the re-plan changed."""
    session, user = get_session(), current_user()
    if not user.is_admin:
        raise ApiError(403, "forbidden", "only an admin can change the practice's settings")
    fields = json_body(set(practice_settings.FIELDS))
    values = {}
    for field in practice_settings.FIELDS:
        if fields.has(field) and (value := _read(fields, field)) is not None:
            values[field] = value
    base = settings_of(current_app)
    try:
        practice_settings.check(base, {f: v for f, v in values.items() if f not in fields.errors})
    except practice_settings.InvalidSettings as refused:
        fields.errors.update(refused.errors)
    if fields.errors:
        raise invalid(fields.errors)
    saved = practice_settings.save(session, base, user, values, utcnow(), via=VIA)
    session.commit()
    return {**settings_json(saved.settings), "replanned": saved.replanned}
