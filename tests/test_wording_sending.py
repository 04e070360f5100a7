"""Edited wording reaches the phone: texts planned before a save are re-rendered once, in
the save's transaction; what leaves carries the version it was written with; caregivers get
their own variant; names show in plain letters when the practice says so."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from jobs.clock import PlanState, plan
from service import accounts, bookings, planner, practice_settings, replies, wording_versions
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain import segments
from service.domain.vocabulary import Channel, MessageKind
from service.models import Appointment, Contact, MessageTemplate, OutboundMessage, User
from tests import factories
from tests.conftest import WRITE_LOCK_ONLY
from tests.fake_twilio import FakeTwilio

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
FRIDAY = datetime(2027, 3, 5, 15, 0, tzinfo=UTC)  # Friday 10:00
REMINDER_DUE = FRIDAY - timedelta(hours=24)
OWN, ROSA = "+16175550123", "+16175550177"
EDITED = "{practice}: see you {when}, {first_name}! {reply_hint}"
EDITED_CAREGIVER = "{first_name}, {client_first_name} is booked {when}. {reply_hint}"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def admin(app: Flask, session: Session) -> User:
    user = accounts.create_user(
        session, settings_of(app), "boss@practice.test", "Boss", "long-enough-pw", admin=True
    )
    session.commit()
    return user


def booked(app: Flask, session: Session, name: str = "Lucía Pérez", weeks: int = 1) -> None:
    """A client with a caregiver who gets reminders, ``weeks`` Friday sessions, planned."""
    client, _ = factories.client_with_phone(session, name=name)
    client.contacts.append(
        Contact(name="Rosa Lee", relation="parent", phone=ROSA, reminders=True, checkins=False)
    )
    for week in range(weeks):
        factories.appointment(session, client, FRIDAY + timedelta(weeks=week))
    planner.plan_horizon(session, settings_of(app), NOW, everyone=True)
    session.commit()


def texts(session: Session, kind: MessageKind = MessageKind.REMINDER) -> list[OutboundMessage]:
    session.expire_all()
    query = select(OutboundMessage).where(OutboundMessage.kind == kind)
    return list(session.scalars(query.order_by(OutboundMessage.send_at, OutboundMessage.to_phone)))


def save(
    app: Flask, session: Session, admin: User, kind: str, body: str, now: datetime = NOW
) -> wording_versions.Saved:
    saved = wording_versions.save(session, kind, "en", body, admin, now, settings=settings_of(app))
    session.commit()
    return saved


def test_a_reminder_sent_through_twilio_carries_the_edited_wording_and_its_version(
    app: Flask, session: Session, admin: User, fake: FakeTwilio
) -> None:
    booked(app, session)
    own = save(app, session, admin, "reminder", EDITED)
    caregiver = save(app, session, admin, "reminder_caregiver", EDITED_CAREGIVER)
    gateway = fake.gateway()
    dispatcher = Dispatcher(
        get_db(app),
        settings_of(app),
        {Channel.SMS: gateway},
        now=lambda: REMINDER_DUE,
        rng=random.Random(7),
    )
    assert dispatcher.run()["sent"] == 2
    gateway.close()
    assert {m["To"]: m["Body"] for m in fake.sent} == {
        OWN: "Bright Path: see you Fri Mar 5, 10:00 AM, Lucía! "
        "Reply C to confirm or R to reschedule.",
        ROSA: "Rosa, Lucía is booked Fri Mar 5, 10:00 AM. Reply C to confirm or R to reschedule.",
    }
    assert {(m.to_phone, m.status, m.template_id) for m in texts(session)} == {
        (OWN, "sent", own.template.id),
        (ROSA, "sent", caregiver.template.id),
    }


def test_a_save_re_renders_each_planned_text_once_and_leaves_sent_ones_alone(
    app: Flask, session: Session, admin: User, fake: FakeTwilio
) -> None:
    booked(app, session, weeks=2)
    gateway = fake.gateway()
    Dispatcher(
        get_db(app), settings_of(app), {Channel.SMS: gateway}, now=lambda: REMINDER_DUE
    ).run()
    gateway.close()
    before = {m.id: (m.status, m.body, m.template_id) for m in texts(session)}
    checkins = {m.id: m.body for m in texts(session, MessageKind.CHECKIN)}
    later = REMINDER_DUE + timedelta(minutes=30)
    # Nothing else is due to change at that moment: a plan now changes nothing.
    assert planner.plan_horizon(session, settings_of(app), later, everyone=True).updated == 0
    saved = save(app, session, admin, "reminder", EDITED, later)
    after = texts(session)
    assert saved.replanned == 1  # the second week's reminder to the client's own phone
    assert sorted(after_row.id for after_row in after) == sorted(before)  # none added
    changed = {m.id for m in after if (m.status, m.body, m.template_id) != before[m.id]}
    [second_week] = changed
    row = next(m for m in after if m.id == second_week)
    assert (row.to_phone, row.status, row.template_id) == (OWN, "planned", saved.template.id)
    assert row.body == "Bright Path: see you Fri Mar 12, 10:00 AM, Lucía! " + (
        "Reply C to confirm or R to reschedule."
    )
    assert {m.status for m in after if m.send_at == REMINDER_DUE} == {"sent"}
    assert {m.id: m.body for m in texts(session, MessageKind.CHECKIN)} == checkins
    # Planning again finds it up to date: each text was re-rendered exactly once.
    assert planner.plan_horizon(session, settings_of(app), later, everyone=True).updated == 0
    reset = wording_versions.reset(
        session, "reminder", "en", admin, later, settings=settings_of(app)
    )
    session.commit()
    assert reset.replanned == 1
    # The shipped wording again, and the text records the reset (told from never edited).
    assert {m.id: (m.body, m.template_id) for m in texts(session)} == {
        m.id: (before[m.id][1], reset.template.id if m.id == second_week else None)
        for m in texts(session)
    }
    assert planner.plan_horizon(session, settings_of(app), later, everyone=True).updated == 0
    # A second reset (another tab) changes nothing and re-plans nothing.
    again = wording_versions.reset(
        session, "reminder", "en", admin, later, settings=settings_of(app)
    )
    session.commit()
    assert again is None
    assert wording_versions.versions(session, "reminder", "en")[0].id == reset.template.id


def test_a_caregiver_gets_the_caregiver_variant_and_the_client_the_own(
    app: Flask, session: Session, admin: User
) -> None:
    booked(app, session)
    saved = save(app, session, admin, "reminder_caregiver", EDITED_CAREGIVER)
    assert saved.replanned == 1
    bodies = {m.to_phone: (m.body, m.template_id) for m in texts(session)}
    assert bodies[ROSA] == (
        "Rosa, Lucía is booked Fri Mar 5, 10:00 AM. Reply C to confirm or R to reschedule.",
        saved.template.id,
    )
    assert bodies[OWN] == (
        "Hi Lucía, reminder of your appointment at Bright Path on Fri Mar 5, 10:00 AM. "
        "Reply C to confirm or R to reschedule.",
        None,
    )


@pytest.mark.parametrize(
    ("names", "greeting", "encoding"),
    [("as_written", "Hi Lucía,", "UCS-2"), ("plain_letters", "Hi Lucia,", "GSM-7")],
)
def test_names_in_plain_letters_keep_the_text_gsm7(
    make_app: object, names: str, greeting: str, encoding: str
) -> None:
    app = make_app(NAMES_IN_TEXTS=names)  # type: ignore[operator]
    with get_db(app).session() as session:
        booked(app, session)
        own = next(m for m in texts(session) if m.to_phone == OWN)
        rosa = next(m for m in texts(session) if m.to_phone == ROSA)
        assert own.body.startswith(greeting)
        assert segments.count(own.body).encoding == encoding
        assert segments.count(rosa.body).encoding == encoding  # names the client too


def test_a_client_named_only_by_emoji_is_greeted_without_a_name(
    app: Flask, session: Session
) -> None:
    booked(app, session, name="🌻")
    bodies = {m.to_phone: m.body for m in texts(session)}
    assert bodies[OWN].startswith("Hi, reminder of your appointment at Bright Path")
    # Nothing to name the client by: the caregiver gets the wording that names no one.
    assert bodies[ROSA].startswith("Hi Rosa, reminder of your appointment")


def test_an_acknowledgement_uses_the_edited_wording_and_records_it(
    app: Flask, session: Session, admin: User
) -> None:
    booked(app, session)
    saved = save(app, session, admin, "help", "{practice} at {practice_phone}. Text STOP to end.")
    inbound = replies.Inbound("SM" + "h" * 32, OWN, "+16175550100", "HELP", 0, {})
    stored = replies.store(session.connection(), inbound, NOW)
    assert stored is not None
    answer = replies.process(session, settings_of(app), stored, NOW)
    session.commit()
    assert answer == "Bright Path at (617) 555-0100. Text STOP to end."
    [row] = texts(session, MessageKind.REPLY)
    assert (row.body, row.template_id) == (answer, saved.template.id)


def test_a_cancellation_notice_uses_the_edited_wording(
    app: Flask, session: Session, admin: User
) -> None:
    booked(app, session)
    saved = save(app, session, admin, "cancel_notice", "Cancelled: {when}. {reply_hint}")
    appointment = session.scalars(select(Appointment)).one()
    locked = bookings.lock_appointment(session, appointment.id)
    assert locked is not None
    bookings.change_appointment(
        session, settings_of(app), None, locked, NOW, via="test", status="cancelled", notify=True
    )
    session.commit()
    notices = {m.to_phone: m for m in texts(session, MessageKind.CANCEL_NOTICE)}
    assert (notices[OWN].body, notices[OWN].template_id) == (
        "Cancelled: Fri Mar 5, 10:00 AM. "
        "Reply R and we'll find a new time, or call (617) 555-0100.",
        saved.template.id,
    )
    assert notices[ROSA].template_id is None  # the caregiver variant was not edited
    assert notices[ROSA].body.startswith("Hi Rosa, Lucía's appointment at Bright Path on")


def test_a_wording_saved_elsewhere_makes_the_next_tick_replan_everyone(
    app: Flask, session: Session
) -> None:
    booked(app, session)
    state = PlanState()
    plan(app, state)  # the first tick plans everyone
    assert plan(app, state).updated == 0  # within the hour: only clients that grew
    # A version saved by another process whose re-plan missed this client (an edit of the
    # client raced the save): the clock catches it up at its next tick.
    session.add(MessageTemplate(kind="reminder", language="en", version=1, body=EDITED))
    session.commit()
    assert plan(app, state).updated == 1
    own = next(m for m in texts(session) if m.to_phone == OWN)
    assert own.body.startswith("Bright Path: see you")


WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    " AND query LIKE 'LOCK TABLE practice_settings%'"
)


def test_a_save_waits_for_a_planning_tick_in_progress_and_its_wording_stands(
    app: Flask, session: Session, admin: User, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip(WRITE_LOCK_ONLY)
    booked(app, session)
    db, base = get_db(app), settings_of(app)
    tick = db.sessions()
    practice_settings.hold(tick)  # as the clock's plan job does, first thing
    failures: list[BaseException] = []

    def save() -> None:
        try:
            with db.session() as other:
                wording_versions.save(other, "reminder", "en", EDITED, None, NOW, settings=base)
                other.commit()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    saver = threading.Thread(target=save)
    saver.start()
    try:
        deadline = time.monotonic() + 10
        while not session.scalar(text(WAITING)):
            assert time.monotonic() < deadline, "the save never waited for the tick"
            session.rollback()
            time.sleep(0.02)
        # The tick plans with the wording it read (the shipped one) and commits first.
        planner.plan_horizon(tick, base, NOW, everyone=True)
        tick.commit()
    finally:
        tick.close()
        saver.join(timeout=30)
    assert not saver.is_alive() and failures == []
    own = next(m for m in texts(session) if m.to_phone == OWN)
    assert own.body.startswith("Bright Path: see you") and own.template_id is not None
