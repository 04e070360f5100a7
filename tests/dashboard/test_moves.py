"""Booking, moving and cancelling in the dashboard: a past time is a field error, an
overlap a warning to confirm, and the client told (or not) with the text previewed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.vocabulary import MessageKind
from service.models import Appointment, Client, OutboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, now, text_of

NY = ZoneInfo("America/New_York")


def local(at: datetime) -> str:
    return at.astimezone(NY).strftime("%Y-%m-%dT%H:%M")


def day_at(days: int, hour: int) -> datetime:
    return (
        (now() + timedelta(days=days))
        .astimezone(NY)
        .replace(hour=hour, minute=0, second=0, microsecond=0)
    )


def sams(session: Session, ana: Staff, *, days: int = 4, status: str = "scheduled") -> Appointment:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    appointment = factories.appointment(session, client, day_at(days, 10), status=status)
    session.commit()
    return appointment


def notices(session: Session) -> list[OutboundMessage]:
    session.expire_all()
    kinds = (MessageKind.MOVE_NOTICE, MessageKind.CANCEL_NOTICE)
    return list(session.scalars(select(OutboundMessage).where(OutboundMessage.kind.in_(kinds))))


def test_booking_in_the_past_is_a_field_error(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    yesterday = local(day_at(-1, 10))
    response = as_ana.post(
        f"/clients/{client.id}/appointments/new", {"starts": yesterday, "duration": "60"}
    )
    assert response.status_code == 422
    assert "That time is in the past: pick a time still to come" in text_of(response)
    assert 'id="f-starts-error"' in response.get_data(as_text=True)
    assert session.scalar(select(Appointment.id)) is None
    done = {"starts": yesterday, "duration": "60", "status": "completed"}
    assert as_ana.post(f"/clients/{client.id}/appointments/new", done).status_code == 302


def test_moving_into_the_past_is_a_field_error(as_ana: Web, ana: Staff, session: Session) -> None:
    appointment = sams(session, ana)
    response = as_ana.post(
        f"/appointments/{appointment.id}/move", {"starts": local(day_at(-1, 10)), "duration": "60"}
    )
    assert response.status_code == 422
    assert "That time is in the past: move it to a time still to come" in text_of(response)


def test_an_overlap_is_a_warning_with_book_anyway(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    appointment = sams(session, ana)
    path = f"/clients/{appointment.client_id}/appointments/new"
    form = {"starts": local(day_at(4, 10) + timedelta(minutes=30)), "duration": "60"}
    response = as_ana.post(path, form)
    assert response.status_code == 422
    page = text_of(response)
    assert "This time overlaps another session" in page and "this client" in page
    assert "Book anyway" in page
    assert len(list(session.scalars(select(Appointment)))) == 1
    assert as_ana.post(path, {**form, "confirm_overlap": "on"}).status_code == 302
    assert len(list(session.scalars(select(Appointment)))) == 2


def test_a_move_onto_the_therapists_other_client_warns_with_move_anyway(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    appointment = sams(session, ana)
    other = Client(name="Ola Nowak", timezone="America/New_York", therapist_id=ana.id)
    session.add(other)
    session.flush()
    factories.appointment(session, other, day_at(5, 10))
    session.commit()
    form = {"starts": local(day_at(5, 10)), "duration": "60", "notify": "on"}
    response = as_ana.post(f"/appointments/{appointment.id}/move", form)
    assert response.status_code == 422
    assert "Ola Nowak" in text_of(response) and "Move anyway" in text_of(response)
    assert notices(session) == []
    confirmed = as_ana.post(
        f"/appointments/{appointment.id}/move", {**form, "confirm_overlap": "on"}
    )
    assert confirmed.status_code == 302
    assert len(notices(session)) == 1


def test_the_move_form_offers_the_notice_ticked_with_its_text(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    appointment = sams(session, ana)
    page = as_ana.get(f"/appointments/{appointment.id}/move")
    html = page.get_data(as_text=True)
    assert 'name="notify" type="checkbox" value="on" checked' in html
    assert "Text Sam Lee about it" in text_of(page)
    was = appointment.starts_at.astimezone(NY).strftime("%-I:%M %p")
    assert "is now [the new time] (was " in text_of(page) and was in text_of(page)


def test_a_move_with_the_notice_ticked_tells_the_client_and_resets_the_confirmation(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    appointment = sams(session, ana, status="confirmed")
    form = {"starts": local(day_at(4, 15)), "duration": "60", "notify": "on"}
    response = as_ana.post(f"/appointments/{appointment.id}/move", form)
    assert response.status_code == 302
    session.expire_all()
    moved = session.get(Appointment, appointment.id)
    assert moved is not None and moved.status == "scheduled"
    [notice] = notices(session)
    assert notice.kind == "move_notice" and "3:00 PM (was" in notice.body
    reminder = session.scalar(
        select(OutboundMessage).where(
            OutboundMessage.kind == "reminder", OutboundMessage.status == "planned"
        )
    )
    assert reminder is not None and reminder.send_at == moved.starts_at - timedelta(hours=24)
    page = text_of(as_ana.get(f"/clients/{appointment.client_id}"))
    assert "Notice of a move" in page and "Not confirmed" in page


def test_a_move_with_the_notice_unticked_tells_nobody(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    appointment = sams(session, ana)
    form = {"starts": local(day_at(4, 15)), "duration": "60"}
    assert as_ana.post(f"/appointments/{appointment.id}/move", form).status_code == 302
    assert notices(session) == []


def test_cancelling_asks_first_and_tells_the_client_when_ticked(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    appointment = sams(session, ana)
    client_page = as_ana.get(f"/clients/{appointment.client_id}")
    assert f"/appointments/{appointment.id}/cancel" in client_page.get_data(as_text=True)
    page = as_ana.get(f"/appointments/{appointment.id}/cancel")
    assert "is cancelled. Reply R and we&#39;ll find a new time" in text_of(page)
    assert 'name="notify" type="checkbox" value="on" checked' in page.get_data(as_text=True)
    response = as_ana.post(f"/appointments/{appointment.id}/cancel", {"notify": "on"})
    assert response.status_code == 302
    [notice] = notices(session)
    assert notice.kind == "cancel_notice"
    assert session.scalar(select(Appointment.status)) == "cancelled"


def test_cancelling_with_the_notice_unticked_tells_nobody(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    appointment = sams(session, ana)
    assert as_ana.post(f"/appointments/{appointment.id}/cancel", {}).status_code == 302
    assert session.scalar(select(Appointment.status)) == "cancelled"
    assert notices(session) == []


def test_someone_elses_appointment_cannot_be_cancelled(
    as_ana: Web, ben: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ben.id)
    appointment = factories.appointment(session, client, day_at(4, 10))
    session.commit()
    assert as_ana.get(f"/appointments/{appointment.id}/cancel").status_code == 404
    assert as_ana.post(f"/appointments/{appointment.id}/cancel", {}).status_code == 404
