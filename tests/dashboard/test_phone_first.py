"""The client page read on a phone: what matters between sessions first, numbers to tap,
and Spanish texts marked as Spanish (the layout: tests/browser/test_phone.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.orm import Session

from service.models import Alert, Contact
from tests import factories
from tests.dashboard.conftest import Staff, Web, now, text_of


def test_it_starts_with_the_next_appointment_and_the_open_items(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    factories.appointment(session, client, now() - timedelta(days=1), status="completed")
    factories.appointment(session, client, now() + timedelta(days=9))
    factories.appointment(session, client, now() + timedelta(days=2), status="confirmed")
    session.add(Alert(kind="pain", client_id=client.id, created_at=now(), detail="pain 9/10"))
    session.add(
        Alert(kind="opt_out", client_id=client.id, created_at=now(), handled_at=now(), detail="x")
    )
    session.commit()
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    glance = page[page.index("Next appointment") : page.index("Pain over time")]
    assert "Confirmed" in glance  # the one in two days, with its state
    assert "Pain alert" in glance and "pain 9/10" in glance and "Mark handled" in glance
    assert "Opted out" not in glance  # handled: in the history below, not an open item
    assert page.index("Open items") < page.index("Pain over time") < page.index("Messages")


def test_without_anything_booked_or_open_it_says_so(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    factories.appointment(session, client, now() + timedelta(days=1), status="cancelled")
    session.commit()
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Next appointment None booked. Open items Nothing open." in page


def test_phone_numbers_are_national_tel_links(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    client.contacts.append(Contact(name="Tom Lee", relation="brother", phone="+442079460958"))
    session.commit()
    html = as_ana.get(f"/clients/{client.id}").get_data(as_text=True)
    assert '<a class="tel" href="tel:+16175550123">(617) 555-0123</a>' in html
    assert '<a class="tel" href="tel:+442079460958">+44 20 7946 0958</a>' in html
    assert "Sam Lee (self) (617) 555-0123" in text_of(as_ana.get(f"/clients/{client.id}"))
    listing = as_ana.get("/clients").get_data(as_text=True)
    assert 'href="tel:+16175550123">(617) 555-0123</a>' in listing


def test_spanish_bubbles_carry_their_language(as_ana: Web, ana: Staff, session: Session) -> None:
    maria, own = factories.client_with_phone(
        session, "Maria Lopez", "+16175550111", language="es", therapist_id=ana.id
    )
    sam, sams = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    at = now() - timedelta(hours=1)
    factories.sent(session, maria, own, kind="checkin", sent_at=at, body="¿Cómo está su dolor?")
    factories.sent(session, sam, sams, kind="checkin", sent_at=at, body="How is your pain?")
    session.commit()
    spanish = as_ana.get(f"/clients/{maria.id}").get_data(as_text=True)
    english = as_ana.get(f"/clients/{sam.id}").get_data(as_text=True)
    assert re.search(r'<p class="bubble" lang="es">¿Cómo está su dolor\?</p>', spanish)
    assert '<p class="bubble">How is your pain?</p>' in english
