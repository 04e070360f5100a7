"""Keys pressed during a call, as a stored reply: read by the keypad, never as a text.

The voice webhook stores each key press like a text (``channel`` "voice", the digits as its
body) with the question they answered and the call they were pressed in among its fields
(``QUESTION``, ``CALL``, next to Twilio's own ``CallSid`` and ``FinishedOnKey``), so whoever
processes the row, the webhook at once or the clock after a failure, reads it the same way,
against the call itself. The one thing only a call's keys do, a 9 that stops calls
(``keypad.StopCalls``), is done here, inside the reply's transaction; the row records it as
asking nothing more (texts are not stopped).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service import call_consent
from service.config import Settings
from service.domain import keypad
from service.domain.understanding import Understanding
from service.domain.vocabulary import Intent
from service.reply_reads import Reply

QUESTION = "question"  # our field beside Twilio's: which question the keys answered
CALL = "call"  # and the outbox id of the call they were pressed in


def pressed(row: Reply) -> bool:
    """True when the stored reply ``row`` is keys pressed during a call, not a text."""
    return "CallSid" in row.fields and row.fields.get(QUESTION) in keypad.QUESTIONS


def call_of(row: Reply) -> int | None:
    """The outbox id of the call keys were pressed in (None for a text): they answer that
    call, whatever was sent to the number since (a shared number texted during the call)."""
    call = str(row.fields.get(CALL, "")) if pressed(row) else ""
    return int(call) if call.isascii() and call.isdigit() and len(call) < 19 else None


def understood(
    session: Session, settings: Settings, row: Reply, phone: str, now: datetime
) -> Understanding | None:
    """What the stored reply ``row`` from ``phone`` means when it is keys pressed during a
    call (None for a text); a stop of calls is applied, the number's contacts called only by
    phone re-planned texts at once (the caller commits)."""
    if not pressed(row):
        return None
    question: keypad.Question = row.fields[QUESTION]
    finished = str(row.fields.get("FinishedOnKey", ""))
    meaning = keypad.read_keys(row.body, question, finished_on_key=finished)
    if isinstance(meaning, keypad.StopCalls):
        call_consent.stop_calls(session, None, phone, now, via="keypad", settings=settings)
        session.flush()  # with the reply's own writes, committed together
        return Understanding(Intent.OTHER, quiet=True, reason=meaning.reason)
    return meaning
