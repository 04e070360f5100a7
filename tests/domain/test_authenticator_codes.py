"""Two-step sign-in codes as rules: reading what was typed, steps and drift, replay."""

from __future__ import annotations

import pyotp
import pytest

from service.domain import authenticator_codes as codes


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("123456", codes.TOTP, "123456"),
        (" 123 456 ", codes.TOTP, "123456"),
        ("123-456", codes.TOTP, "123456"),
        ("abcde-fghjk", codes.RECOVERY, "abcdefghjk"),
        ("ABCDE FGHJK", codes.RECOVERY, "abcdefghjk"),
        ("abcdefghjk", codes.RECOVERY, "abcdefghjk"),
        ("  AbCdE-\tfGhJk ", codes.RECOVERY, "abcdefghjk"),
    ],
)
def test_a_code_is_read_whatever_its_spaces_hyphens_and_case(
    typed: str, kind: str, value: str
) -> None:
    assert codes.read_code(typed) == codes.TypedCode(kind, value)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "1234567",
        "12a456",
        "abcdef",
        "١٢٣٤٥٦",
        "abcde-fghj",
        "abcde-fghjk1",
        "0o1li-abcde",
    ],
)
def test_anything_else_is_not_read(typed: str) -> None:
    assert codes.read_code(typed) is None


def test_a_code_may_match_its_step_and_one_either_side_never_a_used_one() -> None:
    assert codes.steps_to_try(100, None) == [99, 100, 101]
    assert codes.steps_to_try(100, 99) == [100, 101]
    assert codes.steps_to_try(100, 100) == [101]
    assert codes.steps_to_try(100, 101) == []


def test_the_matched_step_is_the_one_whose_code_was_typed() -> None:
    totp = pyotp.TOTP(pyotp.random_base32())
    expected = {s: totp.at(s * codes.STEP_SECONDS) for s in (99, 100, 101)}
    assert codes.matched_step(expected[101], expected) == 101
    assert codes.matched_step(expected[99], expected) == 99
    assert codes.matched_step(totp.at(98 * codes.STEP_SECONDS), {100: expected[100]}) in (None, 100)
    assert codes.matched_step("000000", {100: "123456"}) is None


def test_steps_are_thirty_seconds_of_the_epoch() -> None:
    assert codes.step_at(0) == 0
    assert codes.step_at(29.9) == 0
    assert codes.step_at(30) == 1


def test_recovery_codes_and_secrets_are_shown_in_groups() -> None:
    assert codes.shown_recovery_code("abcdefghjk") == "abcde-fghjk"
    assert codes.grouped_secret("ABCDEFGHIJKLMNOP") == "ABCD EFGH IJKL MNOP"
    assert not set("01oli") & set(codes.RECOVERY_ALPHABET)
