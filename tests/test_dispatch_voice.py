"""Calls through the outbox and the batch dispatcher, as texts go: the real twilio SDK
placing calls on the local Twilio, exactly once, with the same error handling and the same
look-up of unknown outcomes."""

from __future__ import annotations

import random
import threading
import time as clock_time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import call_consent, outbox
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel, MessageKind
from service.models import Alert, Client, OutboundMessage, PhoneNumber
from service.sms.voice_gateway import SimulatedVoiceGateway, TwilioVoiceGateway
from tests import factories
from tests.app_server import app_server
from tests.conftest import WRITE_LOCK_ONLY
from tests.fake_twilio import FakeTwilio, Reply
from tests.sms.test_voice_gateway import PRACTICE, callee_app
from tests.test_dispatch_processes import clock_process

ROOT = Path(__file__).resolve().parent.parent
# Wednesday 11:00 in New York: inside call hours (9:00-20:00), outside quiet hours.
NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
TO = "+16175550123"
AGREED_AT = datetime(2027, 1, 4, tzinfo=UTC)


def noon_zone() -> str:
    """A time zone where it is about noon now: calls on the real clock may ring there."""
    offset = (12 - datetime.now(UTC).hour + 11) % 24 - 11  # -11 .. +12 hours
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"  # Etc/GMT-3 is three hours ahead


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def public_url() -> Iterator[str]:
    with app_server(callee_app([])) as url:
        yield url


@pytest.fixture
def gateways(fake: FakeTwilio, public_url: str) -> Iterator[dict[Channel, object]]:
    texts = fake.gateway()
    calls = TwilioVoiceGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=PRACTICE,
        public_base_url=public_url,
        api_base_url=fake.base_url,
        timeout=0.5,
    )
    yield {Channel.SMS: texts, Channel.VOICE: calls}
    texts.close()
    calls.close()


Clock = list[datetime]


def dispatcher_for(app: Flask, gateways: dict[Channel, object], clock: Clock) -> Dispatcher:
    return Dispatcher(
        get_db(app),
        settings_of(app),
        gateways,  # type: ignore[arg-type]
        now=lambda: clock[0],
        rng=random.Random(7),
    )


def enqueue_call(
    session: Session,
    client: Client,
    send_at: datetime,
    *,
    to: str = TO,
    kind: MessageKind = MessageKind.MANUAL,
    channel: Channel = Channel.VOICE,
    appointment_id: int | None = None,
    contact_id: int | None = None,
    planned_start: datetime | None = None,
    agreed: bool = True,
) -> int:
    """Queue one message (a call unless told) the way every producer does; a call's number
    has agreed to calls unless told."""
    if channel == Channel.VOICE and agreed:
        call_consent.record_consent(session, None, to, AGREED_AT, via="test")
    draft = outbox.Draft(
        idempotency_key=f"test:{channel}:{to}:{send_at.timestamp()}",
        kind=kind,
        to_phone=to,
        body=f"Bright Path calling {to}",
        send_at=send_at,
        client_id=client.id,
        contact_id=contact_id,
        appointment_id=appointment_id,
        planned_start=planned_start,
        channel=channel,
    )
    [message_id] = outbox.enqueue(session, [draft], datetime.now(UTC))
    session.commit()
    return message_id


def row(session: Session, message_id: int) -> OutboundMessage:
    session.expire_all()
    found = session.get(OutboundMessage, message_id)
    assert found is not None
    return found


def test_a_queued_call_is_placed_once_and_its_sid_recorded(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio, public_url: str
) -> None:
    client, _ = factories.client_with_phone(session)
    message_id = enqueue_call(session, client, NOW - timedelta(minutes=1))
    dispatcher = dispatcher_for(app, gateways, [NOW])
    assert dispatcher.run()["sent"] == 1
    [call] = fake.voice.wait_for_calls(1)
    form = call.form
    assert (form["To"], form["From"]) == (TO, PRACTICE)
    assert form["Url"] == f"{public_url}/voice/call/{message_id}"
    assert form["StatusCallback"] == f"{public_url}/voice/status"
    assert (form["MachineDetection"], form["Timeout"]) == ("Enable", "25")
    message = row(session, message_id)
    assert (message.status, message.provider_sid, message.attempts) == ("sent", call.sid, 1)
    assert message.sent_at == NOW
    assert dispatcher.run()["claimed"] == 0
    assert len(fake.voice.creates) == 1 and fake.sent == []


