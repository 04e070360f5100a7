"""What the provider reports after a send, applied in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, consent, delivery
from service.models import Alert, OutboundMessage
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
PHONE = "+16175550123"


def a_sent_text(session: Session) -> OutboundMessage:
    client, contact = factories.client_with_phone(session, phone=PHONE)
    row = factories.sent(session, client, contact, kind="reminder", sent_at=NOW)
    row.status = "sent"
    session.commit()
    return row


@pytest.mark.parametrize(
    ("reported", "code", "outcome", "status", "alert", "opted_out", "invalid"),
    [
        ("delivered", None, "now delivered", "delivered", None, False, False),
        ("sent", None, "ignored: already final or out of order", "sent", None, False, False),
        ("undelivered", 30003, "now undelivered", "undelivered", "delivery_failed", False, False),
        ("failed", 21610, "now failed", "failed", "opt_out", True, False),
        ("undelivered", 30006, "now undelivered", "undelivered", "invalid_number", False, True),
        ("failed", None, "now failed", "failed", "delivery_failed", False, False),
    ],
)
def test_a_report_moves_the_text_and_says_what_it_learnt_of_the_number(
    session: Session,
    reported: str,
    code: int | None,
    outcome: str,
    status: str,
    alert: str | None,
    opted_out: bool,
    invalid: bool,
) -> None:
    row = a_sent_text(session)
    assert delivery.apply_status(session, row.provider_sid or "", reported, code, NOW) == outcome
    session.commit()
    session.expire_all()
    assert session.get(OutboundMessage, row.id).status == status  # type: ignore[union-attr]
    assert session.scalars(select(Alert.kind)).all() == ([alert] if alert else [])
    number = consent.numbers(session, [PHONE]).get(PHONE)
    assert bool(number and number.opted_out) is opted_out
    assert bool(number and number.invalid_at) is invalid


def test_an_unknown_sid_is_said_so_and_changes_nothing(session: Session) -> None:
    a_sent_text(session)
    assert (
        delivery.apply_status(session, "SMnobody", "delivered", None, NOW) == delivery.UNKNOWN_SID
    )
    assert session.scalars(select(OutboundMessage.status)).all() == ["sent"]


def test_it_leaves_committing_to_its_caller(session: Session) -> None:
    row = a_sent_text(session)
    delivery.apply_status(session, row.provider_sid or "", "failed", 21610, NOW)
    session.rollback()  # the caller's unit of work failed: nothing of it remains
    session.expire_all()
    assert session.get(OutboundMessage, row.id).status == "sent"  # type: ignore[union-attr]
    assert session.scalars(select(Alert)).all() == []
    assert not consent.is_opted_out(session, PHONE)


def test_an_invalid_number_keeps_the_reason_in_plain_words(session: Session) -> None:
    row = a_sent_text(session)
    delivery.apply_status(session, row.provider_sid or "", "undelivered", 30006, NOW)
    session.commit()
    number = consent.numbers(session, [PHONE])[PHONE]
    assert number.invalid_reason is not None
    assert number.invalid_reason.startswith("This number cannot receive texts")
    assert "Ask the client for a mobile number." in number.invalid_reason
    assert "30006" not in number.invalid_reason


def test_a_landline_found_by_a_text_suggests_calls_in_the_inbox(session: Session) -> None:
    row = a_sent_text(session)
    call_consent.record_consent(session, None, PHONE, NOW, via="test")
    delivery.apply_status(session, row.provider_sid or "", "undelivered", 30006, NOW)
    session.commit()
    alert = session.scalars(select(Alert)).one()
    assert alert.detail == (
        "This number looks like a landline: it cannot get texts. Calls may reach it — set the "
        "contact to voice with their agreement."
    )
    # Texts stop; the agreement to calls on record still lets a call reach the landline.
    number = consent.numbers(session, [PHONE])[PHONE]
    assert number.invalid_at is not None and call_consent.may_call(number)


def test_a_number_that_does_not_exist_gets_no_calls_either(session: Session) -> None:
    row = a_sent_text(session)
    call_consent.record_consent(session, None, PHONE, NOW, via="test")
    delivery.apply_status(session, row.provider_sid or "", "undelivered", 30005, NOW)
    session.commit()
    alert = session.scalars(select(Alert)).one()
    assert "landline" not in alert.detail
    assert not call_consent.may_call(consent.numbers(session, [PHONE])[PHONE])
