"""A re-plan after a text went does not send it again in another form: one check-in a
local day, however the rhythm or the check-in setting changed, and no second reminder
when the reminder offsets change just after one went (``domain.repeats``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import planner, practice_settings
from service.config import Settings, settings_of
from service.models import Appointment, Client, OutboundMessage
from tests import factories

NY = ZoneInfo("America/New_York")
H, D = timedelta(hours=1), timedelta(days=1)
TUESDAY = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)  # 10:00-11:00 in New York
TO_GO = ("planned", "sending", "sent")


def weekly(session: Session) -> tuple[Client, Appointment]:
    """A client seen weekly for four weeks up to Tuesday's session, nothing booked after."""
    client, _ = factories.client_with_phone(session)
    sessions = [
        factories.appointment(session, client, TUESDAY - i * 7 * D, status="completed")
        for i in reversed(range(4))
    ]
    session.commit()
    return client, sessions[-1]


def texts(session: Session, appointment: Appointment, kind: str) -> list[OutboundMessage]:
    session.expire_all()
    query = select(OutboundMessage).where(
        OutboundMessage.appointment_id == appointment.id, OutboundMessage.kind == kind
    )
    return list(session.scalars(query.order_by(OutboundMessage.send_at)))


def goes(session: Session, row: OutboundMessage, status: str = "sent") -> datetime:
    """The dispatcher sends (or, ``sending``, is sending) the text at its time."""
    row.status = status
    row.sent_at = row.send_at if status == "sent" else None
    session.commit()
    return row.send_at


def days_asked(session: Session, appointment: Appointment) -> Counter[object]:
    """How many check-ins of the session go (or went) on each local day."""
    rows = texts(session, appointment, "checkin")
    return Counter(m.send_at.astimezone(NY).date() for m in rows if m.status in TO_GO)


def replan(session: Session, settings: Settings, client: Client, now: datetime) -> None:
    planner.replan_client(session, settings, client.id, now)
    session.commit()


def test_a_session_booked_sooner_does_not_ask_twice_on_the_day_the_middle_ask_went(
    make_app: Callable[..., Flask], session: Session
) -> None:
    auto = settings_of(make_app(CHECKIN_OFFSETS=""))
    client, last = weekly(session)
    replan(session, auto, client, last.ends_at + H)
    middle = next(m for m in texts(session, last, "checkin") if "auto-middle" in m.idempotency_key)
    went = goes(session, middle)  # Friday 11:00
    factories.appointment(session, client, datetime(2027, 3, 6, 23, 0, tzinfo=UTC))  # Saturday
    session.commit()
    replan(session, auto, client, went + H)
    before = next(m for m in texts(session, last, "checkin") if "auto-before" in m.idempotency_key)
    assert (before.status, before.error_message) == ("skipped", None)
    assert max(days_asked(session, last).values()) == 1


def test_switching_the_practice_to_automatic_after_the_24h_check_in_asks_no_more_that_day(
    make_app: Callable[..., Flask], session: Session
) -> None:
    fixed = settings_of(make_app(CHECKIN_OFFSETS="24h,72h"))
    client, last = weekly(session)
    replan(session, fixed, client, last.ends_at + 23 * H)
    went = goes(session, texts(session, last, "checkin")[0], "sending")  # Wednesday 11:00
    replan(session, replace(fixed, checkin_offsets="auto"), client, went + H)
    asked = days_asked(session, last)
    assert max(asked.values()) == 1
    assert sum(asked.values()) == 3  # the 24 h one, then the middle and the day before


def test_switching_a_client_to_fixed_days_after_the_first_automatic_ask_asks_no_more_that_day(
    make_app: Callable[..., Flask], session: Session
) -> None:
    auto = settings_of(make_app(CHECKIN_OFFSETS=""))
    client, last = weekly(session)
    replan(session, auto, client, last.ends_at + H)
    went = goes(session, texts(session, last, "checkin")[0])  # Wednesday 11:00
    client.checkin_days = "1,3"
    session.commit()
    replan(session, auto, client, went + H)
    assert dict(days_asked(session, last)) == {
        datetime(2027, 3, 3).date(): 1,
        datetime(2027, 3, 5).date(): 1,
    }


def test_a_settings_save_of_automatic_check_ins_asks_no_more_that_day(
    make_app: Callable[..., Flask], session: Session
) -> None:
    fixed = settings_of(make_app(CHECKIN_OFFSETS="24h,72h"))
    client, last = weekly(session)
    replan(session, fixed, client, last.ends_at + 23 * H)
    went = goes(session, texts(session, last, "checkin")[0])
    practice_settings.save(session, fixed, None, {"checkin_offsets": "auto"}, went + H, via="test")
    session.commit()
    assert max(days_asked(session, last).values()) == 1
    assert len(days_asked(session, last)) == 3


def test_new_reminder_offsets_just_after_a_reminder_went_send_no_second_one(
    make_app: Callable[..., Flask], session: Session
) -> None:
    settings = settings_of(make_app(REMINDER_OFFSETS="24h"))
    client, _ = factories.client_with_phone(session)
    visit = factories.appointment(session, client, datetime(2027, 3, 4, 16, 0, tzinfo=UTC))
    session.commit()
    replan(session, settings, client, visit.starts_at - 25 * H)
    went = goes(session, texts(session, visit, "reminder")[0])
    values = {"reminder_offsets": "23h"}
    practice_settings.save(
        session, settings, None, values, went + 30 * timedelta(minutes=1), via="test"
    )
    session.commit()
    reminders = [(m.status, m.send_at) for m in texts(session, visit, "reminder")]
    assert reminders == [("sent", went), ("skipped", visit.starts_at - 23 * H)]


def test_a_moved_session_is_reminded_of_its_new_time(
    make_app: Callable[..., Flask], session: Session
) -> None:
    settings = settings_of(make_app(REMINDER_OFFSETS="24h"))
    client, _ = factories.client_with_phone(session)
    visit = factories.appointment(session, client, datetime(2027, 3, 4, 16, 0, tzinfo=UTC))
    session.commit()
    replan(session, settings, client, visit.starts_at - 25 * H)
    went = goes(session, texts(session, visit, "reminder")[0])
    visit.starts_at, visit.ends_at = visit.starts_at + 2 * H, visit.ends_at + 2 * H
    session.commit()
    replan(session, settings, client, went + 30 * timedelta(minutes=1))
    reminders = [(m.status, m.send_at) for m in texts(session, visit, "reminder")]
    assert reminders == [("sent", went), ("planned", visit.starts_at - 24 * H)]
