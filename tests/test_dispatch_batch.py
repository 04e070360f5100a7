"""The batch protocol (``service.dispatch_batch``): a change that commits while a batch is
under way either waits for its sends or stops the text; a lease that ends mid-batch or a
clock killed mid-batch sends nothing twice; and a batch costs few SQL statements a text."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service import consent, dispatch_batch
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import Appointment, Contact, OutboundMessage
from service.sms.gateway import SimulatorGateway, TwilioGateway
from tests import factories
from tests.fake_twilio import FakeTwilio
from tests.test_dispatch_processes import assert_each_sent_once, clock_process, due_texts

NY = ZoneInfo("America/New_York")


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    # The real clock runs here (the fake stamps real times); keep quiet hours far from now.
    hour = (datetime.now(NY).hour + 12) % 24
    return make_app(QUIET_HOURS=f"{hour:02d}:00-{hour:02d}:30")


class Watching:
    """A gateway that notes when each send to a number started and came back, and runs
    ``on_first`` (once) just before the batch's first send goes out."""

    simulated = False

    def __init__(self, gateway: TwilioGateway, on_first: Callable[[], None]) -> None:
        self.gateway, self.on_first = gateway, on_first
        self.started: dict[str, float] = {}
        self.returned: dict[str, float] = {}
        self.first = threading.Lock()

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        if self.first.acquire(blocking=False):
            self.on_first()
        self.started[to] = time.monotonic()
        sid = self.gateway.send(to, body, message_id=message_id)
        self.returned[to] = time.monotonic()
        return sid

    def find_sent(self, to: str, since: datetime) -> list[object]:
        return self.gateway.find_sent(to, since)  # type: ignore[return-value]


def reminders(session: Session, count: int) -> list[tuple[Appointment, OutboundMessage]]:
    """``count`` due reminders, each of its own client, number and appointment, the last
    one due last."""
    made = []
    start = datetime.now(UTC) + timedelta(hours=6)
    for i in range(count):
        client, contact = factories.client_with_phone(
            session, f"Client {i}", f"+1617555{i + 1000:04d}"
        )
        appt = factories.appointment(session, client, start)
        row = factories.message(
            session,
            client,
            contact,
            send_at=datetime.now(UTC) - timedelta(minutes=10) + timedelta(seconds=i),
            kind="reminder",
            key=f"reminder:{appt.id}:{contact.id}:86400:{int(start.timestamp())}",
            appointment_id=appt.id,
            planned_start=start,
        )
        made.append((appt, row))
    session.commit()
    return made


def _opt_out(session: Session, appt: Appointment, row: OutboundMessage) -> None:
    consent.opt_out(session, row.to_phone, datetime.now(UTC))


def _cancel(session: Session, appt: Appointment, row: OutboundMessage) -> None:
    target = session.get(Appointment, appt.id)
    assert target is not None
    target.status = "cancelled"


def _reminders_off(session: Session, appt: Appointment, row: OutboundMessage) -> None:
    contact = session.get(Contact, row.contact_id)
    assert contact is not None
    contact.reminders = False


@pytest.mark.parametrize("change", [_opt_out, _cancel, _reminders_off])
def test_a_change_committing_mid_batch_waits_for_the_sends_or_stops_the_text(
    app: Flask,
    session: Session,
    change: Callable[[Session, Appointment, OutboundMessage], None],
) -> None:
    made = reminders(session, 4)
    appt, target = made[-1]  # the batch's last text: its send comes well after the check
    phone = target.to_phone
    committed: list[float] = []
    tried: list[float] = []

    def commit_the_change() -> None:
        with get_db(app).session() as other:
            tried.append(time.monotonic())
            change(other, appt, target)
            other.commit()
            committed.append(time.monotonic())

    changer = threading.Thread(target=commit_the_change)

    def start_the_change() -> None:
        changer.start()
        time.sleep(0.5)  # time enough to commit, unless it has to wait for the batch

    with FakeTwilio() as fake:
        gateway = fake.gateway(timeout=5)
        watching = Watching(gateway, start_the_change)
        settings = replace(settings_of(app), sms_send_concurrency=1)
        dispatcher = Dispatcher(get_db(app), settings, {Channel.SMS: watching})  # type: ignore[dict-item]
        counts = dispatcher.run()
        changer.join(timeout=30)
        gateway.close()
        sent_to = [m["To"] for m in fake.sent]
    assert committed and tried, "the change never committed"
    assert counts["claimed"] == 4, counts
    if phone in sent_to:
        # Sent: the change must have waited for the batch, committing after that send.
        assert tried[0] < watching.started[phone]
        assert committed[0] >= watching.returned[phone], "the change committed, then it went"
    session.expire_all()
    row = session.get(OutboundMessage, target.id)
    assert row is not None and row.status in ("sent", "skipped", "cancelled")
    assert (row.status == "sent") == (phone in sent_to)
    assert sent_to.count(phone) <= 1


