"""Turning rebooking texts off calls off the invitations already queued."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from service import practice_settings
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import OutboundMessage
from service.sms.gateway import TwilioGateway
from tests import factories
from tests.fake_twilio import FakeTwilio

NY = ZoneInfo("America/New_York")
EVENING = datetime(2027, 3, 3, 23, 30, tzinfo=NY).astimezone(UTC)  # inside 21:00-08:00
MORNING = datetime(2027, 3, 4, 8, 0, tzinfo=NY).astimezone(UTC)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def gateway(fake: FakeTwilio) -> Iterator[TwilioGateway]:
    gw = fake.gateway()
    yield gw
    gw.close()


def dispatcher_at(app: Flask, gateway: TwilioGateway, now: datetime) -> Dispatcher:
    return Dispatcher(
        get_db(app), settings_of(app), {Channel.SMS: gateway}, now=lambda: now, rng=random.Random(7)
    )


def set_rebooking(app: Flask, session: Session, value: str, now: datetime) -> None:
    practice_settings.save(
        session, settings_of(app), None, {"rebooking_texts": value}, now, via="test"
    )
    session.commit()


def queued_invitation(app: Flask, session: Session, gateway: TwilioGateway) -> OutboundMessage:
    """A rebooking text due in the evening, held by quiet hours until the morning."""
    set_rebooking(app, session, "on", EVENING)
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=EVENING, kind="nudge")
    session.commit()
    assert dispatcher_at(app, gateway, EVENING).run()["defer"] == 1
    session.expire_all()
    assert (row.status, row.send_at) == ("planned", MORNING)
    return row


def test_a_queued_invitation_is_cancelled_once_rebooking_texts_are_off(
    app: Flask, session: Session, gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    row = queued_invitation(app, session, gateway)
    set_rebooking(app, session, "off", EVENING)
    assert dispatcher_at(app, gateway, MORNING).run()["cancelled"] == 1
    session.expire_all()
    assert (row.status, row.error_message) == ("cancelled", "rebooking texts turned off")
    assert fake.messages == []


def test_a_queued_invitation_goes_while_rebooking_texts_stay_on(
    app: Flask, session: Session, gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    row = queued_invitation(app, session, gateway)
    assert dispatcher_at(app, gateway, MORNING).run()["sent"] == 1
    session.expire_all()
    assert row.status == "sent"
    assert [m["Body"] for m in fake.sent] == [row.body]
