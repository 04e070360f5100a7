"""Reading HTML forms: each reader returns a clean value or records why the field is wrong.

A ``Form`` keeps every value as typed, so a page that fails validation is shown again with
the person's input and one message per field, next to the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from service.domain import planning
from service.phones import InvalidPhone, normalize
from service.values import is_time_zone, whole_number

# Line breaks and tabs are text; other control characters (NUL above all, which PostgreSQL
# cannot store) are not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


def sentence(reason: str) -> str:
    """A checker's reason ("the text is empty") as the dashboard writes its messages beside a
    field: capital first, full stop last (none added after one inside closing quotes)."""
    ends = reason.rstrip("\"”')")
    return reason[:1].upper() + reason[1:] + ("" if ends.endswith((".", "!", "?")) else ".")


class Form:
    """Typed values from a submitted form, the raw text of each field, and field errors."""

    def __init__(
        self, data: Mapping[str, str] | None = None, defaults: Mapping[str, str] | None = None
    ) -> None:
        """Read ``data`` when the form was submitted, else show ``defaults``."""
        self.submitted = data is not None
        # A submitted form keeps exactly what was sent: an unticked box is absent, not default.
        source = data if data is not None else (defaults or {})
        self.values: dict[str, str] = {k: v for k, v in source.items() if k != "csrf_token"}
        self.errors: dict[str, str] = {}

    @property
    def ok(self) -> bool:
        """True when no field was refused."""
        return not self.errors

    def raw(self, name: str) -> str:
        """The field as typed, trimmed."""
        return self.values.get(name, "").strip()

    def checkin_days(self, name: str) -> str | None:
        """Check-in days as stored (``"1,3,5"`` or ``"auto"``), or None when left empty (the
        practice's)."""
        value = self.raw(name)
        if not value:
            return None
        try:
            days = planning.parse_checkin_days(value[:100])
        except ValueError as exc:
            self.errors[name] = f"{str(exc).capitalize()}."
            return None
        return days if isinstance(days, str) else ",".join(str(d) for d in days)

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str | None:
        """The trimmed text, or None when empty and not required."""
        value = self.raw(name)
        if not value:
            if required:
                self.errors[name] = "Required."
            return None
        if len(value) > max_length:
            self.errors[name] = f"At most {max_length} characters."
            return None
        if _CONTROL.search(value):
            self.errors[name] = "Contains characters that cannot be stored."
            return None
        return value

    def checkbox(self, name: str) -> bool:
        """True when the box was ticked."""
        return bool(self.raw(name))

    def choice(self, name: str, options: tuple[str, ...], default: str | None = None) -> str | None:
        """One of ``options``, or ``default`` when empty."""
        value = self.raw(name)
        if not value:
            return default
        if value not in options:
            self.errors[name] = "Choose one of the options."
            return default
        return value

    def integer(self, name: str, *, low: int, high: int, required: bool = False) -> int | None:
        """A whole number within [low, high], or None when empty and not required."""
        value = self.raw(name)
        if not value:
            if required:
                self.errors[name] = "Required."
            return None
        number = whole_number(value)
        if number is None or not low <= number <= high:
            self.errors[name] = f"A whole number from {low} to {high}."
            return None
        return number

    def phone(self, name: str, region: str, *, required: bool = False) -> str | None:
        """A phone number in E.164, read in ``region``, or None when empty and not required."""
        value = self.text(name, required=required, max_length=40)
        if value is None:
            return None
        try:
            return normalize(value, region)
        except InvalidPhone as exc:
            self.errors[name] = f"Not a phone number we can text: {exc}."
            return None

    def timezone(self, name: str, *, required: bool = True) -> str | None:
        """A known IANA time zone name such as America/New_York."""
        value = self.text(name, required=required, max_length=64)
        if value is None:
            return None
        if not is_time_zone(value):
            self.errors[name] = "Not a known time zone; use a name like America/New_York."
            return None
        return value

    def local_datetime(self, name: str, *, required: bool = True) -> datetime | None:
        """A naive local date and time, as a ``datetime-local`` field sends it."""
        value = self.text(name, required=required, max_length=40)
        if value is None:
            return None
        for pattern in LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(value, pattern)
            except ValueError:
                continue
            if 1900 <= parsed.year <= 2200:
                return parsed
        self.errors[name] = "A date and time like 2027-03-04 09:00."
        return None

    def date(self, name: str, *, required: bool = False) -> date | None:
        """A calendar date (YYYY-MM-DD), or None when empty and not required."""
        value = self.text(name, required=required, max_length=20)
        if value is None:
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.errors[name] = "A date like 2027-03-04."
            return None
        if not 1900 <= parsed.year <= 2200:
            self.errors[name] = "A date like 2027-03-04."
            return None
        return parsed
