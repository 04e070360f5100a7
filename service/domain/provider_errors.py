"""What a provider's (Twilio's) error code means for the practice, in plain words.

Each entry says what happened to the text and what to do about it; the inbox shows it on
a delivery problem instead of "provider error 21211". Codes not in the table get a plain
general sentence that still names the code, for whoever asks Twilio's support.
"""

from __future__ import annotations

# code -> (what happened, what to do)
WORDS: dict[int, tuple[str, str]] = {
    21211: (
        "This number is not a valid phone number.",
        "Check the number with the client and correct it.",
    ),
    21265: (
        "This number is a short code, which cannot receive our texts.",
        "Ask the client for their own mobile number.",
    ),
    21407: (
        "This kind of number cannot receive texts (it may be a landline).",
        "Ask the client for a mobile number, or reach them by phone calls.",
    ),
    21408: (
        "Texts to this country are not enabled for the practice.",
        "Ask an admin to enable the country in Twilio, or use another number.",
    ),
    21610: (
        "This number replied STOP, so no texts can reach it.",
        "Only the client can undo it, by texting START.",
    ),
    21612: (
        "Texts cannot go from the practice's number to this number.",
        "Ask the client for another mobile number.",
    ),
    21614: (
        "This number cannot receive texts (it looks like a landline).",
        "Ask the client for a mobile number.",
    ),
    21635: (
        "This number is a landline, which cannot receive texts.",
        "Ask the client for a mobile number, or reach them by phone calls.",
    ),
    30003: (
        "The phone could not be reached (it may be off or out of service).",
        "Try again later, or call the client.",
    ),
    30004: (
        "The client's phone or carrier blocked the text.",
        "Ask the client to unblock the practice's number.",
    ),
    30005: (
        "This number does not exist or is no longer in service.",
        "Ask the client for their current mobile number.",
    ),
    30006: (
        "This number cannot receive texts (it looks like a landline or a carrier that "
        "does not take texts).",
        "Ask the client for a mobile number.",
    ),
    30007: (
        "The carrier filtered the text as possible spam.",
        "Call the client; ask an admin to check the practice's texting registration.",
    ),
    30008: (
        "The carrier could not deliver the text, and did not say why.",
        "Try again later; if it keeps failing, call the client.",
    ),
}


def explain(code: int | None) -> str:
    """What happened and what to do, in one or two plain sentences."""
    if code is None:
        return "The text could not be delivered. Try again later, or call the client."
    known = WORDS.get(code)
    if known is None:
        return (
            f"The text could not be delivered (error {code}). "
            "Try again later; if it keeps failing, call the client."
        )
    return f"{known[0]} {known[1]}"
