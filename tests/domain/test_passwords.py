"""Password rules (NIST SP 800-63B) and the shape of a texted reset code, and the shipped list."""

from __future__ import annotations

import time
from importlib import resources

import pytest
from werkzeug.security import generate_password_hash

from service.common_passwords import LIST, common_passwords, problem_for
from service.domain.passwords import code_problem, problem, without_spaces

COMMON = frozenset({"password1234", "qwerty123456"})
EMAIL = "ana.ruiz@practice.test"
NAME = "Ana Ruiz"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("", "At least 12 characters"),
        ("eleven-char", "At least 12 characters"),
        (" " * 12, "Not only spaces"),
        (" " * 10, "Not only spaces"),
        ("\t\n  \u00a0" * 4, "Not only spaces"),
        ("password1234", "one of the 10,000 most common"),
        ("PassWord1234", "one of the 10,000 most common"),
        (" qwerty123456 ", "one of the 10,000 most common"),
        ("ana.ruiz@practice.test", "Not your email or name"),
        ("ANA.RUIZ@PRACTICE.TEST", "Not your email or name"),
        ("ana.ruiz@practice.test  ", "Not your email or name"),
        ("x" * 1001, "At most 1,000 characters"),
        ("x" * 5000, "At most 1,000 characters; this one has 5,000"),
        ("ééééééééééé", "At least 12 characters"),  # 11 characters, 22 bytes
    ],
)
def test_a_password_is_refused_with_its_reason(password: str, reason: str) -> None:
    found = problem(password, email=EMAIL, name=NAME, common=COMMON)
    assert found is not None and reason in found


def test_the_local_part_and_the_name_are_refused_when_long_enough() -> None:
    email, name = "therapist.ana@practice.test", "Ana Ruiz-Delgado"
    for password in ("therapist.ana", "ana ruiz-delgado", "  Ana Ruiz-Delgado "):
        found = problem(password, email=email, name=name, common=COMMON)
        assert found is not None and "Not your email or name" in found


@pytest.mark.parametrize(
    "password",
    [
        "twelve chars",  # no digit, no symbol: no composition rules
        "correct horse battery staple",
        "ééééééééééé\u0301é",  # a decomposed é counts as one character: 12 in all
        "x" * 1000,
        "café au lait 每天",
        "  spaces around are fine  ",
    ],
)
def test_a_password_within_the_rules_is_accepted(password: str) -> None:
    assert problem(password, email=EMAIL, name=NAME, common=COMMON) is None


def test_composed_and_decomposed_letters_count_alike() -> None:
    decomposed = "e\u0301" * 11
    found = problem(decomposed, email=EMAIL, name=NAME, common=COMMON)
    assert found is not None and "At least 12 characters" in found


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("123456", True),
        ("000000", True),
        ("123 456", True),
        (" 123456 ", True),
        ("12345", False),
        ("1234567", False),
        ("12a456", False),
        ("abcdef", False),
        ("", False),
        ("١٢٣٤٥٦", False),  # Arabic-Indic digits: not what the text holds
        ("9" * 5000, False),
    ],
)
def test_a_code_is_six_digits(typed: str, ok: bool) -> None:
    found = code_problem(without_spaces(typed))
    assert (found is None) == ok
    if not ok:
        assert found == "The code is the 6 digits in the text."


def test_the_shipped_list_holds_exactly_the_10000_most_common_passwords() -> None:
    text = resources.files("service").joinpath(LIST).read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    entries = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(entries) == 10_000 == len(set(entries)) == len(common_passwords())
    assert entries[:3] == ["123456", "password", "12345678"]  # most common first
    origin = " ".join(header)
    assert "zxcvbn" in origin and "MIT" in origin and "Xato" in origin
    assert all(entry and entry == entry.strip() for entry in entries)


@pytest.mark.parametrize(
    "password", ["qwerty123456", "1qaz2wsx3edc", "Leavemealone", "123456654321"]
)
def test_long_passwords_on_the_list_are_refused(password: str) -> None:
    found = problem_for(password, email="a@practice.test", name="A")
    assert found is not None and "10,000 most common" in found


def test_hashing_the_longest_allowed_password_is_quick() -> None:
    started = time.perf_counter()
    generate_password_hash("x" * 1000, method="scrypt")
    assert time.perf_counter() - started < 2
