"""The relief signals against the database: the right clients, once, and what they stop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jobs.clock import raise_signals
from service import consent, planner, signals
from service.alerts import raise_alert
from service.config import ConfigError, Settings, settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.sending import PAUSED
from service.domain.vocabulary import Channel
from service.models import (
    Alert,
    AppointmentSeries,
    Client,
    Contact,
    ImportedPainReport,
    InboundMessage,
    OutboundMessage,
)
from service.sms.gateway import SimulatorGateway
from tests import factories

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def weekly_client(
    session: Session,
    name: str,
    phone: str,
    *,
    relief_days: int,
    weeks: int = 8,
    last: timedelta = 2 * DAY,
    gap: int = 7,
) -> Client:
    """A client seen every ``gap`` days up to ``last`` ago, back near 7/10 after
    ``relief_days``: imported scores on every day between sessions."""
    client, _ = factories.client_with_phone(session, name, phone)
    # Midday UTC is early morning in New York: whole days later stay on the same local date.
    start = (NOW - last - timedelta(days=gap * (weeks - 1))).replace(hour=12, minute=0, second=0)
    for week in range(weeks):
        at = start + timedelta(days=gap * week)
        row = factories.appointment(session, client, at, status="completed")
        for day in range(1, gap):
            pain = 2 if day < relief_days else 7
            reported = at + timedelta(days=day)
            if reported < NOW:
                session.add(
                    ImportedPainReport(
                        client_id=client.id, appointment_id=row.id, reported_at=reported, pain=pain
                    )
                )
    session.flush()
    return client


def run(session: Session, settings: Settings, now: datetime = NOW) -> signals.SignalCounts:
    counts = signals.run_signals(session, settings, now)
    session.commit()
    return counts


def items(session: Session, kind: str) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)))


# --- gap longer than relief ----------------------------------------------------------------


def test_gap_longer_than_relief_raises_one_item_for_the_right_client(
    app: Flask, session: Session
) -> None:
    short = weekly_client(session, "Ann Short", "+16175550101", relief_days=2)
    weekly_client(session, "Bob Long", "+16175550102", relief_days=6)
    session.commit()
    settings = settings_of(app)
    first = run(session, settings)
    run(session, settings, NOW + HOUR)  # another tick, another process: no second item
    [item] = items(session, "relief_gap")
    assert first.raised["relief_gap"] == 1
    assert item.client_id == short.id
    assert item.detail == "Relief lasts about 2 days; sessions are 7 days apart"
    assert item.signal_key is not None


def test_a_handled_gap_item_stays_handled_within_its_period(app: Flask, session: Session) -> None:
    weekly_client(session, "Ann Short", "+16175550101", relief_days=2)
    session.commit()
    settings = settings_of(app)
    run(session, settings)
    [item] = items(session, "relief_gap")
    item.handled_at = NOW
    session.commit()
    run(session, settings, NOW + HOUR)
    assert len(items(session, "relief_gap")) == 1
    run(session, settings, NOW + signals.GAP_PERIOD)  # a period later, still true: again
    assert len(items(session, "relief_gap")) == 2


def test_no_gap_item_without_enough_data(app: Flask, session: Session) -> None:
    weekly_client(session, "Ann New", "+16175550101", relief_days=2, weeks=2)
    session.commit()
    run(session, settings_of(app))
    assert items(session, "relief_gap") == []


# --- lapsing -------------------------------------------------------------------------------


@pytest.fixture
def lapsing_setup(session: Session) -> dict[str, Client]:
    """Four weekly clients last seen nine days ago: one lapsing, three not."""
    clients = {
        "lapsing": weekly_client(session, "Lee Lapse", "+16175550111", relief_days=4, last=9 * DAY),
        "booked": weekly_client(session, "Bo Booked", "+16175550112", relief_days=4, last=9 * DAY),
        "series": weekly_client(session, "Sue Series", "+16175550113", relief_days=4, last=9 * DAY),
        "recent": weekly_client(session, "Rae Recent", "+16175550114", relief_days=4, last=DAY),
    }
    factories.appointment(session, clients["booked"], NOW + DAY)
    session.add(
        AppointmentSeries(
            client_id=clients["series"].id,
            rrule="FREQ=WEEKLY",
            starts_local=datetime(2026, 1, 5, 9, 0),
            timezone="America/New_York",
        )
    )
    session.commit()
    return clients


def test_lapsing_raises_one_item_for_the_client_with_nothing_booked(
    app: Flask, session: Session, lapsing_setup: dict[str, Client]
) -> None:
    settings = replace(settings_of(app), rebooking_texts=False)  # the default
    run(session, settings)
    run(session, settings, NOW + HOUR)
    [item] = items(session, "lapsing")
    assert item.client_id == lapsing_setup["lapsing"].id
    assert "usually every 7 days" in item.detail
    # The practice did not turn rebooking texts on: none is queued.
    assert (
        session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "nudge")).all() == []
    )


def with_rebooking(app: Flask) -> Settings:
    return replace(settings_of(app), rebooking_texts=True)


def nudges(session: Session) -> list[OutboundMessage]:
    return list(session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "nudge")))


def test_a_rebooking_text_is_queued_once_through_the_outbox(
    app: Flask, session: Session, lapsing_setup: dict[str, Client]
) -> None:
    settings = with_rebooking(app)
    first = run(session, settings)
    run(session, settings, NOW + HOUR)
    [text] = nudges(session)
    client = lapsing_setup["lapsing"]
    assert first.rebooking_texts == 1
    assert (text.client_id, text.to_phone, text.status) == (client.id, "+16175550111", "planned")
    assert text.idempotency_key.startswith("rebook:")
    assert "Reply R" in text.body and "(617) 555-0100" in text.body
    assert text.send_at >= NOW


def test_the_rebooking_text_waits_for_quiet_hours_to_end(
    app: Flask, session: Session, lapsing_setup: dict[str, Client]
) -> None:
    # 03:00 in New York is inside 21:00-08:00: the text is planned for 08:00.
    night = NOW.replace(hour=8, minute=0, second=0)
    run(session, with_rebooking(app), night)
    [text] = nudges(session)
    local = text.send_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (8, 0)


def test_no_rebooking_text_to_an_opted_out_number(
    app: Flask, session: Session, lapsing_setup: dict[str, Client]
) -> None:
    consent.opt_out(session, "+16175550111", NOW - DAY)
    session.commit()
    run(session, with_rebooking(app))
    assert nudges(session) == []
    assert len(items(session, "lapsing")) == 1  # the therapist still hears about it


def test_at_most_one_rebooking_text_per_two_weeks(
    app: Flask, session: Session, lapsing_setup: dict[str, Client]
) -> None:
    client = lapsing_setup["lapsing"]
    contact = client.contacts[0]
    earlier = factories.sent(session, client, contact, kind="nudge", sent_at=NOW - 10 * DAY)
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == earlier.id)
        .values(idempotency_key=f"rebook:{client.id}:0:lapsing", created_at=NOW - 10 * DAY)
    )
    session.commit()
    settings = with_rebooking(app)
    run(session, settings)
    assert len(nudges(session)) == 1
    run(session, settings, NOW + 5 * DAY)  # fifteen days after the first: one more may go
    assert len(nudges(session)) == 2


# --- not answering -------------------------------------------------------------------------


def checkins_sent(session: Session, client: Client, *ago: timedelta) -> None:
    for delta in ago:
        factories.sent(session, client, client.contacts[0], kind="checkin", sent_at=NOW - delta)


def test_two_unanswered_check_ins_raise_an_item_and_pause_check_ins_only(
    app: Flask, session: Session
) -> None:
    quiet, _ = factories.client_with_phone(session, "Al Quiet", "+16175550121")
    chatty, _ = factories.client_with_phone(session, "Cy Chatty", "+16175550122")
    for client in (quiet, chatty):
        factories.appointment(session, client, NOW - 4 * DAY, status="completed")
        checkins_sent(session, client, 72 * HOUR, 30 * HOUR)
    session.add(
        InboundMessage(
            provider_sid="SMok",
            from_phone="+16175550122",
            client_id=chatty.id,
            body="3",
            pain_score=3,
            intent="pain",
            received_at=NOW - 29 * HOUR,
        )
    )
    upcoming = factories.appointment(session, quiet, NOW + 2 * DAY)
    session.commit()
    settings = settings_of(app)
    planner.replan_client(session, settings, quiet.id, NOW)
    session.commit()
    counts = run(session, settings)
    run(session, settings, NOW + HOUR)
    [item] = items(session, "not_answering")
    assert item.client_id == quiet.id
    days = [(NOW - h * HOUR).astimezone(ZoneInfo("America/New_York")) for h in (72, 30)]
    named = ", ".join(f"{d:%a %b} {d.day}" for d in days)
    assert item.detail.startswith(f"2 check-ins in a row without a reply ({named}); ")
    assert counts.paused >= 1
    planned = session.scalars(
        select(OutboundMessage).where(OutboundMessage.appointment_id == upcoming.id)
    ).all()
    assert {(m.kind, m.status, m.error_message) for m in planned} == {
        ("checkin", "skipped", PAUSED),
        ("reminder", "planned", None),  # a booked session is still reminded
    }


def test_a_replan_does_not_undo_the_pause(app: Flask, session: Session) -> None:
    client, _ = factories.client_with_phone(session, "Al Quiet", "+16175550121")
    factories.appointment(session, client, NOW - 4 * DAY, status="completed")
    checkins_sent(session, client, 72 * HOUR, 30 * HOUR)
    upcoming = factories.appointment(session, client, NOW + 2 * DAY)
    session.commit()
    settings = settings_of(app)
    planner.replan_client(session, settings, client.id, NOW)
    run(session, settings)
    planner.replan_client(session, settings, client.id, NOW + HOUR)
    session.commit()
    assert {(m.status, m.error_message) for m in checkins_of(session, upcoming.id)} == {
        ("skipped", PAUSED)
    }


def checkins_of(session: Session, appointment_id: int) -> list[OutboundMessage]:
    return list(
        session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.appointment_id == appointment_id,
                OutboundMessage.kind == "checkin",
            )
        )
    )


def test_handling_the_item_gives_check_ins_back_and_needs_a_new_streak(
    app: Flask, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Al Quiet", "+16175550121")
    factories.appointment(session, client, NOW - 4 * DAY, status="completed")
    checkins_sent(session, client, 72 * HOUR, 30 * HOUR)
    upcoming = factories.appointment(session, client, NOW + 2 * DAY)
    session.commit()
    settings = settings_of(app)
    planner.replan_client(session, settings, client.id, NOW)
    run(session, settings)
    [item] = items(session, "not_answering")
    item.handled_at = NOW + HOUR
    session.commit()
    counts = run(session, settings, NOW + 2 * HOUR)
    assert counts.resumed == 2  # the 24-hour and the 72-hour check-in
    assert len(items(session, "not_answering")) == 1  # the old streak does not count again
    session.commit()  # resuming re-planned them: no other pass is needed
    session.expire_all()
    assert {(m.status, m.error_message) for m in checkins_of(session, upcoming.id)} == {
        ("planned", None)
    }


def test_check_ins_that_never_arrived_are_not_unanswered(app: Flask, session: Session) -> None:
    client, contact = factories.client_with_phone(session, "Al Unlucky", "+16175550121")
    for delta in (72 * HOUR, 30 * HOUR):
        row = factories.sent(session, client, contact, kind="checkin", sent_at=NOW - delta)
        row.status = "undelivered"
    session.commit()
    run(session, settings_of(app))
    assert items(session, "not_answering") == []


def test_one_unanswered_check_in_is_not_a_streak(app: Flask, session: Session) -> None:
    client, _ = factories.client_with_phone(session, "Al Once", "+16175550121")
    checkins_sent(session, client, 30 * HOUR)
    session.commit()
    run(session, settings_of(app))
    assert items(session, "not_answering") == []


def test_calls_that_follow_an_unanswered_check_in_are_not_more_check_ins(
    app: Flask, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, "Al Once", "+16175550121")
    factories.appointment(session, client, NOW - 4 * DAY, status="completed")
    text = factories.sent(session, client, contact, kind="checkin", sent_at=NOW - 30 * HOUR)
    # Its fallback call 4 hours on (picked up, no key), and that call's redial 2 hours on.
    for key, hours in ((f"call-after-text:{text.id}", 26), (f"call-again:{text.id}:1", 24)):
        call = factories.sent(session, client, contact, kind="checkin", sent_at=NOW - hours * HOUR)
        call.idempotency_key, call.channel = key, "voice"
    session.commit()
    run(session, settings_of(app))
    assert items(session, "not_answering") == []


def test_the_clock_job_runs_the_signals(make_app: Callable[..., Flask], session: Session) -> None:
    app = make_app(REBOOKING_TEXTS="on")
    assert settings_of(app).rebooking_texts is True
    weekly_client(session, "Lee Lapse", "+16175550111", relief_days=2, last=9 * DAY)
    session.commit()
    counts = raise_signals(app)
    assert counts.raised["lapsing"] == 1
    assert counts.raised["relief_gap"] == 1
    assert counts.rebooking_texts == 1
    session.expire_all()
    assert {a.kind for a in session.scalars(select(Alert))} == {"lapsing", "relief_gap"}


def test_contacts_without_reminders_get_no_rebooking_text(
    app: Flask, session: Session, lapsing_setup: dict[str, Client]
) -> None:
    contact = session.scalars(select(Contact).where(Contact.phone == "+16175550111")).one()
    contact.reminders = False
    session.commit()
    run(session, with_rebooking(app))
    assert nudges(session) == []


@pytest.mark.parametrize(
    ("raw", "expected"), [("", False), ("off", False), ("ON", True), ("1", True)]
)
def test_rebooking_texts_are_a_practice_setting_off_by_default(
    make_app: Callable[..., Flask], raw: str, expected: bool
) -> None:
    assert settings_of(make_app(REBOOKING_TEXTS=raw)).rebooking_texts is expected


def test_a_bad_rebooking_setting_stops_start_up_naming_it(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigError, match="REBOOKING_TEXTS: 'maybe' is not on or off"):
        make_app(REBOOKING_TEXTS="maybe")


class CountingGateway(SimulatorGateway):
    """The simulator, counting what it was asked to send."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        self.sent.append((to, body))
        return super().send(to, body, message_id=message_id)


