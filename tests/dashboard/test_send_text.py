"""Texting a contact from the client page: queued for the dispatcher, refused when it must be."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import consent
from service.dashboard import timefmt
from service.domain.provider_errors import explain
from service.models import AuditEntry, Client, Contact, OutboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, now, text_of


def zone_at(local_hour: int) -> str:
    """A fixed-offset zone whose wall clock reads ``local_hour`` o'clock-ish right now."""
    offset = (local_hour - now().hour) % 24
    if offset > 14:
        offset -= 24
    # POSIX-style names: Etc/GMT-5 is five hours *ahead* of UTC.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def _client(session: Session, therapist: Staff, local_hour: int = 13) -> tuple[Client, Contact]:
    client, contact = factories.client_with_phone(
        session, "Sam Lee", therapist_id=therapist.id, timezone=zone_at(local_hour)
    )
    session.commit()
    return client, contact


def _form(web: Web, client: Client) -> dict[str, str]:
    """The compose form's hidden key and chosen contact, as the page renders them."""
    html = web.get(f"/clients/{client.id}").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', html)
    assert key is not None
    return {"key": key.group(1), "contact_id": str(client.contacts[0].id)}


def test_a_text_is_queued_for_the_dispatcher(as_ana: Web, ana: Staff, session: Session) -> None:
    client, contact = _client(session, ana)
    form = _form(as_ana, client)
    response = as_ana.post(f"/clients/{client.id}/messages", {**form, "body": "See you at 3!"})
    assert response.status_code == 302
    message = session.scalar(select(OutboundMessage))
    assert message is not None
    assert (message.kind, message.status, message.to_phone) == ("manual", "planned", contact.phone)
    assert (message.created_by_id, message.contact_id, message.body) == (
        ana.id,
        contact.id,
        "See you at 3!",
    )
    assert message.idempotency_key == form["key"] and form["key"].startswith("manual:")
    assert abs((message.send_at - now()).total_seconds()) < 60
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "See you at 3!" in page and "Queued" in page and "Typed by staff" in page
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "send_text"))
    assert entry.detail == {"contact_id": contact.id, "message_id": message.id}  # no body


def test_a_double_submit_queues_one_text(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = _client(session, ana)
    form = {**_form(as_ana, client), "body": "Running 5 min late"}
    as_ana.post(f"/clients/{client.id}/messages", form)
    as_ana.post(f"/clients/{client.id}/messages", form)
    assert len(session.scalars(select(OutboundMessage)).all()) == 1


def test_an_opted_out_number_is_refused_with_the_reason(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = _client(session, ana)
    consent.opt_out(session, contact.phone, now())
    session.commit()
    response = as_ana.post(
        f"/clients/{client.id}/messages", {**_form(as_ana, client), "body": "Hello?"}
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "opted out of texts" in page and "until it replies START" in page
    assert ">Hello?</textarea>" in response.get_data(as_text=True)
    assert session.scalar(select(OutboundMessage)) is None


def test_an_invalid_number_is_refused_with_the_reason(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = _client(session, ana)
    consent.mark_invalid(session, contact.phone, explain(21614), now())
    session.commit()
    response = as_ana.post(
        f"/clients/{client.id}/messages", {**_form(as_ana, client), "body": "Hello?"}
    )
    assert response.status_code == 422
    said = text_of(response)
    assert "cannot receive texts (it looks like a landline)" in said
    assert "Ask the client for a mobile number." in said
    assert "21614" not in said
    assert session.scalar(select(OutboundMessage)) is None


def test_quiet_hours_ask_for_a_second_confirmation(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = _client(session, ana, local_hour=2)
    form = {**_form(as_ana, client), "body": "Sorry to text late"}
    first = as_ana.post(f"/clients/{client.id}/messages", form)
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "It is quiet hours where Sam Lee lives" in text_of(first)
    assert 'name="confirm_quiet" value="yes"' in html
    assert ">Sorry to text late</textarea>" in html
    assert session.scalar(select(OutboundMessage)) is None
    second = as_ana.post(f"/clients/{client.id}/messages", {**form, "confirm_quiet": "yes"})
    assert second.status_code == 302
    assert session.scalar(select(OutboundMessage.body)) == "Sorry to text late"


def test_outside_quiet_hours_there_is_no_warning(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = _client(session, ana, local_hour=13)
    response = as_ana.post(
        f"/clients/{client.id}/messages", {**_form(as_ana, client), "body": "Hi"}
    )
    assert response.status_code == 302


def test_an_empty_text_or_a_strangers_contact_is_an_inline_error(
    as_ana: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    client, _ = _client(session, ana)
    _, other = factories.client_with_phone(session, "Bea", "+16175550199", therapist_id=ben.id)
    session.commit()
    form = _form(as_ana, client)
    empty = as_ana.post(f"/clients/{client.id}/messages", {**form, "body": "  "})
    assert empty.status_code == 422 and 'id="f-body-error"' in empty.get_data(as_text=True)
    stranger = as_ana.post(
        f"/clients/{client.id}/messages", {**form, "contact_id": other.id, "body": "Hi"}
    )
    assert stranger.status_code == 422 and "Choose who gets the text" in text_of(stranger)
    assert session.scalar(select(OutboundMessage)) is None


def test_quiet_hours_offer_to_send_at_8_am_their_time(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = _client(session, ana, local_hour=2)
    form = {**_form(as_ana, client), "body": "Call me tomorrow"}
    first = as_ana.post(f"/clients/{client.id}/messages", form)
    assert "Send at 8:00 AM" in text_of(first) and "Send anyway" in text_of(first)
    second = as_ana.post(f"/clients/{client.id}/messages", {**form, "confirm_quiet": "later"})
    assert second.status_code == 302
    message = session.scalar(select(OutboundMessage))
    assert message is not None and message.status == "planned"
    assert timefmt.clock(message.send_at, client.timezone) == "8:00 AM"
    assert timedelta(0) < message.send_at - now() <= timedelta(hours=7)


def test_an_over_long_text_is_refused_with_the_reason_and_kept(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = _client(session, ana)
    body = "word " * 140  # 699 characters once trimmed
    response = as_ana.post(
        f"/clients/{client.id}/messages", {**_form(as_ana, client), "body": body}
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "This text is 699 characters (5 SMS segments); the most is 640" in page
    assert body.strip() in response.get_data(as_text=True)
    assert 'maxlength="640"' not in response.get_data(as_text=True)
    assert session.scalar(select(OutboundMessage)) is None
