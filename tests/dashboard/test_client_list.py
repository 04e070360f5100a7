"""The client list: search, latest pain with its date, trend, next session, badges."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from service import consent
from service.dashboard.timefmt import day_of, iso
from service.models import InboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, counting, now, text_of


def _pain(session: Session, client_id: int, score: int, ago: timedelta) -> None:
    session.add(
        InboundMessage(
            provider_sid=f"SM{client_id}-{score}-{ago.total_seconds()}",
            from_phone="+16175550123",
            body=str(score),
            client_id=client_id,
            pain_score=score,
            intent="pain",
            received_at=now() - ago,
        )
    )


def test_it_shows_the_latest_pain_with_its_date_and_a_trend(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    _pain(session, client.id, 3, timedelta(days=10))
    _pain(session, client.id, 7, timedelta(days=3))
    _pain(session, client.id, 5, timedelta(days=1))
    session.commit()
    html = as_ana.get("/clients").get_data(as_text=True)
    page = text_of(as_ana.get("/clients"))
    day = day_of(now() - timedelta(days=1), "America/New_York")
    assert f"5 /10 · {day}" in page
    assert "Last 3 pain scores, oldest first: 3, 7, 5" in html
    assert "<polyline" in html


def test_it_badges_opted_out_and_invalid_numbers(as_ana: Web, ana: Staff, session: Session) -> None:
    factories.client_with_phone(session, "Olive Out", "+16175550111", therapist_id=ana.id)
    factories.client_with_phone(session, "Ivan Bad", "+16175550112", therapist_id=ana.id)
    factories.client_with_phone(session, "Fine Person", "+16175550113", therapist_id=ana.id)
    consent.opt_out(session, "+16175550111", now())
    consent.mark_invalid(session, "+16175550112", "provider error 21211", now())
    session.commit()
    rows = {
        row.split("</tr>")[0].split("</a>")[0].rsplit(">", 1)[-1]: row
        for row in as_ana.get("/clients").get_data(as_text=True).split("<tr>")[2:]
    }
    assert "Opted out" in rows["Olive Out"]
    assert "Invalid number" in rows["Ivan Bad"]
    assert "Opted out" not in rows["Fine Person"]
    assert "Invalid number" not in rows["Fine Person"]


def test_it_shows_the_next_appointment(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    factories.appointment(session, client, now() - timedelta(days=1))
    factories.appointment(session, client, now() + timedelta(days=9), status="cancelled")
    coming = factories.appointment(session, client, now() + timedelta(days=2))
    session.commit()
    html = as_ana.get("/clients").get_data(as_text=True)
    local = iso(coming.starts_at, "America/New_York")
    assert f'<time datetime="{local}">' in html
    assert html.count("<time ") == 1


def test_it_searches_by_name_or_phone(as_ana: Web, ana: Staff, session: Session) -> None:
    factories.client_with_phone(session, "Sam Lee", "+16175550123", therapist_id=ana.id)
    factories.client_with_phone(session, "Grace Kim", "+16175550151", therapist_id=ana.id)
    session.commit()
    by_name = text_of(as_ana.get("/clients", q="grace"))
    assert "Grace Kim" in by_name and "Sam Lee" not in by_name
    by_phone = text_of(as_ana.get("/clients", q="(617) 555-0123"))
    assert "Sam Lee" in by_phone and "Grace Kim" not in by_phone
    assert "No client matches" in text_of(as_ana.get("/clients", q="100%_x"))


def test_the_list_costs_the_same_queries_for_two_or_twenty_clients(
    app: Flask, as_ana: Web, ana: Staff, session: Session
) -> None:
    def add(count: int, offset: int) -> None:
        for i in range(count):
            client, _ = factories.client_with_phone(
                session, f"Client {offset + i}", f"+1617555{offset + i:04d}", therapist_id=ana.id
            )
            _pain(session, client.id, i % 10, timedelta(days=1))
            factories.appointment(session, client, now() + timedelta(days=1))
        session.commit()

    add(2, 200)
    with counting(app) as few:
        as_ana.get("/clients")
    add(18, 300)
    with counting(app) as many:
        as_ana.get("/clients")
    assert len(many) == len(few)
    assert "Client 317" in text_of(as_ana.get("/clients"))