def test_the_rebooking_text_is_sent_exactly_once_by_the_dispatcher(
    app: Flask, session: Session, lapsing_setup: dict[str, Client]
) -> None:
    settings = with_rebooking(app)
    run(session, settings)
    [text] = nudges(session)
    gateway = CountingGateway()
    local = text.send_at.astimezone(ZoneInfo("America/New_York"))
    noon = local.replace(hour=12, minute=0, second=0)
    awake = noon if noon >= local else noon + DAY  # the next noon: never quiet hours
    for _ in range(2):  # two dispatch ticks, and the signals again in between
        Dispatcher(get_db(app), settings, {Channel.SMS: gateway}, now=lambda: awake).run()
        run(session, settings, awake)
    assert [to for to, _ in gateway.sent] == ["+16175550111"]
    session.expire_all()
    assert [(m.status, m.kind) for m in nudges(session)] == [("delivered", "nudge")]


def test_the_dispatcher_holds_back_a_check_in_planned_after_the_pause(
    app: Flask, session: Session
) -> None:
    # A check-in planned between the clock's pause and its dispatch (an API edit re-plans
    # at once) meets the dispatcher's own last check, which knows about the open item.
    client, contact = factories.client_with_phone(session)
    visit = factories.appointment(session, client, NOW - timedelta(hours=3))
    checkin = factories.message(
        session, client, contact, send_at=NOW, kind="checkin", appointment_id=visit.id
    )
    typed = factories.message(session, client, contact, send_at=NOW, body="See you Friday")
    raise_alert(session, "not_answering", NOW, client_id=client.id, detail="two check-ins")
    session.commit()
    gateway = CountingGateway()
    Dispatcher(get_db(app), settings_of(app), {Channel.SMS: gateway}, now=lambda: NOW).run()
    session.expire_all()
    held = session.get(OutboundMessage, checkin.id)
    assert held is not None and (held.status, held.error_message) == ("skipped", PAUSED)
    assert gateway.sent == [(contact.phone, typed.body)]  # what staff type still goes
