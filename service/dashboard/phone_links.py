"""Phone numbers on the dashboard: written as people write them, and dialled with a tap."""

from __future__ import annotations

from markupsafe import Markup

from service import phones
from service.config import current_settings


def phone(number: str | None) -> str:
    """The number in ``DEFAULT_REGION``'s national format, international for other regions."""
    return phones.display(number, current_settings().default_region) if number else ""


def tel(number: str | None) -> Markup:
    """The number as a ``tel:`` link a phone dials when tapped."""
    if not number:
        return Markup("")
    return Markup('<a class="tel" href="tel:{}">{}</a>').format(number, phone(number))
