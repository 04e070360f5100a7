"""Forms for clients, contacts, series and appointments: inline errors, and the plan follows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import (
    Appointment,
    AppointmentSeries,
    AuditEntry,
    Client,
    Contact,
    OutboundMessage,
)
from tests import factories
from tests.dashboard.conftest import Staff, Web, now, text_of

NY = ZoneInfo("America/New_York")


def test_an_invalid_phone_is_shown_inline_and_what_was_typed_stays(as_ana: Web) -> None:
    response = as_ana.post(
        "/clients/new",
        {"name": "Sam Lee", "phone": "555-12", "timezone": "Mars/Base", "notes": "left knee"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-phone-error"' in html and "Not a phone number we can text: too short" in html
    assert 'aria-invalid="true"' in html
    assert 'value="Sam Lee"' in html and 'value="555-12"' in html and 'value="Mars/Base"' in html
    assert ">left knee</textarea>" in html
    assert "Not a known time zone" in html


def test_creating_a_client_makes_its_own_contact(as_ana: Web, ana: Staff, session: Session) -> None:
    response = as_ana.post(
        "/clients/new",
        {"name": "Sam Lee", "phone": "(617) 555-0123", "timezone": "America/Chicago"},
    )
    assert response.status_code == 302
    client = session.scalar(select(Client))
    assert client is not None
    assert (client.name, client.timezone, client.therapist_id) == (
        "Sam Lee",
        "America/Chicago",
        ana.id,
    )
    assert [(c.relation, c.phone, c.reminders, c.checkins) for c in client.contacts] == [
        ("self", "+16175550123", True, True)
    ]
    assert response.headers["Location"] == f"/clients/{client.id}"
    changes = select(AuditEntry.action).where(
        AuditEntry.entity == "client", AuditEntry.action != "list"
    )
    assert session.scalars(changes).all() == ["create"]


def test_a_therapist_cannot_give_a_client_to_someone_else(
    as_ana: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    as_ana.post(
        "/clients/new", {"name": "Sam Lee", "timezone": "America/New_York", "therapist_id": ben.id}
    )
    assert session.scalar(select(Client.therapist_id)) == ana.id


def test_a_contact_with_a_taken_number_is_refused_inline(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    response = as_ana.post(
        f"/clients/{client.id}/contacts/new",
        {"name": "Mia Lee", "relation": "parent", "phone": "617-555-0123", "reminders": "on"},
    )
    assert response.status_code == 422
    assert "already has a contact with that number" in text_of(response)
    assert 'value="Mia Lee"' in response.get_data(as_text=True)


@pytest.mark.parametrize(("owner", "named"), [("ana", True), ("ben", False)])
def test_adding_a_shared_number_asks_to_confirm_and_names_only_ones_own_client(
    as_ana: Web, ana: Staff, ben: Staff, session: Session, owner: str, named: bool
) -> None:
    therapist = {"ana": ana, "ben": ben}[owner]
    factories.client_with_phone(session, "Maria Diaz", "+16175550124", therapist_id=therapist.id)
    sam, _ = factories.client_with_phone(session, "Sam Diaz", therapist_id=ana.id)
    session.commit()
    rosa = {"name": "Rosa Diaz", "relation": "parent", "phone": "617-555-0124", "reminders": "on"}
    asked = as_ana.post(f"/clients/{sam.id}/contacts/new", rosa)
    assert asked.status_code == 200
    page = text_of(asked)
    assert "Shared number. This number is shared: it already gets texts about" in page
    assert ("Maria Diaz" in page) is named
    assert named or "another client of the practice" in page
    assert 'name="confirm_shared"' in asked.get_data(as_text=True)
    assert (
        session.scalar(
            select(Contact).where(Contact.client_id == sam.id, Contact.name == "Rosa Diaz")
        )
        is None
    )
    added = as_ana.post(f"/clients/{sam.id}/contacts/new", {**rosa, "confirm_shared": "on"})
    assert added.status_code == 302
    session.expire_all()
    assert session.scalar(
        select(Contact).where(Contact.client_id == sam.id, Contact.name == "Rosa Diaz")
    )


def test_editing_a_contact_to_a_shared_number_asks_to_confirm(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    factories.client_with_phone(session, "Maria Diaz", "+16175550124", therapist_id=ana.id)
    _, own = factories.client_with_phone(session, "Sam Diaz", therapist_id=ana.id)
    session.commit()
    change = {"name": "Sam Diaz", "relation": "self", "phone": "617-555-0124", "reminders": "on"}
    asked = as_ana.post(f"/contacts/{own.id}/edit", change)
    assert asked.status_code == 200 and "already gets texts about Maria Diaz" in text_of(asked)
    saved = as_ana.post(f"/contacts/{own.id}/edit", {**change, "confirm_shared": "on"})
    assert saved.status_code == 302
    session.expire_all()
    assert session.get(Contact, own.id).phone == "+16175550124"  # type: ignore[union-attr]


def test_a_new_client_on_a_shared_number_asks_to_confirm(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    factories.client_with_phone(session, "Maria Diaz", "+16175550124", therapist_id=ana.id)
    session.commit()
    new = {"name": "Sam Diaz", "phone": "617-555-0124", "timezone": "America/New_York"}
    asked = as_ana.post("/clients/new", {**new, "language": "en"})
    assert asked.status_code == 200
    assert "already gets texts about Maria Diaz" in text_of(asked)
    assert session.scalar(select(Client).where(Client.name == "Sam Diaz")) is None
    added = as_ana.post("/clients/new", {**new, "language": "en", "confirm_shared": "on"})
    assert added.status_code == 302
    assert session.scalar(select(Client).where(Client.name == "Sam Diaz")) is not None


def test_adding_a_caregiver_plans_their_reminders(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    factories.appointment(session, client, now() + timedelta(days=5))
    session.commit()
    response = as_ana.post(
        f"/clients/{client.id}/contacts/new",
        {"name": "Mia Lee", "relation": "parent", "phone": "617-555-0124", "reminders": "on"},
    )
    assert response.status_code == 302
    kinds = session.execute(
        select(OutboundMessage.to_phone, OutboundMessage.kind).where(
            OutboundMessage.to_phone == "+16175550124"
        )
    ).all()
    assert kinds == [("+16175550124", "reminder")]  # reminders ticked, check-ins not


def test_creating_a_series_plans_its_appointments(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    first = (now() + timedelta(days=1)).astimezone(NY).replace(hour=10, minute=0)
    response = as_ana.post(
        f"/clients/{client.id}/series/new",
        {"starts": first.strftime("%Y-%m-%dT%H:%M"), "duration": "45", "repeat": "weekly"},
    )
    assert response.status_code == 302, text_of(response)
    series = session.scalar(select(AppointmentSeries))
    assert series is not None
    assert (series.rrule, series.duration_minutes) == ("FREQ=WEEKLY", 45)
    starts = session.scalars(select(Appointment.starts_at).order_by(Appointment.starts_at)).all()
    assert len(starts) == 2  # the 14-day horizon holds two weekly sessions
    assert starts[0].astimezone(NY).strftime("%H:%M") == "10:00"
    assert session.scalar(select(OutboundMessage.kind).where(OutboundMessage.kind == "reminder"))
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert f"Every {first:%a} at 10:00 AM, 45 min" in page


def test_a_series_with_a_count_and_an_invalid_custom_rule(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    start = (now() + timedelta(days=1)).astimezone(NY).strftime("%Y-%m-%dT10:00")
    bad = as_ana.post(
        f"/clients/{client.id}/series/new",
        {"starts": start, "duration": "60", "repeat": "custom", "rrule": "FREQ=HOURLY"},
    )
    assert bad.status_code == 422
    assert 'id="f-rrule-error"' in bad.get_data(as_text=True)
    assert 'value="FREQ=HOURLY"' in bad.get_data(as_text=True)
    good = as_ana.post(
        f"/clients/{client.id}/series/new",
        {"starts": start, "duration": "60", "every": "2", "ends": "count", "count": "3"},
    )
    assert good.status_code == 302
    assert session.scalar(select(AppointmentSeries.rrule)) == "FREQ=WEEKLY;INTERVAL=2;COUNT=3"


def test_cancelling_an_appointment_cancels_its_planned_texts(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    start = (now() + timedelta(days=4)).astimezone(NY).strftime("%Y-%m-%dT11:00")
    assert (
        as_ana.post(
            f"/clients/{client.id}/appointments/new", {"starts": start, "duration": "60"}
        ).status_code
        == 302
    )
    appointment = session.scalar(select(Appointment))
    assert appointment is not None
    assert session.scalar(select(OutboundMessage.status)) == "planned"
    response = as_ana.post(f"/appointments/{appointment.id}/status", {"status": "cancelled"})
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(Appointment.status)) == "cancelled"
    assert set(session.scalars(select(OutboundMessage.status))) == {"cancelled"}
    assert (
        as_ana.post(f"/appointments/{appointment.id}/status", {"status": "gone"}).status_code == 400
    )


def test_moving_an_appointment_moves_its_reminder(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    appointment = factories.appointment(session, client, now() + timedelta(days=4))
    session.commit()
    new_start = (now() + timedelta(days=6)).astimezone(NY).replace(hour=14, minute=30)
    response = as_ana.post(
        f"/appointments/{appointment.id}/move",
        {"starts": new_start.strftime("%Y-%m-%dT%H:%M"), "duration": "90"},
    )
    assert response.status_code == 302
    session.expire_all()
    moved = session.get(Appointment, appointment.id)
    assert moved is not None
    assert moved.starts_at.astimezone(NY).strftime("%H:%M") == "14:30"
    assert moved.ends_at - moved.starts_at == timedelta(minutes=90)
    assert moved.detached
    reminder = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "reminder"))
    assert reminder is not None and reminder.send_at == moved.starts_at - timedelta(hours=24)


def test_a_move_with_a_bad_time_keeps_the_input(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    appointment = factories.appointment(session, client, now() + timedelta(days=4))
    session.commit()
    response = as_ana.post(
        f"/appointments/{appointment.id}/move", {"starts": "next tuesday", "duration": "4"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="next tuesday"' in html and "A date and time like" in html
    assert "A whole number from 5 to 720" in html


def test_editing_a_client_language_replans(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    start = datetime(2030, 1, 8, 15, 0, tzinfo=ZoneInfo("UTC"))
    factories.appointment(session, client, start)
    session.commit()
    as_ana.post(
        f"/appointments/{session.scalar(select(Appointment.id))}/status", {"status": "confirmed"}
    )
    assert session.scalar(select(OutboundMessage.body)).startswith("Hi Sam")
    response = as_ana.post(
        f"/clients/{client.id}/edit",
        {"name": "Sam Lee", "phone": "+16175550123", "timezone": "Europe/Madrid", "language": "es"},
    )
    assert response.status_code == 302
    session.expire_all()
    changed = session.get(Client, client.id)
    assert changed is not None and (changed.timezone, changed.language) == ("Europe/Madrid", "es")
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.detail["fields"] == ["language", "timezone"]
    assert session.scalar(select(OutboundMessage.body)).startswith("Hola Sam")


def test_unicode_digits_and_a_zone_folder_are_field_errors_not_crashes(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    appointment = factories.appointment(session, client, now() + timedelta(days=4))
    session.commit()
    start = (now() + timedelta(days=5)).astimezone(NY).strftime("%Y-%m-%dT10:00")
    moved = as_ana.post(f"/appointments/{appointment.id}/move", {"starts": start, "duration": "6²"})
    assert moved.status_code == 422
    assert "A whole number from 5 to 720" in moved.get_data(as_text=True)
    made = as_ana.post("/clients/new", {"name": "Sam Lee", "phone": "", "timezone": "America"})
    assert made.status_code == 422
    assert "Not a known time zone" in made.get_data(as_text=True)


def test_a_series_form_names_the_zone_its_times_are_read_in(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    first = (now() + timedelta(days=1)).astimezone(NY).replace(hour=10, minute=0)
    form = {"starts": first.strftime("%Y-%m-%dT%H:%M"), "duration": "45", "repeat": "weekly"}
    assert as_ana.post(f"/clients/{client.id}/series/new", form).status_code == 302
    client.timezone = "America/Los_Angeles"  # the client moved; the series keeps its zone
    session.commit()
    series = session.scalar(select(AppointmentSeries))
    assert series is not None
    page = text_of(as_ana.get(f"/series/{series.id}/edit"))
    assert "Times are in America/New_York" in page
    assert "the client is now in America/Los_Angeles" in page
    assert f'value="{first.strftime("%Y-%m-%dT%H:%M")}"' in as_ana.get(
        f"/series/{series.id}/edit"
    ).get_data(as_text=True)


def test_a_status_no_button_offers_is_refused_with_the_reason(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    future = factories.appointment(session, client, now() + timedelta(days=3))
    session.commit()
    page = as_ana.get(f"/clients/{client.id}").get_data(as_text=True)
    assert 'value="confirmed"' in page and 'value="completed"' not in page  # buttons: the table
    response = as_ana.post(f"/appointments/{future.id}/status", {"status": "completed"})
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(Appointment.status)) == "scheduled"
    shown = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Not changed: a session that has not started cannot be done" in shown


def test_check_in_days_are_set_on_the_client_form_and_errors_keep_the_input(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    base = {"name": client.name, "phone": "+16175550123", "timezone": client.timezone}
    bad = as_ana.post(f"/clients/{client.id}/edit", {**base, "checkin_days": "0, 2"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'value="0, 2"' in html and "Days run from 1 to 30" in html
    good = as_ana.post(f"/clients/{client.id}/edit", {**base, "checkin_days": "5, 1, 3"})
    assert good.status_code == 302
    session.expire_all()
    assert session.get(Client, client.id).checkin_days == "1,3,5"  # type: ignore[union-attr]
    assert 'value="1, 3, 5"' in as_ana.get(f"/clients/{client.id}/edit").get_data(as_text=True)
    cleared = as_ana.post(f"/clients/{client.id}/edit", {**base, "checkin_days": ""})
    assert cleared.status_code == 302
    session.expire_all()
    assert session.get(Client, client.id).checkin_days is None  # type: ignore[union-attr]
    auto = as_ana.post(f"/clients/{client.id}/edit", {**base, "checkin_days": " Auto "})
    assert auto.status_code == 302
    session.expire_all()
    assert session.get(Client, client.id).checkin_days == "auto"  # type: ignore[union-attr]
    assert 'value="auto"' in as_ana.get(f"/clients/{client.id}/edit").get_data(as_text=True)
    wrong = as_ana.post(f"/clients/{client.id}/edit", {**base, "checkin_days": "weekly"})
    assert wrong.status_code == 422
    assert "like 1,3,5, or auto." in wrong.get_data(as_text=True)


def test_a_future_appointment_cannot_be_booked_as_already_done(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    start = (now() + timedelta(days=2)).astimezone(NY).strftime("%Y-%m-%dT10:00")
    form = {"starts": start, "duration": "60", "status": "completed"}
    response = as_ana.post(f"/clients/{client.id}/appointments/new", form)
    assert response.status_code == 422
    assert "A session that has not started cannot be done" in text_of(response)
    assert session.scalar(select(Appointment)) is None


def test_edit_forms_show_numbers_in_the_national_format(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, own = factories.client_with_phone(
        session, "Sam Lee", "+16175550123", therapist_id=ana.id
    )
    abroad = Contact(name="Tía Ana", relation="other", phone="+34612345678")
    client.contacts.append(abroad)
    session.commit()
    edit_client = as_ana.get(f"/clients/{client.id}/edit").get_data(as_text=True)
    assert 'value="(617) 555-0123"' in edit_client
    assert 'value="(617) 555-0123"' in as_ana.get(f"/contacts/{own.id}/edit").get_data(as_text=True)
    assert 'value="+34 612 34 56 78"' in as_ana.get(f"/contacts/{abroad.id}/edit").get_data(
        as_text=True
    )
    # Saved again as shown, the number is unchanged.
    base = {"name": "Sam Lee", "phone": "(617) 555-0123", "timezone": "America/New_York"}
    assert as_ana.post(f"/clients/{client.id}/edit", {**base, "language": "en"}).status_code == 302
    session.refresh(own)
    assert own.phone == "+16175550123"
