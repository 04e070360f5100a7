"""The roster's one write path for contacts: a number another client already has is shared,
and adding it needs a confirmation whose wording names only the clients the user may see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import accounts, roster
from service.config import settings_of
from service.models import AuditEntry, Client, Contact, User
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
MOM = "+16175550177"
TAIL = " Added here, it will also get this client's texts, each naming its client."


@pytest.mark.parametrize(
    ("named", "unnamed", "whom"),
    [
        (["Maria Diaz"], 0, "Maria Diaz"),
        ([], 1, "another client of the practice"),
        ([], 2, "2 other clients of the practice"),
        (["Maria Diaz"], 1, "Maria Diaz and 1 other client of the practice"),
        (["Maria Diaz", "Sam Diaz"], 0, "Maria Diaz and Sam Diaz"),
        (["Maria Diaz", "Sam Diaz"], 3, "Maria Diaz, Sam Diaz and 3 other clients of the practice"),
    ],
)
def test_the_shared_number_warning_names_only_whom_it_may(
    named: list[str], unnamed: int, whom: str
) -> None:
    expected = f"This number is shared: it already gets texts about {whom}." + TAIL
    assert roster.shared_warning(named, unnamed) == expected


def _user(session: Session, app: Flask, email: str, *, admin: bool = False) -> User:
    settings = settings_of(app)
    return accounts.create_user(session, settings, email, email, "long-enough-pw", admin=admin)


def _with_mom(session: Session, name: str, phone: str, therapist: User | None) -> Client:
    client, _ = factories.client_with_phone(
        session, name, phone, therapist_id=therapist.id if therapist else None
    )
    client.contacts.append(Contact(name="Rosa Diaz", relation="mother", phone=MOM))
    session.flush()
    return client


@pytest.mark.parametrize(
    ("actor", "owner", "whom"),
    [
        ("ana", "ana", "Maria Diaz"),  # her own client: named
        ("ana", "ben", "another client of the practice"),  # another therapist's: never named
        ("ana", None, "another client of the practice"),  # nobody's: not hers to see
        ("boss", "ben", "Maria Diaz"),  # an admin sees every client
    ],
)
def test_adding_a_number_another_client_has_asks_for_a_confirmation(
    app: Flask, session: Session, actor: str, owner: str | None, whom: str
) -> None:
    users = {
        "ana": _user(session, app, "ana@example.com"),
        "ben": _user(session, app, "ben@example.com"),
        "boss": _user(session, app, "boss@example.com", admin=True),
    }
    _with_mom(session, "Maria Diaz", "+16175550001", users[owner] if owner else None)
    sam, _ = factories.client_with_phone(session, "Sam Diaz", "+16175550002")
    rosa = {"name": "Rosa Diaz", "relation": "mother", "phone": MOM}
    settings, who = settings_of(app), users[actor]
    with pytest.raises(roster.SharedPhone) as refused:
        roster.add_contact(session, settings, who, sam, rosa, NOW, via="test")
    assert (
        refused.value.warning
        == f"This number is shared: it already gets texts about {whom}." + TAIL
    )
    assert [c.phone for c in sam.contacts] == ["+16175550002"]  # nothing written
    added = roster.add_contact(
        session, settings, who, sam, rosa, NOW, via="test", confirm_shared=True
    )
    assert added.phone == MOM
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "add_contact")).one()
    assert entry.detail["shared"] is True


def test_a_number_nobody_else_has_is_added_without_a_question(app: Flask, session: Session) -> None:
    sam, _ = factories.client_with_phone(session, "Sam Diaz", "+16175550002")
    rosa = {"name": "Rosa Diaz", "relation": "mother", "phone": MOM}
    roster.add_contact(session, settings_of(app), None, sam, rosa, NOW, via="test")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "add_contact")).one()
    assert "shared" not in entry.detail


def test_changing_a_contact_to_a_number_another_client_has_asks_too(
    app: Flask, session: Session
) -> None:
    _with_mom(session, "Maria Diaz", "+16175550001", None)
    _, own = factories.client_with_phone(session, "Sam Diaz", "+16175550002")
    settings = settings_of(app)
    with pytest.raises(roster.SharedPhone):
        roster.update_contact(session, settings, None, own, {"phone": MOM}, NOW, via="test")
    assert own.phone == "+16175550002"
    roster.update_contact(session, settings, None, own, {"name": "Sam D"}, NOW, via="test")
    roster.update_contact(
        session, settings, None, own, {"phone": MOM}, NOW, via="test", confirm_shared=True
    )
    assert own.phone == MOM
