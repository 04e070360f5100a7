"""The client page: contacts, schedule, the thread both ways, the pain chart, the audit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.dashboard import client_page
from service.models import AuditEntry, Contact, InboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, now, text_of


def test_it_shows_the_thread_both_ways_with_delivery_status(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    mom = Contact(name="Mia Lee", relation="parent", phone="+16175550124", checkins=False)
    client.contacts.append(mom)
    session.flush()
    factories.sent(
        session, client, contact, kind="checkin", sent_at=now() - timedelta(hours=3), body="Pain?"
    )
    failed = factories.message(
        session, client, mom, send_at=now() - timedelta(hours=2), kind="reminder", body="See you"
    )
    failed.status, failed.error_code = "undelivered", 30006
    failed.error_message = "Twilio: Landline or unreachable carrier (+16175550124)"
    factories.message(session, client, contact, send_at=now() + timedelta(days=1), body="Later")
    session.add(
        InboundMessage(
            provider_sid="SMin1",
            from_phone=contact.phone,
            body="6 today",
            client_id=client.id,
            contact_id=contact.id,
            pain_score=6,
            received_at=now() - timedelta(hours=1),
        )
    )
    session.commit()
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Mia Lee parent" in page  # caregivers are listed
    newest_first = [page.index(t) for t in ("6 today", "See you", "Pain?")]
    assert newest_first == sorted(newest_first)
    assert "To Sam Lee (self)" in page and "Delivered" in page
    assert "From Sam Lee (self)" in page and "pain 6/10" in page
    assert "To Mia Lee (parent)" in page and "Not delivered" in page
    # Why, in plain words with what to do; never the provider's own message.
    assert "This number cannot receive texts (it looks like a landline" in page
    assert "Ask the client for a mobile number." in page
    assert "Twilio" not in page and "+16175550124" not in page
    # A manual text still planned shows as queued; a planned reminder is not a text yet.
    assert "Later" in page  # manual kind, planned: queued in the thread


def test_it_draws_the_pain_chart_with_sessions(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    factories.appointment(session, client, now() - timedelta(days=2), status="completed")
    for score, days in ((4, 8), (9, 1)):
        session.add(
            InboundMessage(
                provider_sid=f"SMp{score}",
                from_phone="+16175550123",
                client_id=client.id,
                body=str(score),
                pain_score=score,
                received_at=now() - timedelta(days=days),
            )
        )
    session.commit()
    html = as_ana.get(f"/clients/{client.id}").get_data(as_text=True)
    svg = html.split('<svg class="pain-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and 'aria-labelledby="pain-title pain-desc"' in svg
    assert '<title id="pain-title">Pain scores of Sam Lee, 0 to 10</title>' in svg
    assert "2 pain scores" in svg and "Latest: 9" in svg and "1 session marked" in svg
    assert svg.count('class="pain-point"') == 2
    assert '<text class="latest-score"' in svg and ">9</text>" in svg
    assert svg.count('class="session"') == 1


def test_without_scores_there_is_no_chart(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    page = as_ana.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "No pain scores yet" in page
    assert "pain-chart" not in page


def test_each_view_is_audited(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    as_ana.get(f"/clients/{client.id}")
    as_ana.get(f"/clients/{client.id}")
    views = session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).all()
    assert [(v.user_id, v.entity, v.entity_id) for v in views] == [
        (ana.id, "client", str(client.id))
    ] * 2


def test_the_page_has_a_print_stylesheet(as_ana: Web) -> None:
    with as_ana.get("/static/style.css") as response:
        css = response.get_data(as_text=True)
    assert "@media print" in css


def test_it_lists_planned_texts_and_upcoming_appointments(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, therapist_id=ana.id)
    factories.appointment(session, client, now() + timedelta(days=3))
    factories.message(
        session, client, contact, send_at=now() + timedelta(days=2), kind="reminder", key="r1"
    )
    session.commit()
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Next planned texts" in page and "Reminder" in page
    assert "Not confirmed" in page and "Confirm" in page


def test_next_planned_texts_name_each_recipient(as_ana: Web, ana: Staff, session: Session) -> None:
    client, contact = factories.client_with_phone(session, "Maria Diaz", therapist_id=ana.id)
    rosa = Contact(name="Rosa Diaz", relation="mother", phone="+16175550124")
    client.contacts.append(rosa)
    session.flush()
    factories.appointment(session, client, now() + timedelta(days=3))
    for who, hours in ((contact, 30), (rosa, 31)):
        factories.message(
            session, client, who, send_at=now() + timedelta(hours=hours), kind="reminder"
        )
    session.commit()
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    planned = page[page.index("Next planned texts") :]
    assert "Reminder to Maria Diaz (self)" in planned
    assert "Reminder to Rosa Diaz (mother)" in planned


def test_an_automatic_reply_shows_after_the_text_it_answers_at_the_same_instant(
    session: Session, ana: Staff
) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    at = now() - timedelta(hours=1)
    # The acknowledgement is written first and gets the lower id, stamped the same instant.
    factories.sent(session, client, contact, kind="reply", sent_at=at, body="Thanks, noted.")
    session.add(
        InboundMessage(
            provider_sid="SMtie",
            from_phone=contact.phone,
            body="4",
            client_id=client.id,
            contact_id=contact.id,
            received_at=at,
        )
    )
    session.commit()
    bodies = [item.body for item in client_page.thread(session, client)]
    assert bodies == ["4", "Thanks, noted."]
