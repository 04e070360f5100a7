"""The schedule: today and this week, each appointment's confirmation state, per therapist."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.dashboard.schedule import week_of
from service.models import Appointment, AppointmentSeries
from tests import factories
from tests.dashboard.conftest import Staff, Web, counting, now, text_of

NY = ZoneInfo("America/New_York")


def _today_at(hour: int) -> datetime:
    return datetime.combine(now().astimezone(NY).date(), time(hour), NY)


def test_it_shows_todays_appointment_with_its_state(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    appointment = factories.appointment(session, client, _today_at(12), status="confirmed")
    factories.sent(
        session,
        client,
        contact,
        kind="reminder",
        sent_at=_today_at(12) - timedelta(days=1),
        appointment_id=appointment.id,
    )
    session.commit()
    page = text_of(as_ana.get("/schedule"))
    today = page.split("Today, ", 1)[1]
    assert today.split("Sam Lee", 1)[0].strip().startswith(now().astimezone(NY).strftime("%A"))
    assert "12:00 PM \u20131:00 PM Sam Lee Confirmed reminder delivered" in today


def test_an_unconfirmed_one_can_be_confirmed_from_the_schedule(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    appointment = factories.appointment(session, client, now() + timedelta(days=30))
    session.commit()
    week = (now() + timedelta(days=30)).astimezone(NY).date().isoformat()
    page = text_of(as_ana.get("/schedule", week=week))
    assert "Not confirmed" in page
    response = as_ana.post(
        f"/appointments/{appointment.id}/status",
        {"status": "confirmed", "next": f"/schedule?week={week}"},
    )
    assert response.headers["Location"] == f"/schedule?week={week}"
    assert "Confirmed" in text_of(as_ana.get("/schedule", week=week))


def test_an_admin_sees_every_therapist_grouped(
    as_boss: Web, as_ana: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    mine, _ = factories.client_with_phone(session, "Anna Own", "+16175550101", therapist_id=ana.id)
    theirs, _ = factories.client_with_phone(
        session, "Bea Other", "+16175550102", therapist_id=ben.id
    )
    factories.appointment(session, mine, _today_at(9))
    factories.appointment(session, theirs, _today_at(10))
    session.commit()
    everyone = text_of(as_boss.get("/schedule"))
    assert everyone.index("Ana Ruiz") < everyone.index("Anna Own")
    assert everyone.index("Ben Okafor") < everyone.index("Bea Other")
    assert everyone.index("Anna Own") < everyone.index("Ben Okafor")
    own = text_of(as_ana.get("/schedule"))
    assert "Anna Own" in own and "Bea Other" not in own


def test_a_series_beyond_the_horizon_is_filled_in(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    session.commit()
    first = (now() + timedelta(days=1)).astimezone(NY).strftime("%Y-%m-%dT08:30")
    as_ana.post(
        f"/clients/{client.id}/series/new",
        {"starts": first, "duration": "60", "repeat": "weekly"},
    )
    far = (now() + timedelta(days=40)).astimezone(NY).date().isoformat()
    assert "8:30 AM \u20139:30 AM Sam Lee" in text_of(as_ana.get("/schedule", week=far))


def test_a_week_runs_monday_to_sunday() -> None:
    days = week_of(datetime(2027, 3, 4).date())  # a Thursday
    assert [d.isoformat() for d in (days[0], days[-1])] == ["2027-03-01", "2027-03-07"]


def test_ending_a_series_removes_the_weeks_listed_beyond_the_horizon(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    session.commit()
    first = (now() + timedelta(days=1)).astimezone(NY).strftime("%Y-%m-%dT08:30")
    as_ana.post(
        f"/clients/{client.id}/series/new",
        {"starts": first, "duration": "60", "repeat": "weekly"},
    )
    far = (now() + timedelta(days=40)).astimezone(NY).date().isoformat()
    assert "Sam Lee" in text_of(as_ana.get("/schedule", week=far))
    series_id = session.scalar(select(AppointmentSeries.id))
    assert as_ana.post(f"/series/{series_id}/end").status_code == 302
    assert "Sam Lee" not in text_of(as_ana.get("/schedule", week=far))


def test_editing_a_series_keeps_and_updates_the_weeks_listed_beyond_the_horizon(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    session.commit()
    first = (now() + timedelta(days=1)).astimezone(NY).strftime("%Y-%m-%dT08:30")
    form = {"starts": first, "duration": "60", "repeat": "weekly"}
    as_ana.post(f"/clients/{client.id}/series/new", form)
    as_ana.get("/schedule", week=(now() + timedelta(days=40)).astimezone(NY).date().isoformat())
    beyond = select(Appointment).where(Appointment.starts_at > now() + timedelta(days=30))
    far = session.scalars(beyond).all()
    assert far
    series_id = session.scalar(select(AppointmentSeries.id))
    assert as_ana.post(f"/series/{series_id}/edit", {**form, "duration": "90"}).status_code == 302
    session.expire_all()
    kept = session.scalars(beyond).all()
    assert [a.id for a in kept] == [a.id for a in far]
    assert {a.ends_at - a.starts_at for a in kept} == {timedelta(minutes=90)}


def test_this_weeks_schedule_costs_the_same_queries_for_few_or_many_series(
    app: Flask, as_ana: Web, ana: Staff, session: Session
) -> None:
    def add(count: int, offset: int) -> None:
        for i in range(count):
            client, _ = factories.client_with_phone(
                session, f"Client {offset + i}", f"+1617555{offset + i:04d}", therapist_id=ana.id
            )
            session.commit()
            first = (now() + timedelta(days=1)).astimezone(NY).strftime("%Y-%m-%dT09:00")
            form = {"starts": first, "duration": "60", "repeat": "weekly"}
            as_ana.post(f"/clients/{client.id}/series/new", form)

    week = (now() + timedelta(days=1)).astimezone(NY).date().isoformat()  # within the horizon
    add(1, 400)
    with counting(app) as few:
        as_ana.get("/schedule", week=week)
    add(6, 500)
    with counting(app) as many:
        page = text_of(as_ana.get("/schedule", week=week))
    assert len(many) == len(few)
    assert "Client 505" in page


def test_a_series_session_on_the_schedule_says_its_series_in_words(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    session.commit()
    first = now().astimezone(NY).date() + timedelta(days=1)
    form = {"starts": f"{first.isoformat()}T16:30", "duration": "45", "every": "2"}
    assert as_ana.post(f"/clients/{client.id}/series/new", form).status_code == 302
    page = text_of(as_ana.get("/schedule", week=first.isoformat()))
    assert f"Sam Lee Every other {first:%a} at 4:30 PM, 45 min" in page
