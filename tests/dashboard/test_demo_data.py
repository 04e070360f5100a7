"""The demo-data command: a practice to look at, loaded once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import pain
from service.models import Alert, Appointment, Client, InboundMessage, OutboundMessage, User
from tests.dashboard.conftest import Web


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """A practice on the default check-ins (automatic), which sample the demo's curves."""
    return make_app(CHECKIN_OFFSETS="")


def test_it_loads_a_practice_once(runner: FlaskCliRunner, session: Session, web: Web) -> None:
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "admin@touchbase.demo (admin)" in result.output
    assert session.scalar(select(func.count(User.id))) == 3
    assert session.scalar(select(func.count(Appointment.id))) > 20
    scores = session.scalars(
        select(InboundMessage.pain_score).where(InboundMessage.pain_score.is_not(None))
    )
    assert 9 in set(scores)
    assert session.scalar(
        select(func.count(OutboundMessage.id)).where(OutboundMessage.status == "delivered")
    )
    open_kinds = set(session.scalars(select(Alert.kind).where(Alert.handled_at.is_(None))))
    assert {"pain", "reschedule", "unknown_sender", "invalid_number", "opt_out"} <= open_kinds
    # A dozen clients, some with caregivers, some followed closely enough to have a curve,
    # by the practice's automatic check-ins: no client has check-in days of their own.
    clients = session.scalars(select(Client)).all()
    assert len(clients) == 13
    assert {c.checkin_days for c in clients} == {None}
    assert sum(c.relation != "self" for client in clients for c in client.contacts) >= 3
    found = pain.estimates(session, list(clients), datetime.now(UTC))
    estimated = {c.name: found[c.id].relief_days for c in clients if found[c.id].relief_days}
    assert len(estimated) >= 5
    assert estimated["Noah Fischer"] < 3 < estimated["Elena Petrova"]
    assert "relief_gap" in open_kinds
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code != 0 and "already loaded" in again.output
    assert web.login("ana@touchbase.demo", "demo-password").status_code == 302


def test_it_never_goes_next_to_real_accounts(runner: FlaskCliRunner, session: Session) -> None:
    made = runner.invoke(
        args=["create-user", "ana@practice.test", "--name", "Ana", "--password", "long-enough-pw"]
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code != 0
    assert result.output.strip() == (
        "Error: the database already has accounts; demo data goes only into an empty database"
    )
    assert session.scalar(select(func.count(User.id))) == 1
    assert session.scalar(select(func.count(Client.id))) == 0


def test_one_client_answers_calls_by_keypad_and_her_latest_call_waits_for_an_answer(
    runner: FlaskCliRunner, session: Session
) -> None:
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    ruth = session.scalars(select(Client).where(Client.name == "Ruth Alvarez")).one()
    assert ruth.own_contact is not None and ruth.own_contact.channel == "voice"
    calls = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.client_id == ruth.id, OutboundMessage.kind == "checkin")
        .where(OutboundMessage.status == "delivered")
        .order_by(OutboundMessage.send_at)
    ).all()
    assert calls and {(c.channel, c.provider_sid[:6]) for c in calls} == {("voice", "CAdemo")}
    replies = session.scalars(select(InboundMessage).where(InboundMessage.client_id == ruth.id))
    answered = {r.answers_message_id: r for r in replies}
    assert len(answered) == 4 and {r.channel for r in answered.values()} == {"voice"}
    assert calls[-1].id not in answered  # for the phone simulator to answer
    acknowledged = select(func.count(OutboundMessage.id)).where(
        OutboundMessage.client_id == ruth.id, OutboundMessage.kind == "reply"
    )
    assert session.scalar(acknowledged) == 0  # keys are answered aloud, not by text
