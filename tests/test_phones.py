"""Phone numbers: any common format becomes E.164, or a reason why not."""

from __future__ import annotations

import pytest

from service.phones import InvalidPhone, display, mask, normalize

VALID = [
    ("(617) 555-0123", "US", "+16175550123"),
    ("617.555.0123", "US", "+16175550123"),
    ("1-617-555-0123", "US", "+16175550123"),
    ("+1 617 555 0123", "US", "+16175550123"),
    ("  6175550123 ", "US", "+16175550123"),
    ("+44 20 7946 0958", "US", "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("55 1234 5678", "MX", "+525512345678"),
]


@pytest.mark.parametrize(("raw", "region", "expected"), VALID)
def test_it_normalizes_common_formats(raw: str, region: str, expected: str) -> None:
    assert normalize(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "required"),
        ("   ", "required"),
        ("hello", "not a phone number"),
        ("555", "too short"),
        ("617555012345678", "too long"),
        ("+999 1234567", "country code"),
        ("(617) 555-01234", "too long"),
        ("1" * 50, "too long"),
        ("+1 123 456 7890", "not a valid number"),
    ],
)
def test_it_says_why_a_number_is_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone, match=reason):
        normalize(raw, "US")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+16175550123", "+*******0123"), ("6175550123", "******0123"), (None, "-"), ("+12", "***")],
)
def test_it_masks_numbers_for_logs(phone: str | None, masked: str) -> None:
    assert mask(phone) == masked


@pytest.mark.parametrize(
    ("phone", "region", "shown"),
    [
        ("+16175550123", "US", "(617) 555-0123"),
        ("+16175550123", "CA", "+1 617-555-0123"),  # one numbering plan, another country
        ("+442079460958", "US", "+44 20 7946 0958"),
        ("+442079460958", "GB", "020 7946 0958"),
        ("+525512345678", "MX", "55 1234 5678"),
        ("not a number", "US", "not a number"),
    ],
)
def test_it_shows_home_numbers_nationally_and_others_internationally(
    phone: str, region: str, shown: str
) -> None:
    assert display(phone, region) == shown
