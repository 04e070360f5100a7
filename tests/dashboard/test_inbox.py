"""The inbox: open items by urgency then newest first; handling, closing, linking, answering."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts import close_reschedule_requests
from service.dashboard import timefmt
from service.domain.provider_errors import explain
from service.models import Alert, AuditEntry, InboundMessage, OutboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, counting, now, text_of
from tests.dashboard.test_send_text import zone_at


def _alert(session: Session, kind: str, client_id: int | None, ago: timedelta, **kw: str) -> Alert:
    alert = Alert(kind=kind, client_id=client_id, created_at=now() - ago, **kw)
    session.add(alert)
    session.flush()
    return alert


def test_it_lists_open_alerts_newest_first(as_ana: Web, ana: Staff, session: Session) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    reply = InboundMessage(
        provider_sid="SM1", from_phone=contact.phone, body="9", client_id=client.id, pain_score=9
    )
    session.add(reply)
    session.flush()
    _alert(session, "reschedule", client.id, timedelta(hours=3), detail="can we do Friday")
    _alert(session, "pain", client.id, timedelta(hours=1), detail="pain 9/10", inbound_id=reply.id)
    session.commit()
    page = text_of(as_ana.get("/"))
    assert "2 things need a look" in page
    assert page.index("Pain alert") < page.index("Reschedule request")
    assert "“9”" in page
    assert "can we do Friday" in page
    assert f'href="/clients/{client.id}"' in as_ana.get("/").get_data(as_text=True)


def test_marking_handled_removes_it_and_records_who_and_when(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    alert = _alert(session, "pain", client.id, timedelta(minutes=5), detail="pain 9/10")
    session.commit()
    before = now()
    response = as_ana.post(f"/alerts/{alert.id}/handled")
    assert response.status_code == 302
    session.refresh(alert)
    assert alert.handled_by_id == ana.id
    assert alert.handled_at is not None and before <= alert.handled_at <= now()
    assert "Nothing needs a look" in text_of(as_ana.get("/"))
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "handle"))
    assert (entry.user_id, entry.entity, entry.entity_id) == (ana.id, "alert", str(alert.id))
    # It stays in the client's history, with who handled it.
    history = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Handled by Ana Ruiz" in history


def test_handling_twice_keeps_the_first(
    as_ana: Web, as_boss: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    alert = _alert(session, "opt_out", client.id, timedelta(minutes=5))
    session.commit()
    as_ana.post(f"/alerts/{alert.id}/handled")
    as_boss.post(f"/alerts/{alert.id}/handled")
    session.refresh(alert)
    assert alert.handled_by_id == ana.id
    handled = session.scalars(select(AuditEntry).where(AuditEntry.action == "handle")).all()
    assert len(handled) == 1


def test_unknown_senders_reach_every_therapist_with_the_full_number(
    as_ana: Web, as_boss: Web, ana: Staff, session: Session
) -> None:
    alert = _alert(session, "unknown_sender", None, timedelta(minutes=2), phone="+16175550199")
    session.commit()
    assert "(617) 555-0199" in text_of(as_boss.get("/"))
    page = text_of(as_ana.get("/"))
    assert "Unknown sender" in page and "(617) 555-0199" in page
    assert "Link to a client" in page and "Not ours" in page
    assert as_ana.post(f"/alerts/{alert.id}/handled").status_code == 302


def test_another_therapists_alerts_are_not_shown(as_ana: Web, ben: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, "Bea Bell", therapist_id=ben.id)
    _alert(session, "pain", client.id, timedelta(minutes=2))
    session.commit()
    page = text_of(as_ana.get("/"))
    assert "Bea Bell" not in page
    assert "Nothing needs a look" in page


def test_a_reply_left_to_a_person_shows_the_guess_and_why(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    reply = InboundMessage(
        provider_sid="SM2",
        from_phone=contact.phone,
        body="see you at 3?",
        client_id=client.id,
        intent="other",
        guess="confirm",
        reason='confirm: "see you"',
    )
    session.add(reply)
    session.flush()
    _alert(
        session,
        "not_understood",
        client.id,
        timedelta(minutes=1),
        detail="maybe: confirm",
        inbound_id=reply.id,
    )
    session.commit()
    page = html.unescape(text_of(as_ana.get("/")))
    assert "maybe: confirm" in page
    assert 'Read as confirm: "see you"' in page
    thread = html.unescape(text_of(as_ana.get(f"/clients/{client.id}")))
    assert "maybe: confirm, for a person" in thread and 'Read as confirm: "see you"' in thread


def test_items_rank_by_urgency_before_age(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    # Newest first within the page would put these in the reverse order.
    kinds = ["pain", "reschedule", "unknown_sender", "not_understood", "delivery_failed"]
    kinds += ["relief_gap", "opt_out"]
    for minutes, kind in enumerate(kinds):
        owner = None if kind == "unknown_sender" else client.id
        _alert(session, kind, owner, timedelta(minutes=60 - minutes), phone="+16175550199")
    session.commit()
    page = text_of(as_ana.get("/"))
    labels = ["Pain alert", "Reschedule request", "Unknown sender", "Not understood"]
    labels += ["Delivery failed", "Gap longer than relief", "Opted out"]
    places = [page.index(f"{label} ") for label in labels]
    assert places == sorted(places)


def test_times_are_in_the_practice_zone_named_once_with_how_long_ago(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(
        session, "Sam Lee", therapist_id=ana.id, timezone="Asia/Tokyo"
    )
    _alert(session, "pain", client.id, timedelta(hours=2, minutes=5))
    _alert(session, "reschedule", client.id, timedelta(minutes=3))
    session.commit()
    page = text_of(as_ana.get("/"))
    assert page.count("Times are in America/New_York") == 1
    assert "(2 h ago)" in page and "(3 min ago)" in page
    assert "+09:00" not in as_ana.get("/").get_data(as_text=True)


def test_not_ours_closes_an_unknown_sender_and_is_audited(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    alert = _alert(session, "unknown_sender", None, timedelta(minutes=2), phone="+16175550199")
    session.commit()
    assert as_ana.post(f"/alerts/{alert.id}/not-ours").status_code == 302
    session.refresh(alert)
    assert (alert.handled_by_id, alert.closed_note) == (ana.id, "not ours")
    assert "Nothing needs a look" in text_of(as_ana.get("/"))
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "close"))
    assert (entry.user_id, entry.entity_id) == (ana.id, str(alert.id))


def test_linking_an_unknown_number_adds_a_contact_after_a_confirmation(
    as_ana: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    other, _ = factories.client_with_phone(
        session, "Bea Bell", therapist_id=ben.id, phone="+16175550177"
    )
    said = InboundMessage(provider_sid="SM9", from_phone="+16175550199", body="It's Rosa")
    session.add(said)
    session.flush()
    alert = _alert(session, "unknown_sender", None, timedelta(minutes=2), phone="+16175550199")
    alert.inbound_id = said.id
    session.commit()
    page = text_of(as_ana.get(f"/alerts/{alert.id}/link"))
    assert "Link (617) 555-0199 to a client" in page and "Sam Lee" in page
    assert "Bea Bell" not in page
    refused = as_ana.post(f"/alerts/{alert.id}/link", {"client_id": other.id, "name": "Rosa"})
    assert refused.status_code == 422 and "Choose one of your clients" in text_of(refused)
    form = {"client_id": client.id, "name": "Rosa", "relation": "parent"}
    response = as_ana.post(f"/alerts/{alert.id}/link", form)
    assert response.status_code == 302
    session.refresh(alert)
    session.refresh(client)
    assert alert.client_id == client.id and alert.closed_note == "linked to this client"
    assert "+16175550199" in [c.phone for c in client.contacts]
    session.refresh(said)
    assert said.client_id == client.id  # the thread shows what the number said
    assert "It's Rosa" in html.unescape(text_of(as_ana.get(f"/clients/{client.id}")))
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"add_contact", "close"} <= actions


def test_a_delivery_problem_is_said_in_plain_words(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    _alert(
        session,
        "invalid_number",
        client.id,
        timedelta(minutes=2),
        detail=explain(21614),
    )
    session.commit()
    page = text_of(as_ana.get("/"))
    assert "it looks like a landline" in page and "Ask the client for a mobile number" in page


def test_answering_from_an_item_queues_a_text_and_comes_back_to_the_inbox(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(
        session, "Sam Lee", therapist_id=ana.id, timezone=zone_at(13)
    )
    _alert(session, "reschedule", client.id, timedelta(minutes=2), phone=contact.phone)
    session.commit()
    html_page = as_ana.get("/").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', html_page)
    assert key is not None and 'name="from" value="inbox"' in html_page
    form = {"key": key.group(1), "contact_id": contact.id, "from": "inbox", "body": "Sure, Fri?"}
    response = as_ana.post(f"/clients/{client.id}/messages", form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert session.scalar(select(OutboundMessage.body)) == "Sure, Fri?"


def test_an_item_that_closed_itself_says_how_and_when(
    as_ana: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    theirs, _ = factories.client_with_phone(session, "Bea Bell", "+1617555017", therapist_id=ben.id)
    item = _alert(session, "reschedule", client.id, timedelta(hours=2))
    other = _alert(session, "reschedule", theirs.id, timedelta(hours=2))
    close_reschedule_requests(session, client.id, "client confirmed", now())
    close_reschedule_requests(session, theirs.id, "client confirmed", now())
    session.commit()
    page = text_of(as_ana.get("/"))
    session.refresh(item)
    at = timefmt.clock(item.handled_at, "America/New_York")
    assert "Nothing needs a look" in page
    assert f"Sam Lee : client confirmed at {at}" in page
    assert "Bea Bell" not in page
    session.refresh(other)
    assert other.closed_note == "client confirmed"
    history = text_of(as_ana.get(f"/clients/{client.id}"))
    assert f"Closed itself: client confirmed at {at}" in history


def test_the_inbox_costs_the_same_statements_for_few_or_many_items(
    app: Flask, as_ana: Web, ana: Staff, session: Session
) -> None:
    first, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    _alert(session, "pain", first.id, timedelta(minutes=5))
    session.commit()
    with counting(app) as few:
        as_ana.get("/")
    for n in range(5):
        client, _ = factories.client_with_phone(
            session, f"C{n}", f"+161755501{n}0", therapist_id=ana.id
        )
        _alert(session, "not_understood", client.id, timedelta(minutes=n))
    session.commit()
    with counting(app) as many:
        as_ana.get("/")
    assert len(many) == len(few)


def test_linking_closes_every_open_item_of_that_number(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    first = _alert(session, "unknown_sender", None, timedelta(minutes=9), phone="+16175550199")
    second = _alert(session, "unknown_sender", None, timedelta(minutes=2), phone="+16175550199")
    session.commit()
    form = {"client_id": client.id, "name": "Rosa", "relation": "parent"}
    assert as_ana.post(f"/alerts/{first.id}/link", form).status_code == 302
    session.expire_all()
    for item in (first, second):
        session.refresh(item)
        assert (item.client_id, item.closed_note) == (client.id, "linked to this client")


def test_linking_a_number_another_client_has_asks_to_confirm(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    factories.client_with_phone(session, "Maria Diaz", "+16175550199", therapist_id=ana.id)
    alert = _alert(session, "unknown_sender", None, timedelta(minutes=2), phone="+16175550199")
    session.commit()
    form = {"client_id": client.id, "name": "Rosa", "relation": "parent"}
    asked = as_ana.post(f"/alerts/{alert.id}/link", form)
    assert asked.status_code == 200
    assert "already gets texts about Maria Diaz" in text_of(asked)
    assert 'name="confirm_shared"' in asked.get_data(as_text=True)
    session.refresh(alert)
    assert alert.handled_at is None
    linked = as_ana.post(f"/alerts/{alert.id}/link", {**form, "confirm_shared": "on"})
    assert linked.status_code == 302
    session.refresh(alert)
    assert alert.client_id == client.id
