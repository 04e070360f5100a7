"""A sample of each class of reply, end to end through the signed webhook: what is stored,
which inbox item (or none), what becomes of the number's consent, and what is texted back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import consent
from service.config import settings_of
from service.domain import texts
from service.models import Alert, Appointment, InboundMessage
from tests import factories
from tests.webhooks.conftest import Twilio, reply_text

NOW = datetime.now(UTC)
PHONE = "+16175550123"
PRACTICE, CALL = "Bright Path", "(617) 555-0100"


def ack(intent: str) -> str:
    return texts.ack("en", intent, PRACTICE, CALL) or ""


@dataclass(frozen=True)
class Case:
    """A reply, what it answers, and everything that must come of it."""

    body: str
    after: str  # "reminder", "checkin", "help" (our HELP answer), "opted_out"
    intent: str
    pain: int | None = None
    guess: str | None = None
    alerts: tuple[str, ...] = ()
    opted_out: bool = False
    answer: str | None = None
    confirmed: bool = False


REMINDER = texts.reminder("en", PRACTICE, "Sam", datetime(2027, 3, 4, 9, 0))
CHECKIN = texts.checkin("en", PRACTICE, "Sam")
HELP = texts.ack("en", "help", PRACTICE, CALL) or ""
CASES = [
    Case(f"Liked \u201c{HELP}\u201d", "help", "other"),  # a tapback that asks for nothing
    Case(f"Liked \u201c{CHECKIN}\u201d", "checkin", "other", answer=ack("reask")),
    Case(
        f"Loved \u201c{REMINDER}\u201d",
        "reminder",
        "confirm",
        answer=ack("confirm"),
        confirmed=True,
    ),
    Case(
        "never text this phone again",
        "reminder",
        "opt_out",
        alerts=("opt_out",),
        opted_out=True,
        answer=texts.opt_out_confirmation("en", PRACTICE),
    ),
    Case(
        "he's at 9 today, rough night",
        "checkin",
        "pain",
        pain=9,
        alerts=("pain",),
        answer=ack("pain"),
    ),
    Case("was 3 yesterday, 2 today", "checkin", "pain", pain=2, answer=ack("pain")),
    Case(
        "no vamos a poder, está enfermo",
        "reminder",
        "reschedule",
        alerts=("reschedule",),
        answer=ack("reschedule"),
    ),
    # Not sure: a person decides, with the guess shown; nothing is acted on.
    Case(
        "see you at 3?",
        "reminder",
        "other",
        guess="confirm",
        alerts=("not_understood",),
        answer=ack("other"),
    ),
    Case(
        "see you then",
        "checkin",
        "other",
        guess="confirm",
        alerts=("not_understood",),
        answer=ack("reask"),
    ),
    Case("please text me again", "opted_out", "opt_in", answer=ack("opt_in")),
]


def arrange(session: Session, after: str) -> int:
    """Sam's phone got the text ``after`` an hour ago; his next appointment's id."""
    client, contact = factories.client_with_phone(session, phone=PHONE)
    appointment = factories.appointment(session, client, NOW + timedelta(hours=20))
    kind = {"reminder": "reminder", "checkin": "checkin"}.get(after, "reply")
    body = {"reminder": REMINDER, "checkin": CHECKIN}.get(after, HELP)
    row = factories.sent(
        session,
        client,
        contact,
        kind=kind,
        sent_at=NOW - timedelta(hours=1),
        appointment_id=appointment.id,
        body=body,
    )
    row.body = body
    if after == "opted_out":
        consent.opt_out(session, PHONE, NOW - timedelta(days=1))
    session.commit()
    return appointment.id


@pytest.mark.parametrize("case", CASES, ids=[f"{c.after}:{c.body[:30]}" for c in CASES])
def test_a_reply_is_stored_acted_on_and_answered_as_understood(
    twilio: Twilio, session: Session, case: Case
) -> None:
    appointment_id = arrange(session, case.after)
    answer = reply_text(twilio.text(PHONE, case.body))
    session.expire_all()
    row = session.scalars(select(InboundMessage)).one()
    assert (row.intent, row.pain_score, row.guess) == (case.intent, case.pain, case.guess)
    assert row.reason  # the one-line reason the dashboard shows
    assert tuple(session.scalars(select(Alert.kind).order_by(Alert.id))) == case.alerts
    assert consent.is_opted_out(session, PHONE) is case.opted_out
    assert answer == case.answer
    confirmed = session.get(Appointment, appointment_id).status == "confirmed"  # type: ignore[union-attr]
    assert confirmed is case.confirmed


def test_a_guess_is_shown_in_the_inbox_item(twilio: Twilio, session: Session) -> None:
    arrange(session, "reminder")
    twilio.text(PHONE, "see you at 3?")
    [item] = session.scalars(select(Alert)).all()
    assert item.detail == "maybe: confirm"


def test_the_settings_threshold_still_decides_a_pain_alert(
    twilio: Twilio, session: Session
) -> None:
    assert settings_of(twilio.http.application).pain_alert_threshold == 8
    arrange(session, "checkin")
    twilio.text(PHONE, "about a 7 today")
    assert session.scalars(select(Alert)).all() == []
