"""Provider error codes said in plain words, with what to do."""

import pytest

from service.domain.provider_errors import WORDS, explain


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (21211, "This number is not a valid phone number. Check the number with the client"),
        (21610, "This number replied STOP"),
        (
            21614,
            "This number cannot receive texts (it looks like a landline). "
            "Ask the client for a mobile number.",
        ),
        (30003, "The phone could not be reached"),
        (30004, "blocked the text"),
        (30005, "no longer in service"),
        (30006, "cannot receive texts"),
        (30007, "filtered the text as possible spam"),
        (30008, "did not say why"),
        (99999, "could not be delivered (error 99999)"),
        (None, "The text could not be delivered."),
    ],
)
def test_each_code_is_said_in_plain_words(code: int | None, words: str) -> None:
    assert explain(code).startswith(words) or words in explain(code)


@pytest.mark.parametrize("code", sorted(WORDS))
def test_no_wording_is_jargon(code: int) -> None:
    said = explain(code)
    assert "provider" not in said.lower() and str(code) not in said
    assert said.endswith(".")
