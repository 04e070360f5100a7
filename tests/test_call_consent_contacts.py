"""Withdrawing or stopping calls leaves no contact of the number, of any client, on a
channel that calls only: those get texts, audited; texts-then-call contacts keep texting."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent, roster
from service.config import settings_of
from service.db import get_db
from service.models import AuditEntry, Contact
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
MOM = "+16175550177"


def _family(app: Flask, session: Session) -> tuple[Contact, Contact, Contact]:
    """Three clients whose mother's one phone hears about each: by calls for the first two,
    by texts then a call for the third."""
    settings = settings_of(app)
    made = []
    for name, channel in (("Sam Diaz", "voice"), ("Ana Diaz", "voice"), ("Leo Diaz", None)):
        client, _ = factories.client_with_phone(session, name, f"+1617555{len(made):04d}")
        mom = {"name": "Rosa", "relation": "mother", "phone": MOM, "voice_consent": True}
        mom["channel"] = channel or "sms_then_voice"
        added = roster.add_contact(
            session, settings, None, client, mom, NOW, via="t", confirm_shared=True
        )
        made.append(added)
    session.commit()
    return made[0], made[1], made[2]


def _channel_entries(session: Session) -> list[tuple[int | None, str]]:
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update_contact").order_by(AuditEntry.id)
    )
    return [(e.detail["contact_id"], e.detail["via"]) for e in entries]


def test_withdrawing_through_one_contact_gives_the_numbers_other_callers_texts(
    app: Flask, session: Session
) -> None:
    sam, ana, leo = _family(app, session)
    no = {"channel": "sms", "voice_consent": False}
    changed = roster.update_contact(session, settings_of(app), None, sam, no, LATER, via="form")
    assert changed == ["channel", "voice_consent"]
    session.expire_all()
    assert (sam.channel, ana.channel, leo.channel) == ("sms", "sms", "sms_then_voice")
    # The other contact moved by the withdrawal, then the edit of the contact itself.
    assert _channel_entries(session) == [(ana.id, "form"), (sam.id, "form")]
    moved = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == str(ana.client_id))
    ).all()
    assert moved[-1].detail["fields"] == ["channel"]


@pytest.mark.parametrize("change", [call_consent.withdraw_consent, call_consent.stop_calls])
def test_a_stop_or_withdrawal_moves_every_calling_contact_to_texts(
    app: Flask, session: Session, change: Callable[..., object]
) -> None:
    sam, ana, leo = _family(app, session)
    change(session, None, MOM, LATER, via="keypad")
    assert call_consent.back_to_texts(session, None, MOM, LATER, via="again") == []
    session.expire_all()
    assert (sam.channel, ana.channel, leo.channel) == ("sms", "sms", "sms_then_voice")
    assert _channel_entries(session) == [(sam.id, "keypad"), (ana.id, "keypad")]
    assert not call_consent.may_call_number(session, MOM)


def test_a_contact_given_calls_while_they_are_withdrawn_is_refused_or_moved(
    app: Flask, session: Session
) -> None:
    """The roster judges the agreement under a shared lock of the number, the withdrawal
    takes it exclusively: whichever commits second sees the first."""
    _family(app, session)
    client, _ = factories.client_with_phone(session, "Eva Diaz", "+16175550099")
    session.commit()
    db, settings = get_db(app), settings_of(app)
    outcome: list[object] = []
    with db.session() as withdrawing:
        call_consent.withdraw_consent(withdrawing, None, MOM, LATER, via="t")

        def add() -> None:
            with db.session() as adding:
                eva = adding.get(type(client), client.id)
                mom = {"name": "Rosa", "phone": MOM, "channel": "voice"}
                try:
                    roster.add_contact(
                        adding, settings, None, eva, mom, LATER, via="t", confirm_shared=True
                    )
                    adding.commit()
                    outcome.append("added")
                except roster.CallsNotAgreed as refused:
                    outcome.append(refused)

        adder = threading.Thread(target=add)
        adder.start()
        adder.join(timeout=1.0)  # it waits for the withdrawal's lock
        assert adder.is_alive() and outcome == []
        withdrawing.commit()
    adder.join(timeout=30)
    [result] = outcome
    assert isinstance(result, roster.CallsNotAgreed)
    session.expire_all()
    channels = session.scalars(select(Contact.channel).where(Contact.phone == MOM)).all()
    assert sorted(channels) == ["sms", "sms", "sms_then_voice"]  # none added, none left calling