def test_a_lease_ending_mid_batch_lets_no_other_dispatcher_send_its_texts(
    app: Flask, session: Session
) -> None:
    count = 20
    due_texts(session, count)
    with FakeTwilio(latency=0.15) as fake:  # 20 sends one by one: about 3 s, past the lease
        slow, other_gateway = fake.gateway(timeout=5), fake.gateway(timeout=5)
        settings = replace(settings_of(app), sms_send_concurrency=1)
        first = Dispatcher(get_db(app), settings, {Channel.SMS: slow}, lease=timedelta(seconds=1))
        outcome: list[Counter[str]] = []
        runner = threading.Thread(target=lambda: outcome.append(first.run()))
        runner.start()
        deadline = time.monotonic() + 30
        while len(fake.sent) < 10:  # well past the 1 s lease, the batch still sending
            assert time.monotonic() < deadline and runner.is_alive(), outcome
            time.sleep(0.01)
        second = Dispatcher(get_db(app), settings, {Channel.SMS: other_gateway})
        during = second.run()
        runner.join(timeout=60)
        slow.close()
        other_gateway.close()
    # The second claimed none of the batch's texts (PostgreSQL skips the rows the batch
    # locked; SQLite waits for the batch's write lock, then finds them sent).
    assert during["claimed"] == 0, during
    assert outcome and outcome[0]["sent"] == count, outcome
    assert_each_sent_once(session, fake, count)


def test_a_clock_killed_mid_batch_is_looked_up_and_sends_each_text_once(
    app: Flask, session: Session, database_url: str, tmp_path: Path
) -> None:
    count = 40  # one batch
    due_texts(session, count)
    with FakeTwilio(latency=0.05) as fake:
        process = clock_process(database_url, fake, tmp_path / "clock.log")
        deadline = time.monotonic() + 60
        while len(fake.sent) < 8 and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert 0 < len(fake.sent) < count, "the kill must land mid-batch"
        gateway = fake.gateway(timeout=5)
        later = Dispatcher(  # after the dead clock's leases ran out
            get_db(app),
            settings_of(app),
            {Channel.SMS: gateway},
            now=lambda: datetime.now(UTC) + timedelta(minutes=6),
        )
        looked_up = later.run()
        later.run()  # what the look-up handed back as never sent goes now
        gateway.close()
        bodies = Counter(m["Body"] for m in fake.sent)
    assert looked_up["settled_sent"] > 0, looked_up  # found at the provider, not resent
    assert len(bodies) == count and max(bodies.values()) == 1
    session.expire_all()
    assert set(session.scalars(select(OutboundMessage.status))) == {"sent"}


def test_a_batch_costs_at_most_three_statements_a_text(app: Flask, session: Session) -> None:
    count = 100
    made = reminders(session, count)
    engine = get_db(app).engine
    statements: list[str] = []

    def note(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    event.listen(engine, "before_cursor_execute", note)
    try:
        counts = Dispatcher(get_db(app), settings_of(app), {Channel.SMS: SimulatorGateway()}).run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert counts["sent"] == count, counts
    assert len(statements) <= 3 * count, len(statements)
    session.expire_all()
    rows = session.scalars(
        select(OutboundMessage).where(OutboundMessage.id.in_([row.id for _, row in made]))
    )
    assert {r.status for r in rows} == {"delivered"}


def test_a_batch_that_cannot_take_its_locks_gives_its_texts_back_unsent(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = reminders(session, 3)

    def deadlock(*_args: object) -> None:
        raise OperationalError("SELECT ... FOR SHARE", {}, Exception("deadlock detected"))

    monkeypatch.setattr(dispatch_batch, "lock_and_read", deadlock)
    with FakeTwilio() as fake:
        gateway = fake.gateway(timeout=5)
        counts = Dispatcher(get_db(app), settings_of(app), {Channel.SMS: gateway}).run()
        gateway.close()
        assert fake.messages == []
    # Released at once (not left to the lease), and the run stops rather than retake them.
    assert (counts["claimed"], counts["released"], counts["lock_failed"]) == (3, 3, 1), counts
    session.expire_all()
    rows = [session.get(OutboundMessage, row.id) for _, row in made]
    assert {(r.status, r.attempts, r.claim_token) for r in rows if r} == {("planned", 0, None)}


def test_sends_keep_to_the_rate_limit_across_batches(app: Flask, session: Session) -> None:
    count = 30
    due_texts(session, count)
    settings = replace(settings_of(app), sms_max_per_second=20.0)
    with FakeTwilio() as fake:
        gateway = fake.gateway(timeout=5)
        dispatcher = Dispatcher(get_db(app), settings, {Channel.SMS: gateway})
        assert dispatcher.batch_limit() == 20  # about one second of sends a batch
        counts = dispatcher.run()
        gateway.close()
        arrived = sorted(fake.sent_at)
    assert counts["sent"] == count, counts
    # 30 sends at 20 a second take at least 29 intervals of 50 ms (generous margin).
    assert arrived[-1] - arrived[0] >= 1.2, arrived[-1] - arrived[0]


def test_with_a_send_rate_one_batch_at_a_time_and_slots_that_passed_are_taken_afresh(
    app: Flask,
) -> None:
    settings = replace(settings_of(app), sms_max_per_second=20.0)
    dispatcher = Dispatcher(get_db(app), settings, {})
    dispatcher.settings = settings
    # Two batches' sends queued behind each other would leave their slots late, together.
    assert dispatcher.lanes == 1
    batch = dispatch_batch.Batch(dispatcher, "token", [])
    now = time.monotonic()
    on_time = [now + 0.01, now + 0.06]
    assert batch.in_time(on_time, 2) == on_time
    # Taking the locks outlasted the first slot by more than an interval: fresh slots,
    # spaced by the rate, none of them in the past.
    fresh = batch.in_time([now - 1.0, now - 0.95], 2)
    assert fresh[0] >= now - 0.01 and fresh[1] - fresh[0] == pytest.approx(0.05, abs=0.01)


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, left