def test_a_simulated_call_is_stored_as_delivered(app: Flask, session: Session) -> None:
    client, _ = factories.client_with_phone(session)
    message_id = enqueue_call(session, client, NOW)
    gateways: dict[Channel, object] = {Channel.VOICE: SimulatedVoiceGateway()}
    assert dispatcher_for(app, gateways, [NOW]).run()["sent"] == 1
    message = row(session, message_id)
    assert message.status == "delivered" and (message.provider_sid or "").startswith("CA")


def test_a_number_that_texted_stop_still_gets_its_call_but_not_its_text(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    client, _ = factories.client_with_phone(session)
    session.add(PhoneNumber(phone=TO, opted_out_at=NOW - timedelta(days=1)))
    call_id = enqueue_call(session, client, NOW)
    text_id = enqueue_call(session, client, NOW, channel=Channel.SMS)
    counts = dispatcher_for(app, gateways, [NOW]).run()
    assert (counts["sent"], counts["skipped"]) == (1, 1)
    assert row(session, call_id).status == "sent"
    assert (row(session, text_id).status, row(session, text_id).error_message) == (
        "skipped",
        "number opted out",
    )
    assert len(fake.voice.creates) == 1 and fake.sent == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (call_consent.withdraw_consent, "calls not agreed"),
        (call_consent.stop_calls, "calls stopped"),  # pressing 9
    ],
)
def test_a_call_to_a_number_that_may_not_get_calls_is_skipped_not_placed(
    app: Flask,
    session: Session,
    gateways: dict[Channel, object],
    fake: FakeTwilio,
    change: Callable[..., object],
    reason: str,
) -> None:
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, NOW)
    text_id = enqueue_call(session, client, NOW, channel=Channel.SMS)
    change(session, None, TO, NOW - timedelta(minutes=5), via="test")
    session.commit()
    counts = dispatcher_for(app, gateways, [NOW]).run()
    assert (counts["sent"], counts["skipped"]) == (1, 1)
    message = row(session, call_id)
    assert (message.status, message.error_message) == ("skipped", reason)
    assert row(session, text_id).status == "sent"  # a stop of calls does not stop texts
    assert fake.voice.creates == [] and len(fake.sent) == 1


def test_a_call_never_agreed_to_is_skipped_not_placed(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, NOW, agreed=False)
    assert dispatcher_for(app, gateways, [NOW]).run()["skipped"] == 1
    message = row(session, call_id)
    assert (message.status, message.error_message) == ("skipped", "calls not agreed")
    assert fake.voice.creates == []


