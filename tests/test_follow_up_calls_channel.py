"""A contact that staff move off the channel that makes a call (to texts only, say), its
agreement to calls untouched, gets none of the calls planned for that channel: the calls
that follow another message are called off at once by the change (``roster``), and the
dispatcher's final check holds back whatever is claimed or planned again after it (a call
of unknown outcome resent, a change that reached the row some other way)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import outbox, roster, voice_fallback
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel, MessageKind
from service.models import Contact, OutboundMessage
from service.sms.gateway import SimulatorGateway
from service.sms.voice_gateway import SimulatedVoiceGateway
from tests.test_call_consent_follow_ups import LATER, PHONE, SENT, START, Planned, _arrange, _row
from tests.voice.conftest import voice_config

OFF_CALLS = "contact no longer on calls"
OFF_AFTER_TEXT = "contact no longer on texts then a call"


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(**voice_config())


def _contact(session: Session) -> Contact:
    return session.scalars(select(Contact).where(Contact.phone == PHONE)).one()


def _move_to(app: Flask, session: Session, channel: str) -> None:
    """Staff set the contact's channel, leaving its agreement to calls as it is."""
    change = {"channel": channel}
    later = SENT + timedelta(hours=1)
    roster.update_contact(
        session, settings_of(app), None, _contact(session), change, later, via="test"
    )
    session.commit()


def _dispatch(app: Flask) -> list[str]:
    """Run the clock's fallback job, then the dispatcher, once everything is due; the
    numbers called (what the gateway placed: its ``find_sent`` reads the wall clock)."""
    with get_db(app).session() as session:
        voice_fallback.run(session, settings_of(app), LATER)
        session.commit()
    calls = SimulatedVoiceGateway()
    gateways = {Channel.SMS: SimulatorGateway(), Channel.VOICE: calls}
    Dispatcher(get_db(app), settings_of(app), gateways, now=lambda: LATER).run()  # type: ignore[arg-type]
    return [record.to for record in calls._sent]


def _state(session: Session, message_id: int) -> tuple[str, str | None]:
    row = _row(session, message_id)
    return row.status, row.error_message


def test_a_contact_moved_to_texts_has_its_follow_up_calls_called_off_at_once(
    app: Flask, session: Session
) -> None:
    planned = _arrange(app, session)
    _move_to(app, session, "sms")
    assert _state(session, planned.fallback) == ("cancelled", OFF_AFTER_TEXT)
    assert _state(session, planned.redial) == ("cancelled", OFF_CALLS)
    assert _row(session, planned.text).status == "planned"  # its texts go on
    assert _dispatch(app) == []
    assert _state(session, planned.redial) == ("cancelled", OFF_CALLS)
    assert _row(session, planned.text).status in ("sent", "delivered")


def test_a_contact_moved_to_calls_only_keeps_its_redial_not_the_call_after_a_text(
    app: Flask, session: Session
) -> None:
    # A call made again follows a call: calls still reach the contact. The call after an
    # unanswered text is for a contact on texts then a call only.
    planned = _arrange(app, session)
    _move_to(app, session, "voice")
    assert _state(session, planned.fallback) == ("cancelled", OFF_AFTER_TEXT)
    assert _row(session, planned.redial).status == "planned"
    assert _dispatch(app) == [PHONE]
    assert _row(session, planned.redial).status in ("sent", "delivered")


def test_another_contacts_change_leaves_them_alone(app: Flask, session: Session) -> None:
    planned = _arrange(app, session)
    settings, client = settings_of(app), _contact(session).client
    mother = {"name": "Rosa Lee", "relation": "mother", "phone": "+16175550999"}
    rosa = roster.add_contact(session, settings, None, client, mother, SENT, via="test")
    change = {"channel": "sms_then_voice", "voice_consent": True}
    roster.update_contact(session, settings, None, rosa, change, SENT, via="test")
    roster.update_contact(session, settings, None, rosa, {"channel": "sms"}, SENT, via="test")
    session.commit()
    for call in (planned.fallback, planned.redial):
        assert _row(session, call).status == "planned"


