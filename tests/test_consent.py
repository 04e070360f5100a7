"""Consent by number: an opt-out skips what is planned to that number and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import consent
from service.models import OutboundMessage, PhoneNumber
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
OWN, CAREGIVER = "+16175550123", "+16175550177"


def planned_to_both(session: Session) -> None:
    client, own = factories.client_with_phone(session, phone=OWN)
    factories.message(session, client, own, send_at=NOW, key="own")
    factories.message(session, client, own, send_at=NOW, key="caregiver", to=CAREGIVER)
    sent = factories.message(session, client, own, send_at=NOW, key="sent")
    sent.status = "sent"
    session.commit()


def statuses(session: Session) -> dict[str, tuple[str, str | None]]:
    session.expire_all()
    rows = session.scalars(select(OutboundMessage))
    return {r.idempotency_key: (r.status, r.error_message) for r in rows}


def test_an_opt_out_skips_the_texts_planned_to_that_number_only(session: Session) -> None:
    planned_to_both(session)
    assert consent.opt_out(session, OWN, NOW) == 1
    session.commit()
    assert statuses(session) == {
        "own": ("skipped", "number opted out"),
        "caregiver": ("planned", None),
        "sent": ("sent", None),
    }
    assert consent.is_opted_out(session, OWN) and not consent.is_opted_out(session, CAREGIVER)


def test_the_latest_consent_event_wins(session: Session) -> None:
    consent.opt_out(session, OWN, NOW)
    consent.opt_in(session, OWN, NOW + timedelta(minutes=1))
    assert not consent.is_opted_out(session, OWN)
    consent.opt_out(session, OWN, NOW + timedelta(minutes=2))
    assert consent.is_opted_out(session, OWN)


def test_an_invalid_number_skips_its_planned_texts_with_the_reason(session: Session) -> None:
    planned_to_both(session)
    assert consent.mark_invalid(session, CAREGIVER, "provider error 21211", NOW) == 1
    session.commit()
    assert statuses(session)["caregiver"] == ("skipped", "invalid number: provider error 21211")
    assert consent.numbers(session, [CAREGIVER, OWN]).keys() == {CAREGIVER}


def test_a_number_gets_one_row_however_often_it_is_ensured(session: Session) -> None:
    for _ in range(3):
        consent.ensure_number(session, OWN, NOW)
    session.commit()
    assert session.scalars(select(PhoneNumber.phone)).all() == [OWN]
    assert consent.numbers(session, []) == {}
