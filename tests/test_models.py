"""The data model's constraints hold in the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from service.logs import RedactingFormatter
from service.models import (
    Appointment,
    Client,
    Contact,
    InboundMessage,
    OutboundMessage,
    PhoneNumber,
    User,
)

NOW = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)


def a_user(email: str = "ana@practice.test") -> User:
    return User(email=email, name="Ana", password_hash="x", role="therapist")


def a_client(session: Session) -> Client:
    client = Client(name="Sam Lee", timezone="America/New_York", language="en")
    session.add(client)
    session.flush()
    return client


def outbound(client: Client, key: str, **kw: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "idempotency_key": key,
        "client_id": client.id,
        "to_phone": "+16175550123",
        "kind": "reminder",
        "body": "hi",
        "send_at": NOW,
    }
    return OutboundMessage(**{**fields, **kw})


def test_user_email_is_unique(session: Session) -> None:
    session.add_all([a_user(), a_user()])
    with pytest.raises(IntegrityError):
        session.commit()


def test_outbound_idempotency_key_is_unique(session: Session) -> None:
    client = a_client(session)
    session.add_all(
        [outbound(client, "reminder:1:1:86400:0"), outbound(client, "reminder:1:1:86400:0")]
    )
    with pytest.raises(IntegrityError):
        session.commit()


def test_outbound_provider_sid_is_unique(session: Session) -> None:
    client = a_client(session)
    session.add_all(
        [outbound(client, "a", provider_sid="SM1"), outbound(client, "b", provider_sid="SM1")]
    )
    with pytest.raises(IntegrityError):
        session.commit()


def test_inbound_message_sid_is_unique(session: Session) -> None:
    for _ in range(2):
        session.add(InboundMessage(provider_sid="SMdup", from_phone="+16175550123", body="7"))
    with pytest.raises(IntegrityError):
        session.commit()


@pytest.mark.parametrize(
    ("make", "label"),
    [
        (
            lambda c: Appointment(
                client_id=c.id, starts_at=NOW, ends_at=NOW + timedelta(hours=1), status="maybe"
            ),
            "status",
        ),
        (lambda c: Appointment(client_id=c.id, starts_at=NOW, ends_at=NOW), "ends after start"),
        (lambda c: outbound(c, "k", kind="fax"), "kind"),
        (lambda c: outbound(c, "k", status="lost"), "status"),
        (lambda c: InboundMessage(provider_sid="S", from_phone="x", pain_score=11), "pain range"),
        (lambda c: InboundMessage(provider_sid="S", from_phone="x", intent="maybe"), "intent"),
        (lambda c: Client(name="x", timezone="UTC", language="fr"), "language"),
        (lambda c: User(email="r@x.test", name="r", password_hash="x", role="owner"), "role"),
        (lambda c: Contact(client_id=c.id + 1000, name="x", phone="+16175550123"), "foreign key"),
    ],
)
def test_the_database_refuses_bad_rows(session: Session, make, label: str) -> None:  # type: ignore[no-untyped-def]
    client = a_client(session)
    session.commit()
    session.add(make(client))
    with pytest.raises(IntegrityError):
        session.commit()


def test_one_client_cannot_list_the_same_phone_twice(session: Session) -> None:
    client = a_client(session)
    session.add_all(
        [Contact(client_id=client.id, name="Sam", phone="+16175550123") for _ in range(2)]
    )
    with pytest.raises(IntegrityError):
        session.commit()


def test_several_clients_may_share_one_phone(session: Session) -> None:
    first, second = a_client(session), a_client(session)
    session.add_all(
        [
            Contact(client_id=first.id, name="Mom", relation="parent", phone="+16175550123"),
            Contact(client_id=second.id, name="Mom", relation="parent", phone="+16175550123"),
        ]
    )
    session.commit()
    assert len(session.scalars(select(Contact).where(Contact.phone == "+16175550123")).all()) == 2


def test_instants_come_back_aware_utc(session: Session) -> None:
    client = a_client(session)
    local = datetime(2027, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    session.add(
        Appointment(client_id=client.id, starts_at=local, ends_at=local + timedelta(hours=1))
    )
    session.commit()
    session.expunge_all()
    loaded = session.scalars(select(Appointment)).one()
    assert loaded.starts_at == local
    assert loaded.starts_at.tzinfo == UTC
    assert loaded.starts_at.hour == 14


def test_naive_instants_are_refused(session: Session) -> None:
    client = a_client(session)
    naive = datetime(2027, 3, 1, 9, 0)
    session.add(
        Appointment(client_id=client.id, starts_at=naive, ends_at=naive + timedelta(hours=1))
    )
    with pytest.raises(StatementError, match="naive"):
        session.commit()


@pytest.mark.parametrize(
    ("out_at", "in_at", "expected"),
    [
        (None, None, False),
        (NOW, None, True),
        (NOW, NOW + timedelta(days=1), False),
        (NOW + timedelta(days=2), NOW + timedelta(days=1), True),
    ],
)
def test_a_number_is_opted_out_when_the_latest_event_says_so(
    out_at: datetime | None, in_at: datetime | None, expected: bool
) -> None:
    assert PhoneNumber(phone="+1", opted_out_at=out_at, opted_in_at=in_at).opted_out is expected


def test_database_errors_reach_the_logs_without_phone_numbers(session: Session) -> None:
    session.add(PhoneNumber(phone="+16175550123"))
    session.commit()
    session.add(PhoneNumber(phone="+16175550123"))
    with pytest.raises(IntegrityError) as caught:
        session.commit()
    # Parameters are hidden; PostgreSQL still quotes the key, which the log formatter masks.
    assert "SQL parameters hidden" in str(caught.value)
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "%s", (caught.value,), None)
    assert "+16175550123" not in RedactingFormatter("%(message)s").format(record)
