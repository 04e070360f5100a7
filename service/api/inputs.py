"""Reading API input: each reader returns a clean value or records why the field is wrong."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from flask import request

from service.api.errors import ApiError, invalid
from service.domain import calendar_names, planning, sampling
from service.phones import InvalidPhone, normalize
from service.values import MAX_ID, is_time_zone, whole_number

_MISSING = object()
NOT_NULL = "must not be null"
# Line breaks and tabs are text; other control characters (NUL above all, which PostgreSQL
# cannot store) are not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _has_text(value: str) -> bool:
    """True unless ``value`` is all white space (as the document's patterns count it)."""
    # The patterns' \s is ECMAScript's, which counts a byte order mark; Python's strip keeps it.
    return bool(value.replace("\ufeff", " ").strip())


class Fields:
    """Collects field errors while reading a JSON object, then raises them all at once.

    One rule for every field, as the OpenAPI document says it: an absent field takes its
    default; ``null`` is refused unless the field is ``nullable`` (where null means
    something: no end, nobody, the practice's default); an empty or blank string is
    refused unless ``empty`` (notes may be cleared); a length counts every character sent.
    """

    def __init__(self, data: dict[str, Any], allowed: set[str]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}
        for name in sorted(set(data) - allowed):
            self.errors[name] = "unknown field"

    def has(self, name: str) -> bool:
        """True when the body carries ``name``."""
        return name in self.data

    def _value(self, name: str, *, required: bool, nullable: bool) -> Any:
        """The value given, or ``_MISSING`` when absent or an allowed null (errors noted)."""
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.errors[name] = "is required"
            return _MISSING
        if value is None:
            if required or not nullable:
                self.errors[name] = NOT_NULL
            return _MISSING
        return value

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        empty: bool = False,
        max_length: int = 200,
    ) -> str | None:
        """A string (trimmed), or None when absent (or null, where allowed)."""
        value = self._value(name, required=required, nullable=nullable)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not (_has_text(value) or empty):
            self.errors[name] = "must be a non-empty string" if not empty else "must be a string"
            return None
        if len(value) > max_length:  # as sent: the document's maxLength counts every character
            self.errors[name] = f"must be at most {max_length} characters"
            return None
        if _CONTROL.search(value):
            self.errors[name] = "must not contain control characters"
            return None
        return value.strip()

    def raw_text(self, name: str, *, required: bool = False, max_length: int) -> str | None:
        """A string exactly as sent (even empty or blank), or None when absent."""
        value = self._value(name, required=required, nullable=False)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.errors[name] = "must be a string"
            return None
        if len(value) > max_length:
            self.errors[name] = f"must be at most {max_length} characters"
            return None
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """A JSON boolean, or ``default`` when absent."""
        value = self._value(name, required=False, nullable=False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.errors[name] = "must be true or false"
            return default
        return value

    def integer(
        self,
        name: str,
        *,
        low: int,
        high: int,
        default: int | None = None,
        nullable: bool = False,
    ) -> int | None:
        """A JSON integer within [low, high], ``default`` when absent, None for an allowed
        null."""
        value = self.data.get(name, _MISSING)
        if value is _MISSING or (value is None and nullable):
            return default if value is _MISSING else None
        if value is None:
            self.errors[name] = NOT_NULL
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.errors[name] = f"must be a whole number from {low} to {high}"
            return default
        return value

    def checkin_days(self, name: str) -> str | None:
        """Check-in days as stored (``"1,3,5"``, or ``"auto"``) from a list of whole days or
        ``"auto"``; None when null."""
        value = self.data.get(name)
        if value is None:
            return None
        if value == sampling.AUTO:
            return sampling.AUTO
        if not isinstance(value, list) or not all(type(v) is int for v in value):
            self.errors[name] = 'must be a list of whole days like [1, 3, 5], "auto", or null'
            return None
        try:
            days = planning.parse_checkin_days(",".join(str(v) for v in value))
        except ValueError as exc:
            self.errors[name] = str(exc)
            return None
        return days if isinstance(days, str) else ",".join(str(d) for d in days)

    def calendar_name(self, name: str) -> str | None:
        """A client's calendar name, trimmed; None for null, "" or blank (the default: first
        name and last initial). At most ``calendar_names.MAX_LENGTH`` characters as sent,
        with a letter or digit."""
        value = self.text(name, nullable=True, empty=True, max_length=calendar_names.MAX_LENGTH)
        if value is None or not _has_text(value):
            return None
        reason = calendar_names.refusal(value)
        if reason is not None:
            self.errors[name] = reason
            return None
        return value

    def choice(
        self,
        name: str,
        options: tuple[str, ...],
        default: str | None = None,
        *,
        required: bool = False,
    ) -> str | None:
        """One of ``options``, or ``default`` when absent."""
        value = self._value(name, required=required, nullable=False)
        if value is _MISSING:
            return default
        if value not in options:
            self.errors[name] = f"must be one of {', '.join(options)}"
            return default
        return str(value)

    def timezone(self, name: str, *, required: bool = False) -> str | None:
        """A known IANA time zone name, or None when absent."""
        value = self.text(name, required=required, max_length=64)
        if value is None:
            return None
        if not is_time_zone(value):
            self.errors[name] = f"{value!r} is not a known time zone"
            return None
        return value

    def phone(
        self, name: str, region: str, *, required: bool = False, nullable: bool = False
    ) -> str | None:
        """A phone number in E.164, read in ``region``, or None when absent."""
        value = self.text(name, required=required, nullable=nullable, max_length=40)
        if value is None:
            return None
        try:
            return normalize(value, region)
        except InvalidPhone as exc:
            self.errors[name] = f"invalid phone number: {exc}"
            return None

    def local_or_aware(
        self, name: str, *, required: bool = False, nullable: bool = False
    ) -> datetime | None:
        """A date-time of the documented shape, with or without an offset (naive means local),
        or None when absent."""
        if self.text(name, required=required, nullable=nullable, max_length=40) is None:
            return None
        parsed = parse_datetime(self.data[name])  # untrimmed: the pattern allows no spaces
        if parsed is None:
            self.errors[name] = DATETIME_RULE
        return parsed

    def done(self) -> None:
        """Raise the 422 with every field error found, if any."""
        if self.errors:
            raise invalid(self.errors)


# The one shape of date-time the API reads, as its OpenAPI document states it (the `pattern`
# of every date-time there is built from these): a date and a time to the minute (seconds
# and fractions optional), with or without an offset or Z, in the years 1900 to 2200. ASCII
# digits only, each part within its range; only days a month lacks (Feb 30) get past it.
LOCAL_DATETIME = (
    r"(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
)
OFFSET = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
DATETIME = re.compile(f"{LOCAL_DATETIME}{OFFSET}?")
DATETIME_RULE = "must be an ISO 8601 date-time like 2027-03-04T09:00, in the years 1900 to 2200"


def parse_datetime(value: str) -> datetime | None:
    """A date-time of the documented shape, exactly as sent, or None when it is not one."""
    if not DATETIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # the right shape, but no such day (Feb 30)
        return None


def _is_unicode(data: Any) -> bool:
    """True when every string in ``data`` is Unicode text, as a database can store it."""
    # JSON may escape half a surrogate pair ("\\ud800"), which no UTF-8 column can hold.
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_body(allowed: set[str]) -> Fields:
    """The request's JSON object, ready to read; 400 when it is not a JSON object of text."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: certainly not our object
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    if not _is_unicode(data):
        raise ApiError(400, "bad_request", "the body's strings must be Unicode text")
    return Fields(data, allowed)


def query_int(name: str) -> int | None:
    """An integer query parameter, or None when absent; 422 naming it when malformed (an
    empty value too: the document asks for a number)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    number = whole_number(raw, max_digits=len(str(MAX_ID)))
    if number is None or not 0 < number <= MAX_ID:
        raise invalid({name: f"must be a whole number from 1 to {MAX_ID}"})
    return number


def query_datetime(name: str) -> datetime | None:
    """A date-time query parameter, or None when absent; 422 naming it when malformed."""
    raw = request.args.get(name)
    if raw is None:
        return None
    parsed = parse_datetime(raw)
    if parsed is None:
        raise invalid({name: DATETIME_RULE})
    return parsed
