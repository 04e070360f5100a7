"""Phone numbers: parse anything a person types into E.164, or say why not."""

from __future__ import annotations

import phonenumbers

_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong number of digits",
}


class InvalidPhone(ValueError):
    """A phone number that cannot be texted; the message says why."""


def normalize(raw: str, region: str) -> str:
    """Return ``raw`` as an E.164 number, reading local formats in ``region``."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("a phone number is required")
    if len(text) > 40:
        raise InvalidPhone("too long to be a phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(_parse_reason(exc)) from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in _REASONS:
        raise InvalidPhone(_REASONS[possible])
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid number in its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalize(raw: str, region: str) -> str | None:
    """Return ``raw`` in E.164, or None when it is not a valid number."""
    try:
        return normalize(raw, region)
    except InvalidPhone:
        return None


def display(phone: str, region: str) -> str:
    """``phone`` as people write it: national format for a number of ``region`` ("(617)
    555-0123"), international for any other ("+44 20 7946 0958"); unreadable text as given."""
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return phone
    formats = phonenumbers.PhoneNumberFormat
    home = phonenumbers.region_code_for_number(number) == region
    style = formats.NATIONAL if home else formats.INTERNATIONAL
    return str(phonenumbers.format_number(number, style))


def mask(phone: str | None) -> str:
    """A number safe for logs: its last four digits only (``+*******0123``), enough to
    tell a practice's few hundred numbers apart when reading logs, not to dial one."""
    if not phone:
        return "-"
    if len(phone) <= 6:
        return "*" * len(phone)
    plus = "+" if phone.startswith("+") else ""
    return plus + "*" * (len(phone) - len(plus) - 4) + phone[-4:]


def _parse_reason(exc: phonenumbers.NumberParseException) -> str:
    return {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, "not a phone number")
