"""The dispatcher: the real twilio SDK against a local Twilio, one process at a time."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import Alert, Contact, OutboundMessage, PhoneNumber
from service.sms.gateway import SimulatorGateway, TwilioGateway
from tests import factories
from tests.fake_twilio import FakeTwilio, Reply

# Wednesday 11:00 in New York: outside the default quiet hours (21:00-08:00).
NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def gateway(fake: FakeTwilio) -> Iterator[TwilioGateway]:
    gw = fake.gateway()
    yield gw
    gw.close()


Clock = list[datetime]


@pytest.fixture
def clock() -> Clock:
    return [NOW]


@pytest.fixture
def dispatcher(app: Flask, gateway: TwilioGateway, clock: Clock) -> Dispatcher:
    return Dispatcher(
        get_db(app),
        settings_of(app),
        {Channel.SMS: gateway},
        now=lambda: clock[0],
        rng=random.Random(7),
    )


def reload(session: Session, row: OutboundMessage) -> OutboundMessage:
    session.expire_all()
    fresh = session.get(OutboundMessage, row.id)
    assert fresh is not None
    return fresh


def test_it_sends_a_due_text_once_and_records_the_sid(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=NOW - timedelta(minutes=1))
    session.commit()
    counts = dispatcher.run()
    assert counts["sent"] == 1
    [sent] = fake.sent
    assert (sent["To"], sent["From"], sent["Body"]) == ("+16175550123", "+16175550100", row.body)
    assert sent["StatusCallback"] == "https://touchbase.example/sms/status"
    row = reload(session, row)
    assert (row.status, row.provider_sid, row.attempts) == ("sent", sent["Sid"], 1)
    assert row.sent_at == NOW and row.claim_token is None
    assert dispatcher.run()["sent"] == 0
    assert len(fake.sent) == 1


def test_it_sends_nothing_before_its_time(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=NOW + timedelta(minutes=1))
    session.commit()
    assert dispatcher.run()["claimed"] == 0
    assert fake.messages == [] and reload(session, row).status == "planned"


def test_it_sends_oldest_first(session: Session, dispatcher: Dispatcher, fake: FakeTwilio) -> None:
    client, contact = factories.client_with_phone(session)
    for minutes in (1, 30, 5):
        factories.message(
            session, client, contact, send_at=NOW - timedelta(minutes=minutes), body=f"m{minutes}"
        )
    session.commit()
    dispatcher.base = replace(dispatcher.base, sms_send_concurrency=1)
    dispatcher.run()
    assert [m["Body"] for m in fake.sent] == ["m30", "m5", "m1"]


def test_a_simulated_text_is_stored_as_delivered(app: Flask, session: Session) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=NOW)
    session.commit()
    Dispatcher(
        get_db(app), settings_of(app), {Channel.SMS: SimulatorGateway()}, now=lambda: NOW
    ).run()
    row = reload(session, row)
    assert row.status == "delivered" and (row.provider_sid or "").startswith("SM")


def test_an_opted_out_number_is_skipped(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=NOW)
    session.add(PhoneNumber(phone=contact.phone, opted_out_at=NOW - timedelta(days=1)))
    session.commit()
    assert dispatcher.run()["skipped"] == 1
    assert fake.messages == [] and reload(session, row).status == "skipped"


def planned_reminder(
    session: Session, start: datetime, send_at: datetime, status: str = "scheduled"
):  # type: ignore[no-untyped-def]
    client, contact = factories.client_with_phone(session)
    appt = factories.appointment(session, client, start, status=status)
    key = f"reminder:{appt.id}:{contact.id}:86400:{int(start.timestamp())}"
    row = factories.message(
        session,
        client,
        contact,
        send_at=send_at,
        kind="reminder",
        key=key,
        appointment_id=appt.id,
        planned_start=start,
    )
    return appt, row


def test_a_reminder_for_a_cancelled_appointment_is_never_sent(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    _, row = planned_reminder(session, NOW + timedelta(hours=20), NOW, status="cancelled")
    session.commit()
    assert dispatcher.run()["cancelled"] == 1
    assert fake.messages == [] and reload(session, row).status == "cancelled"


def test_a_reminder_for_a_moved_appointment_is_never_sent(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    appt, _ = planned_reminder(session, NOW + timedelta(hours=20), NOW)
    appt.starts_at += timedelta(hours=2)
    appt.ends_at += timedelta(hours=2)
    session.commit()
    assert dispatcher.run()["cancelled"] == 1
    assert fake.messages == []


def test_a_reminder_after_the_start_expires(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    _, row = planned_reminder(session, NOW - timedelta(minutes=5), NOW - timedelta(days=1))
    session.commit()
    assert dispatcher.run()["expired"] == 1
    assert fake.messages == [] and reload(session, row).status == "expired"


@pytest.mark.parametrize(
    ("late", "expected"), [(timedelta(hours=11), "sent"), (timedelta(hours=13), "expired")]
)
def test_a_late_checkin_is_sent_within_twelve_hours_only(
    session: Session, dispatcher: Dispatcher, late: timedelta, expected: str
) -> None:
    client, contact = factories.client_with_phone(session)
    start = NOW - late - timedelta(hours=25)
    appt = factories.appointment(session, client, start, status="completed")
    key = f"checkin:{appt.id}:{contact.id}:86400:{int(start.timestamp())}"
    row = factories.message(
        session,
        client,
        contact,
        send_at=NOW - late,
        kind="checkin",
        key=key,
        appointment_id=appt.id,
    )
    session.commit()
    dispatcher.run()
    assert reload(session, row).status == expected


def test_inside_quiet_hours_a_text_waits_for_the_morning(
    session: Session, dispatcher: Dispatcher, clock: Clock, fake: FakeTwilio
) -> None:
    clock[0] = datetime(2027, 3, 3, 23, 30, tzinfo=NY).astimezone(UTC)
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=clock[0], kind="nudge")
    session.commit()
    dispatcher.base = replace(dispatcher.base, rebooking_texts=True)  # else it is cancelled
    assert dispatcher.run()["defer"] == 1
    row = reload(session, row)
    assert row.status == "planned"
    assert row.send_at == datetime(2027, 3, 4, 8, 0, tzinfo=NY)
    assert fake.messages == []


def test_a_transient_error_is_retried_later_with_backoff(
    session: Session, dispatcher: Dispatcher, clock: Clock, fake: FakeTwilio
) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=NOW)
    session.commit()
    fake.script(Reply(status=429, code=20429), Reply(status=503))
    assert dispatcher.run()["retry"] == 1
    first = reload(session, row)
    assert (first.status, first.attempts, first.error_code) == ("planned", 1, 20429)
    first_retry = first.send_at
    assert timedelta(seconds=15) <= first_retry - NOW <= timedelta(seconds=30)
    clock[0] = first_retry
    assert dispatcher.run()["retry"] == 1
    second_retry = reload(session, row).send_at
    assert timedelta(seconds=30) <= second_retry - first_retry <= timedelta(seconds=60)
    clock[0] = second_retry
    assert dispatcher.run()["sent"] == 1
    assert len(fake.sent) == 1 and reload(session, row).attempts == 3


def test_it_gives_up_after_the_configured_attempts(
    session: Session, dispatcher: Dispatcher, clock: Clock, fake: FakeTwilio
) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=NOW)
    session.commit()
    fake.script(*[Reply(status=503)] * 10)
    for _ in range(dispatcher.settings.sms_max_attempts):
        dispatcher.run()
        clock[0] += timedelta(hours=2)
    row = reload(session, row)
    assert (row.status, row.attempts) == ("failed", dispatcher.settings.sms_max_attempts)
    assert len(fake.messages) == dispatcher.settings.sms_max_attempts
    [alert] = session.scalars(select(Alert)).all()
    assert (alert.kind, alert.outbound_id, alert.client_id) == (
        "delivery_failed",
        row.id,
        client.id,
    )


def test_21610_opts_the_number_out_and_skips_its_other_texts(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=NOW)
    later = factories.message(
        session, client, contact, send_at=NOW + timedelta(days=1), body="later"
    )
    session.commit()
    fake.script(Reply(status=400, code=21610))
    assert dispatcher.run()["failed"] == 1
    assert (reload(session, row).status, reload(session, row).error_code) == ("failed", 21610)
    assert reload(session, later).status == "skipped"
    number = session.get(PhoneNumber, contact.phone)
    assert number is not None and number.opted_out
    assert [a.kind for a in session.scalars(select(Alert))] == ["opt_out"]
    assert len(fake.messages) == 1


@pytest.mark.parametrize("code", [21211, 21614])
def test_an_invalid_number_is_marked_and_alerted(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio, code: int
) -> None:
    client, contact = factories.client_with_phone(session)
    factories.message(session, client, contact, send_at=NOW)
    session.commit()
    fake.script(Reply(status=400, code=code))
    dispatcher.run()
    number = session.get(PhoneNumber, contact.phone)
    assert number is not None and number.invalid_at is not None
    [alert] = session.scalars(select(Alert)).all()
    assert (alert.kind, alert.phone) == ("invalid_number", contact.phone)


def real_clock_dispatcher(
    make_app: Callable[..., Flask], gateway: TwilioGateway
) -> tuple[Flask, Dispatcher, Clock]:
    """A dispatcher on the real clock (the fake stamps real times), quiet hours far away."""
    hour = (datetime.now(NY).hour + 12) % 24
    app = make_app(QUIET_HOURS=f"{hour:02d}:00-{hour:02d}:30")
    clock = [datetime.now(UTC)]
    return (
        app,
        Dispatcher(get_db(app), settings_of(app), {Channel.SMS: gateway}, now=lambda: clock[0]),
        clock,
    )


def test_a_text_whose_every_send_is_lost_gives_up_after_the_configured_attempts(
    make_app: Callable[..., Flask], gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    # Each send times out with an unknown outcome and the look-up finds nothing: resent,
    # but not forever; the last look-up fails it, with the practice told.
    app, dispatcher, clock = real_clock_dispatcher(make_app, gateway)
    tries = dispatcher.settings.sms_max_attempts
    with get_db(app).session() as session:
        client, contact = factories.client_with_phone(session)
        row = factories.message(session, client, contact, send_at=clock[0])
        session.commit()
        fake.script(*[Reply(status=502)] * (tries + 2))
        outcomes: Counter[str] = Counter()
        for _ in range(tries + 2):
            outcomes.update(dispatcher.run())
            clock[0] += timedelta(minutes=2)
        row = reload(session, row)
        assert (row.status, row.attempts) == ("failed", tries)
        assert outcomes["settled_resend"] == tries - 1 and fake.sent == []
        [alert] = session.scalars(select(Alert)).all()
        assert (alert.kind, alert.outbound_id) == ("delivery_failed", row.id)
        assert "unknown outcome" in alert.detail


@pytest.mark.parametrize(
    ("twilio_now", "settled"),
    [
        (None, "sent"),  # Twilio still has it queued
        # Callbacks for a text whose sid we did not know yet were dropped; the lookup that
        # finds it must bring its state up to what Twilio says now.
        ("delivered", "delivered"),
    ],
)
def test_a_timed_out_send_that_was_accepted_is_settled_not_resent(
    make_app: Callable[..., Flask],
    gateway: TwilioGateway,
    fake: FakeTwilio,
    twilio_now: str | None,
    settled: str,
) -> None:
    app, dispatcher, clock = real_clock_dispatcher(make_app, gateway)
    with get_db(app).session() as session:
        client, contact = factories.client_with_phone(session)
        row = factories.message(session, client, contact, send_at=clock[0])
        session.commit()
        fake.script(Reply(accept_then_hang=True, no_answer=True))  # accepted, answer lost
        assert dispatcher.run()["unknown"] == 1
        assert reload(session, row).status == "unknown"
        if twilio_now is not None:
            for _, resource in fake._resources:
                resource["status"] = twilio_now
        clock[0] += timedelta(minutes=2)
        assert dispatcher.run()["settled_sent"] == 1
        row = reload(session, row)
        assert (row.status, row.provider_sid) == (settled, fake.sent[0]["Sid"])
        assert len(fake.messages) == 1


def test_a_timed_out_send_that_never_arrived_is_sent_again(
    make_app: Callable[..., Flask], gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    app, dispatcher, clock = real_clock_dispatcher(make_app, gateway)
    with get_db(app).session() as session:
        client, contact = factories.client_with_phone(session)
        row = factories.message(session, client, contact, send_at=clock[0])
        session.commit()
        fake.script(Reply(no_answer=True))  # lost on the way: never accepted
        assert dispatcher.run()["unknown"] == 1
        assert fake.sent == []
        clock[0] += timedelta(minutes=2)
        counts = dispatcher.run()
        assert (counts["settled_resend"], counts["sent"]) == (1, 1)
        assert reload(session, row).status == "sent"
        assert len(fake.sent) == 1


def test_a_claim_left_by_a_dead_dispatcher_is_looked_up_after_its_lease(
    make_app: Callable[..., Flask], gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    app, dispatcher, clock = real_clock_dispatcher(make_app, gateway)
    with get_db(app).session() as session:
        client, contact = factories.client_with_phone(session)
        row = factories.message(session, client, contact, send_at=clock[0])
        session.commit()
        assert dispatcher.claim("dead-dispatcher")  # claimed, then the process died
        assert dispatcher.run()["claimed"] == 0  # its lease still holds
        clock[0] += dispatcher.lease + timedelta(seconds=1)
        counts = dispatcher.run()
        assert (counts["settled_resend"], counts["sent"]) == (1, 1)
        assert reload(session, row).status == "sent" and len(fake.sent) == 1


def test_a_stop_hands_claimed_texts_back(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio
) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=NOW)
    session.commit()
    [(message_id, status)] = dispatcher.claim("token")
    dispatcher.stop.set()
    assert dispatcher.handle(message_id, status, "token") == "released"
    row = reload(session, row)
    assert (row.status, row.claim_token) == ("planned", None)
    assert fake.messages == []


def test_a_stop_hands_back_new_texts_and_leaves_unknown_ones_to_be_looked_up(
    make_app: Callable[..., Flask], gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    app, dispatcher, clock = real_clock_dispatcher(make_app, gateway)
    with get_db(app).session() as session:
        client, contact = factories.client_with_phone(session)
        lost = factories.message(session, client, contact, send_at=clock[0], body="first")
        session.commit()
        fake.script(Reply(status=502))  # its outcome is unknown
        assert dispatcher.run()["unknown"] == 1
        clock[0] += timedelta(minutes=2)
        new = factories.message(session, client, contact, send_at=clock[0], body="second")
        session.commit()
        claims = dispatcher.claim_batch("token")
        assert sorted(c.status for c in claims) == ["sending", "unknown"]
        dispatcher.stop.set()
        with ThreadPoolExecutor(1) as pool:
            counts = dispatcher.dispatch("token", claims, pool)
        assert (counts["released"], counts["lookup_later"]) == (1, 1), counts
        assert reload(session, new).status == "planned"
        assert (reload(session, lost).status, reload(session, lost).claim_token) == (
            "unknown",
            "token",
        )
        assert fake.sent == []


def test_a_server_error_is_looked_up_before_sending_again(
    make_app: Callable[..., Flask], gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    app, dispatcher, clock = real_clock_dispatcher(make_app, gateway)
    with get_db(app).session() as session:
        client, contact = factories.client_with_phone(session)
        row = factories.message(session, client, contact, send_at=clock[0])
        session.commit()
        fake.script(Reply(status=502))
        assert dispatcher.run()["unknown"] == 1
        clock[0] += timedelta(minutes=2)
        counts = dispatcher.run()
        assert (counts["settled_resend"], counts["sent"]) == (1, 1)
        assert reload(session, row).status == "sent" and len(fake.sent) == 1


@pytest.mark.parametrize(
    "change",
    [{"phone": "+16175550999"}, {"reminders": False}],
)
def test_a_claimed_reminder_follows_its_contact_changing(
    session: Session, dispatcher: Dispatcher, fake: FakeTwilio, change: dict[str, object]
) -> None:
    _, row = planned_reminder(session, NOW + timedelta(hours=20), NOW)
    session.commit()
    [(message_id, status)] = dispatcher.claim("token")
    target = session.get(Contact, reload(session, row).contact_id)
    assert target is not None
    for key, value in change.items():
        setattr(target, key, value)
    session.commit()
    assert dispatcher.handle(message_id, status, "token") == "cancelled"
    assert reload(session, row).error_message == "contact removed or changed"
    assert fake.messages == []


def test_many_concurrent_sends_stay_within_the_connection_pool(
    app: Flask, session: Session, gateway: TwilioGateway, fake: FakeTwilio
) -> None:
    client, _ = factories.client_with_phone(session)
    for i in range(48):
        factories.message(session, client, None, send_at=NOW, body=f"m{i}", to=f"+1617555{i:04d}")
    session.commit()
    settings = replace(settings_of(app), sms_send_concurrency=24)
    clock = [NOW]
    dispatcher = Dispatcher(get_db(app), settings, {Channel.SMS: gateway}, now=lambda: clock[0])
    total: Counter[str] = Counter()
    for _ in range(5):  # the local fake may refuse a burst of connections: those retry
        total += dispatcher.run()
        clock[0] += timedelta(hours=1)
    assert total["sent"] == 48 and total["error"] == 0, total
    assert sorted(m["Body"] for m in fake.sent) == sorted(f"m{i}" for i in range(48))


def test_a_deferral_is_not_counted_as_an_attempt(
    session: Session, dispatcher: Dispatcher, clock: Clock
) -> None:
    clock[0] = datetime(2027, 3, 3, 23, 30, tzinfo=NY).astimezone(UTC)
    client, contact = factories.client_with_phone(session)
    row = factories.message(session, client, contact, send_at=clock[0], kind="nudge")
    session.commit()
    dispatcher.base = replace(dispatcher.base, rebooking_texts=True)  # else it is cancelled
    dispatcher.run()
    assert reload(session, row).attempts == 0


def test_two_batches_refused_for_one_opted_out_number_at_once_both_record_it(
    app: Flask, gateway: TwilioGateway, fake: FakeTwilio, clock: Clock, dialect: str
) -> None:
    # Each batch holds a share lock of the number while its text goes out; when both are
    # refused (21610), recording the opt-out inside the batches would have each wait for
    # the other: a deadlock on PostgreSQL, one batch rolled back and its text left
    # ``sending`` until its lease ended. The number's news is recorded after the commits.
    if dialect != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite's one write lock orders writers")
    with get_db(app).session() as session:
        client, contact = factories.client_with_phone(session)
        rows = [
            factories.message(session, client, contact, send_at=NOW, body=f"text {i}")
            for i in range(2)
        ]
        session.commit()
    both_arrived = threading.Event()
    fake.script(*[Reply(status=400, code=21610, until=both_arrived)] * 2)
    dispatchers = [
        Dispatcher(
            get_db(app),
            settings_of(app),
            {Channel.SMS: gateway},
            now=lambda: clock[0],
            batch_size=1,
        )
        for _ in range(2)
    ]
    with ThreadPoolExecutor(2) as runs:
        futures = [runs.submit(d.run) for d in dispatchers]
        deadline = time.monotonic() + 10
        while len(fake.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        both_arrived.set()
        counts = sum((f.result() for f in futures), Counter())
    assert (counts["failed"], counts["error"]) == (2, 0), counts
    with get_db(app).session() as session:
        assert [reload(session, r).status for r in rows] == ["failed", "failed"]
        number = session.get(PhoneNumber, contact.phone)
        assert number is not None and number.opted_out