def test_a_reminder_call_for_a_cancelled_appointment_is_never_placed(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    client, contact = factories.client_with_phone(session)
    start = NOW + timedelta(hours=20)
    appt = factories.appointment(session, client, start, status="cancelled")
    call_id = enqueue_call(
        session,
        client,
        NOW,
        kind=MessageKind.REMINDER,
        appointment_id=appt.id,
        contact_id=contact.id,
        planned_start=start,
    )
    assert dispatcher_for(app, gateways, [NOW]).run()["cancelled"] == 1
    assert row(session, call_id).status == "cancelled"
    assert fake.voice.creates == []


def test_an_invalid_number_fails_the_call_and_skips_the_numbers_texts(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, NOW)
    text_id = enqueue_call(session, client, NOW + timedelta(days=1), channel=Channel.SMS)
    fake.voice.script(Reply(status=400, code=21217))
    assert dispatcher_for(app, gateways, [NOW]).run()["failed"] == 1
    message = row(session, call_id)
    assert (message.status, message.error_code) == ("failed", 21217)
    assert row(session, text_id).status == "skipped"
    number = session.get(PhoneNumber, TO)
    assert number is not None and number.invalid_at is not None
    assert [a.kind for a in session.scalars(select(Alert))] == ["invalid_number"]
    assert fake.voice.calls == []


def test_a_call_the_account_may_not_make_fails_without_judging_the_number(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, NOW)
    fake.voice.script(Reply(status=400, code=21215))  # geographic permissions
    assert dispatcher_for(app, gateways, [NOW]).run()["failed"] == 1
    assert (row(session, call_id).status, row(session, call_id).error_code) == ("failed", 21215)
    number = session.get(PhoneNumber, TO)
    assert number is not None and number.invalid_at is None and not number.opted_out
    assert [a.kind for a in session.scalars(select(Alert))] == ["delivery_failed"]


def test_a_transient_error_is_retried_later_with_backoff(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, NOW)
    fake.voice.script(Reply(status=429, code=20429))
    clock = [NOW]
    dispatcher = dispatcher_for(app, gateways, clock)
    assert dispatcher.run()["retry"] == 1
    first = row(session, call_id)
    assert (first.status, first.attempts, first.error_code) == ("planned", 1, 20429)
    assert timedelta(seconds=15) <= first.send_at - NOW <= timedelta(seconds=30)
    assert dispatcher.run()["claimed"] == 0  # not before its back-off
    clock[0] = first.send_at
    assert dispatcher.run()["sent"] == 1
    [call] = fake.voice.wait_for_calls(1)
    assert len(fake.voice.creates) == 2
    assert (row(session, call_id).status, row(session, call_id).provider_sid) == ("sent", call.sid)


def real_clock(
    make_app: Callable[..., Flask], gateways: dict[Channel, object]
) -> tuple[Flask, Dispatcher, Clock]:
    """A dispatcher on the real clock (the fake stamps real times)."""
    app = make_app()
    clock = [datetime.now(UTC)]
    return app, dispatcher_for(app, gateways, clock), clock


@pytest.mark.parametrize(
    "reply",
    [
        Reply(accept_then_hang=True, no_answer=True),  # placed, then the answer was lost
        Reply(status=500, accept_then_hang=True),  # placed, then a server error
    ],
)
def test_a_call_of_unknown_outcome_that_was_placed_is_settled_not_placed_again(
    make_app: Callable[..., Flask],
    gateways: dict[Channel, object],
    fake: FakeTwilio,
    reply: Reply,
) -> None:
    app, dispatcher, clock = real_clock(make_app, gateways)
    with get_db(app).session() as session:
        client, _ = factories.client_with_phone(session, timezone=noon_zone())
        call_id = enqueue_call(session, client, clock[0])
        fake.voice.script(reply)
        assert dispatcher.run()["unknown"] == 1
        assert row(session, call_id).status == "unknown"
        clock[0] += timedelta(minutes=2)
        assert dispatcher.run()["settled_sent"] == 1
        [call] = fake.voice.wait_for_calls(1)
        message = row(session, call_id)
        assert message.provider_sid == call.sid
        # "delivered" when the call had ended by the look-up (tests/test_dispatch_call_lookup)
        assert message.status in ("sent", "delivered")
        assert len(fake.voice.creates) == 1


def test_a_call_of_unknown_outcome_that_never_arrived_is_placed_again_once(
    make_app: Callable[..., Flask], gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    app, dispatcher, clock = real_clock(make_app, gateways)
    with get_db(app).session() as session:
        client, _ = factories.client_with_phone(session, timezone=noon_zone())
        call_id = enqueue_call(session, client, clock[0])
        fake.voice.script(Reply(no_answer=True))  # lost on the way: never placed
        assert dispatcher.run()["unknown"] == 1
        assert fake.voice.calls == []
        clock[0] += timedelta(minutes=2)
        counts = dispatcher.run()
        assert (counts["settled_resend"], counts["sent"]) == (1, 1)
        [call] = fake.voice.wait_for_calls(1)
        assert (row(session, call_id).status, row(session, call_id).provider_sid) == (
            "sent",
            call.sid,
        )
        assert len(fake.voice.creates) == 2
        assert dispatcher.run()["claimed"] == 0


def test_a_call_already_recorded_is_not_taken_for_another_of_unknown_outcome(
    make_app: Callable[..., Flask], gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    app, dispatcher, clock = real_clock(make_app, gateways)
    with get_db(app).session() as session:
        client, _ = factories.client_with_phone(session, timezone=noon_zone())
        first = enqueue_call(session, client, clock[0])
        assert dispatcher.run()["sent"] == 1
        second = enqueue_call(session, client, clock[0] + timedelta(seconds=1))
        clock[0] += timedelta(seconds=1)
        fake.voice.script(Reply(no_answer=True))
        assert dispatcher.run()["unknown"] == 1
        clock[0] += timedelta(minutes=2)
        assert dispatcher.run()["settled_resend"] == 1
        calls = fake.voice.wait_for_calls(2)
        assert [row(session, m).provider_sid for m in (first, second)] == [c.sid for c in calls]


@pytest.mark.parametrize(
    ("local", "until"),
    [
        (datetime(2027, 3, 3, 20, 30, tzinfo=NY), datetime(2027, 3, 4, 9, 0, tzinfo=NY)),
        (datetime(2027, 3, 4, 8, 30, tzinfo=NY), datetime(2027, 3, 4, 9, 0, tzinfo=NY)),
    ],
)
def test_a_call_outside_call_hours_waits_for_them(
    app: Flask,
    session: Session,
    gateways: dict[Channel, object],
    fake: FakeTwilio,
    local: datetime,
    until: datetime,
) -> None:
    # 20:30 and 8:30 are outside quiet hours (21:00-08:00): a text would go, a call waits.
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, local)
    text_id = enqueue_call(session, client, local, channel=Channel.SMS, to="+16175550124")
    counts = dispatcher_for(app, gateways, [local.astimezone(UTC)]).run()
    assert (counts["defer"], counts["sent"]) == (1, 1)
    message = row(session, call_id)
    assert (message.status, message.send_at, message.attempts) == ("planned", until, 0)
    assert row(session, text_id).status == "sent"
    assert fake.voice.creates == []


def test_a_reminder_call_that_call_hours_would_push_past_the_session_expires(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    local = datetime(2027, 3, 3, 20, 30, tzinfo=NY)
    client, contact = factories.client_with_phone(session)
    contact.channel = "voice"  # the planner's calls are for a contact on calls
    start = datetime(2027, 3, 4, 8, 45, tzinfo=NY)
    appt = factories.appointment(session, client, start)
    call_id = enqueue_call(
        session,
        client,
        local,
        kind=MessageKind.REMINDER,
        appointment_id=appt.id,
        contact_id=contact.id,
        planned_start=start,
    )
    assert dispatcher_for(app, gateways, [local.astimezone(UTC)]).run()["expired"] == 1
    assert row(session, call_id).error_message == "call hours last until the appointment"
    assert fake.voice.creates == []


def test_quiet_hours_that_cover_call_hours_skip_the_call(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, NOW)
    dispatcher = dispatcher_for(app, gateways, [NOW])
    dispatcher.base = replace(dispatcher.base, quiet_hours=(time(8, 0), time(21, 0)))
    assert dispatcher.run()["skipped"] == 1
    assert row(session, call_id).error_message == "quiet hours leave no time for calls"
    assert fake.voice.creates == []


def due_mix(session: Session, count: int, *, calls_every: int = 3, pairs: bool = False) -> None:
    """``count`` due manual messages, every ``calls_every``-th a call, to a number that agreed
    to calls, for a client where it is about noon (calls ring from 9:00 to 20:00). Each goes
    to a number of its own, or with ``pairs``, two in a row to one number (a call, then a
    text when calls come every other one)."""
    client = Client(name="Load Test", timezone=noon_zone(), language="en")
    session.add(client)
    session.flush()
    now = datetime.now(UTC) - timedelta(minutes=1)
    drafts = [
        outbox.Draft(
            idempotency_key=f"mix:{i}",
            kind=MessageKind.MANUAL,
            to_phone=f"+1617555{i // 2 if pairs else i:04d}",
            body=f"message {i}",
            send_at=now + timedelta(microseconds=i),
            client_id=client.id,
            channel=Channel.VOICE if i % calls_every == 0 else Channel.SMS,
        )
        for i in range(count)
    ]
    for draft in drafts:
        if draft.channel == Channel.VOICE:
            call_consent.record_consent(session, None, draft.to_phone, AGREED_AT, via="test")
    outbox.enqueue(session, drafts, now)
    session.commit()


def test_three_dispatchers_place_every_call_and_send_every_text_exactly_once(
    app: Flask,
    session: Session,
    database_url: str,
    fake: FakeTwilio,
    public_url: str,
    dialect: str,
    tmp_path: Path,
) -> None:
    count = 600 if dialect == "postgresql" else 240
    due_mix(session, count)
    log = tmp_path / "clock.log"
    # Exactly once is the point here, not the pace: at Twilio's default of one call a
    # second the calls alone would take minutes (test_send_rate_calls keeps to the rate).
    more = {"TWILIO_FROM_NUMBER": PRACTICE, "PUBLIC_BASE_URL": public_url}
    more["VOICE_MAX_PER_SECOND"] = "200"
    processes = [clock_process(database_url, fake, log, **more) for _ in range(3)]
    for process in processes:
        assert process.wait(timeout=240) == 0, log.read_text()[-2000:]
    calls = count // 3 + (count % 3 > 0)
    texts = Counter(m["Body"] for m in fake.sent)
    assert len(texts) == count - calls and max(texts.values()) == 1
    placed = Counter(c["Url"].rsplit("/", 1)[1] for c in fake.voice.creates)
    assert len(placed) == calls and max(placed.values()) == 1
    session.expire_all()
    by_channel = dict(
        session.execute(
            select(OutboundMessage.channel, func.count())
            .where(OutboundMessage.status == "sent")
            .group_by(OutboundMessage.channel)
        ).all()
    )
    assert by_channel == {"sms": count - calls, "voice": calls}
    voice_ids = set(
        session.scalars(select(OutboundMessage.id).where(OutboundMessage.channel == "voice"))
    )
    assert {int(i) for i in placed} == voice_ids
    sids = set(session.scalars(select(OutboundMessage.provider_sid)))
    assert sids == {m["Sid"] for m in fake.sent} | {c.sid for c in fake.voice.calls}
    assert "+16175550003" not in log.read_text()  # numbers stay masked in the logs


def test_a_call_left_in_flight_is_not_taken_for_another_of_unknown_outcome(
    make_app: Callable[..., Flask], gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    app, dispatcher, clock = real_clock(make_app, gateways)
    with get_db(app).session() as session:
        client, _ = factories.client_with_phone(session, timezone=noon_zone())
        left = enqueue_call(session, client, clock[0])
        assert dispatcher.claim("dead-dispatcher") == [(left, "sending")]
        # That dispatcher placed the call, then died before recording it.
        gateways[Channel.VOICE].send(TO, "words", message_id=left)  # type: ignore[attr-defined]
        mine = enqueue_call(session, client, clock[0] + timedelta(seconds=1))
        clock[0] += timedelta(seconds=1)
        fake.voice.script(Reply(no_answer=True))  # this one was never placed
        assert dispatcher.run()["unknown"] == 1
        clock[0] += timedelta(minutes=2)
        assert dispatcher.run()["unknown"] == 1  # the call in flight may be either's
        message = row(session, mine)
        assert (message.status, message.provider_sid) == ("unknown", None)
        assert message.error_message == "lookup failed: another call to the number is in flight"
        clock[0] += dispatcher.lease  # the dead dispatcher's lease ends: both are looked up
        counts = dispatcher.run()
        assert (counts["settled_sent"], counts["settled_resend"], counts["sent"]) == (1, 1, 1)
        calls = fake.voice.wait_for_calls(2)
        sids = {row(session, m).provider_sid for m in (left, mine)}
        assert sids == {c.sid for c in calls}  # two messages, two calls: none twice
        assert len(fake.voice.creates) == 3  # the lost create, the dead one's, the resend


def test_a_call_being_placed_by_a_batch_is_not_taken_for_another_of_unknown_outcome(
    make_app: Callable[..., Flask],
    gateways: dict[Channel, object],
    fake: FakeTwilio,
    public_url: str,
    dialect: str,
) -> None:
    if dialect != "postgresql":
        pytest.skip(WRITE_LOCK_ONLY)
    app, looker, clock = real_clock(make_app, gateways)
    patient = TwilioVoiceGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=PRACTICE,
        public_base_url=public_url,
        api_base_url=fake.base_url,
        timeout=10,
    )
    sender = dispatcher_for(app, {Channel.VOICE: patient}, [clock[0]])
    with get_db(app).session() as session:
        client, _ = factories.client_with_phone(session, timezone=noon_zone())
        mine = enqueue_call(session, client, clock[0])
        fake.voice.script(Reply(no_answer=True))  # never placed
        assert looker.run()["unknown"] == 1
        other = enqueue_call(session, client, clock[0] + timedelta(seconds=1))
        release = threading.Event()
        # The other call is placed at once, but its batch hears so only once released.
        fake.voice.script(Reply(accept_then_hang=True, until=release))
        sending = threading.Thread(target=sender.run)
        sender.now = lambda: clock[0] + timedelta(seconds=1)
        sending.start()
        try:
            fake.voice.wait_for_calls(1)  # placed; its batch holds its locks, unrecorded
            clock[0] += timedelta(minutes=2)
            looking = threading.Thread(target=looker.run)
            looking.start()
            clock_time.sleep(0.5)  # let the look-up run, or wait, before the batch records
        finally:
            release.set()
            sending.join()
        looking.join()
        assert row(session, other).provider_sid == fake.voice.calls[0].sid
        message = row(session, mine)
        assert message.provider_sid != fake.voice.calls[0].sid
        clock[0] += timedelta(minutes=2)
        looker.run()
        calls = fake.voice.wait_for_calls(2)
        assert {row(session, m).provider_sid for m in (mine, other)} == {c.sid for c in calls}
    patient.close()


def test_a_withdrawal_between_claim_and_call_stops_the_call(
    app: Flask, session: Session, gateways: dict[Channel, object], fake: FakeTwilio
) -> None:
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, NOW)
    dispatcher = dispatcher_for(app, gateways, [NOW])
    [(message_id, status)] = dispatcher.claim("token")
    with get_db(app).session() as other:  # the form unticks the agreement meanwhile
        call_consent.withdraw_consent(other, None, TO, NOW, via="dashboard")
        other.commit()
    assert dispatcher.handle(message_id, status, "token") == "skipped"
    assert row(session, call_id).error_message == "calls not agreed"
    assert fake.voice.creates == []


class TimedVoiceGateway(TwilioVoiceGateway):
    """The Twilio voice gateway, noting when each call's create came back."""

    returned_at: float = 0.0

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        sid = super().send(to, body, message_id=message_id)
        self.returned_at = clock_time.monotonic()
        return sid


def test_a_stop_while_the_call_is_being_placed_waits_for_it(
    app: Flask, session: Session, fake: FakeTwilio, public_url: str
) -> None:
    client, _ = factories.client_with_phone(session)
    call_id = enqueue_call(session, client, NOW)
    later_id = enqueue_call(session, client, NOW + timedelta(hours=1))
    patient = TimedVoiceGateway(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=PRACTICE,
        public_base_url=public_url,
        api_base_url=fake.base_url,
        timeout=10,
    )
    answer = threading.Event()
    fake.voice.script(Reply(until=answer))  # Twilio answers the create when the test lets it
    clock = [NOW]
    dispatcher = dispatcher_for(app, {Channel.VOICE: patient}, clock)
    outcome: list[object] = []
    sender = threading.Thread(target=lambda: outcome.append(dispatcher.run()))
    sender.start()
    deadline = clock_time.monotonic() + 30
    while not fake.voice.creates:  # the request reached Twilio, which holds its answer
        assert clock_time.monotonic() < deadline and sender.is_alive(), outcome
        clock_time.sleep(0.01)
    # The answer comes a little after the stop has started: the stop must wait for it (on
    # a slow day the stop may start later; then it proves less, but never fails).
    threading.Timer(0.5, answer.set).start()
    with get_db(app).session() as other:  # pressing 9 on another call, say
        call_consent.stop_calls(other, None, TO, NOW, via="keypad")
        other.commit()
        stopped_at = clock_time.monotonic()
    sender.join(timeout=10)
    assert outcome and outcome[0]["sent"] == 1, outcome  # type: ignore[index]
    # The stop could only commit once the call was placed and recorded: it came after it.
    assert patient.returned_at and stopped_at >= patient.returned_at
    assert row(session, call_id).status == "sent"
    clock[0] = NOW + timedelta(hours=1)
    assert dispatcher.run()["skipped"] == 1  # the next call is not placed
    assert (row(session, later_id).status, row(session, later_id).error_message) == (
        "skipped",
        "calls stopped",
    )
    assert len(fake.voice.creates) == 1
    patient.close()
