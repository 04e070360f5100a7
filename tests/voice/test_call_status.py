"""How a call ended, recorded on its outbox row: a person or a reminder's machine message is
delivered, busy and no answer undelivered without an inbox item, a failure failed with one."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain import follow_up_calls
from service.domain.vocabulary import MessageKind
from service.models import Alert, OutboundMessage
from tests.voice.conftest import Twilio, arrange, placed_call


def status_of(session: Session, message_id: int) -> tuple[str, int | None]:
    session.expire_all()
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    return row.status, row.error_code


@pytest.mark.parametrize(
    ("kind", "form", "recorded", "alerted"),
    [
        (MessageKind.CHECKIN, {"CallStatus": "completed", "AnsweredBy": "human"}, "delivered", []),
        (MessageKind.CHECKIN, {"CallStatus": "completed"}, "delivered", []),  # no detection
        (
            MessageKind.REMINDER,
            {"CallStatus": "completed", "AnsweredBy": "machine_end_beep"},
            "delivered",
            [],
        ),
        (
            MessageKind.CHECKIN,
            {"CallStatus": "completed", "AnsweredBy": "machine_start"},
            "undelivered",
            [],
        ),
        (MessageKind.CHECKIN, {"CallStatus": "busy"}, "undelivered", []),
        (MessageKind.REMINDER, {"CallStatus": "no-answer"}, "undelivered", []),
        (
            MessageKind.CHECKIN,
            {"CallStatus": "failed", "ErrorCode": "32009"},
            "failed",
            ["delivery_failed"],
        ),
        (MessageKind.CHECKIN, {"CallStatus": "canceled"}, "failed", ["delivery_failed"]),
        (
            MessageKind.CHECKIN,
            {"CallStatus": "completed", "AnsweredBy": "fax"},
            "failed",
            ["delivery_failed"],
        ),
    ],
)
def test_the_end_of_a_call_is_recorded_on_its_message(
    twilio: Twilio,
    session: Session,
    kind: MessageKind,
    form: dict[str, str],
    recorded: str,
    alerted: list[str],
) -> None:
    people = arrange(session)
    call = placed_call(
        session, people.client, people.contact, kind, appointment=people.ahead, sid=twilio.sid
    )
    assert twilio.post("/voice/status", form).status_code == 204
    status, code = status_of(session, call.id)
    assert status == recorded
    assert code == (int(form["ErrorCode"]) if "ErrorCode" in form else None)
    assert [a.kind for a in session.scalars(select(Alert))] == alerted


def test_a_call_not_ended_changes_nothing_and_an_ended_one_stays_ended(
    twilio: Twilio, session: Session
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN, sid=twilio.sid)
    for progress in ("queued", "ringing", "in-progress"):
        assert twilio.post("/voice/status", {"CallStatus": progress}).status_code == 204
    assert status_of(session, call.id) == ("sent", None)
    assert twilio.post("/voice/status", {"CallStatus": "completed"}).status_code == 204
    assert twilio.post("/voice/status", {"CallStatus": "failed"}).status_code == 204
    assert status_of(session, call.id) == ("delivered", None)
    assert session.scalars(select(Alert)).all() == []


def test_an_unknown_call_is_answered_204_and_logged(
    twilio: Twilio, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO"):
        assert twilio.post("/voice/status", {"CallStatus": "completed"}).status_code == 204
    assert any("unknown sid" in r.getMessage() for r in caplog.records)
    assert session.scalars(select(OutboundMessage)).all() == []


@pytest.mark.parametrize(
    ("kind", "form"),
    [
        (MessageKind.CHECKIN, {"CallStatus": "busy"}),
        (MessageKind.REMINDER, {"CallStatus": "no-answer"}),
        (MessageKind.CHECKIN, {"CallStatus": "completed", "AnsweredBy": "machine_start"}),
    ],
)
def test_a_call_that_found_no_one_is_followed_by_one_more_call(
    twilio: Twilio, session: Session, kind: MessageKind, form: dict[str, str]
) -> None:
    people = arrange(session)
    people.contact.channel = "voice"  # called by phone, with the number's agreement
    session.commit()
    call = placed_call(
        session, people.client, people.contact, kind, appointment=people.ahead, sid=twilio.sid
    )
    for _ in range(2):  # Twilio may report an end twice: one follow-up all the same
        assert twilio.post("/voice/status", form).status_code == 204
    session.expire_all()
    follow_ups = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.idempotency_key.startswith(follow_up_calls.retries_of(call.id))
        )
    ).all()
    assert [(m.channel, m.status, m.kind) for m in follow_ups] == [("voice", "planned", kind)]


def test_a_call_answered_is_not_called_again(twilio: Twilio, session: Session) -> None:
    people = arrange(session)
    people.contact.channel = "voice"
    session.commit()
    call = placed_call(
        session,
        people.client,
        people.contact,
        MessageKind.CHECKIN,
        appointment=people.ahead,
        sid=twilio.sid,
    )
    form = {"CallStatus": "completed", "AnsweredBy": "human"}
    assert twilio.post("/voice/status", form).status_code == 204
    calls = session.scalars(select(OutboundMessage).where(OutboundMessage.channel == "voice"))
    assert [m.id for m in calls] == [call.id]