def _change_behind_the_rosters_back(session: Session, channel: str) -> None:
    """The contact's channel changed with nothing called off (as if a batch had claimed
    the calls first): only the dispatcher's final check stands between them and the phone."""
    session.execute(update(Contact).where(Contact.phone == PHONE).values(channel=channel))
    session.commit()


@pytest.mark.parametrize(
    ("channel", "fallback", "redial"),
    [
        ("sms", ("cancelled", OFF_AFTER_TEXT), ("cancelled", OFF_CALLS)),
        ("voice", ("cancelled", OFF_AFTER_TEXT), None),
    ],
)
def test_the_final_check_holds_back_a_call_its_contacts_channel_no_longer_makes(
    app: Flask,
    session: Session,
    channel: str,
    fallback: tuple[str, str],
    redial: tuple[str, str] | None,
) -> None:
    planned = _arrange(app, session)
    _change_behind_the_rosters_back(session, channel)
    # The fallback job would call its own call off first: the dispatcher alone decides here.
    calls = SimulatedVoiceGateway()
    gateways = {Channel.SMS: SimulatorGateway(), Channel.VOICE: calls}
    Dispatcher(get_db(app), settings_of(app), gateways, now=lambda: LATER).run()  # type: ignore[arg-type]
    assert _state(session, planned.fallback) == fallback
    if redial is None:
        assert _row(session, planned.redial).status in ("sent", "delivered")
        assert [r.to for r in calls._sent] == [PHONE]
    else:
        assert _state(session, planned.redial) == redial
        assert calls._sent == []
    assert _row(session, planned.text).status in ("sent", "delivered")


def _planner_call(session: Session, planned: Planned) -> int:
    """A reminder call as the planner plans one for a contact on ``voice``, due."""
    contact = _contact(session)
    text = _row(session, planned.text)
    draft = outbox.Draft(
        idempotency_key=f"reminder:{text.appointment_id}:{contact.id}:later:voice",
        kind=MessageKind.REMINDER,
        to_phone=PHONE,
        body="words",
        send_at=LATER - timedelta(minutes=5),
        client_id=contact.client_id,
        contact_id=contact.id,
        appointment_id=_row(session, planned.placed).appointment_id,
        planned_start=START,
        channel=Channel.VOICE,
    )
    call_id = outbox.enqueue_one(session, draft, SENT)
    assert call_id is not None
    session.commit()
    return call_id


@pytest.mark.parametrize(("channel", "sent"), [("voice", True), ("sms_then_voice", False)])
def test_the_planners_own_call_is_for_a_contact_on_calls_only(
    app: Flask, session: Session, channel: str, sent: bool
) -> None:
    planned = _arrange(app, session)
    call = _planner_call(session, planned)
    _change_behind_the_rosters_back(session, channel)
    _dispatch(app)
    if sent:
        assert _row(session, call).status in ("sent", "delivered")
    else:
        assert _state(session, call) == ("cancelled", OFF_CALLS)


def test_a_call_of_unknown_outcome_resent_after_the_change_is_held_back(
    app: Flask, session: Session
) -> None:
    # The redial was being placed when staff moved the contact to texts: its outcome is
    # unknown, so the change left it alone. The look-up finds no such call and plans it
    # again; the final check then holds it back.
    planned = _arrange(app, session)
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == planned.redial)
        .values(
            status="unknown",
            claim_token="gone",
            claimed_at=LATER - timedelta(minutes=10),
            lease_until=LATER - timedelta(minutes=5),
            attempts=1,
        )
    )
    session.commit()
    _move_to(app, session, "sms")
    assert _row(session, planned.redial).status == "unknown"
    assert _dispatch(app) == []
    assert _state(session, planned.redial) == ("cancelled", OFF_CALLS)
