"""What a browser (or a person editing a URL) can send never gets a 500, and every page
that shows client records leaves an audit row naming them."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEntry, Client
from tests import factories
from tests.dashboard.conftest import Staff, Web, now

ODD_VALUES = [
    "abc",
    "",
    "-1",
    "0",
    "٣",
    "²",
    "2147483648",
    "99999999999999999999",
    "9999-12-31",
    "0001-01-01",
    "2027-13-40",
    "x" * 5000,
    "%",
    "' OR 1=1 --",
    "<script>",
]
ODD_KEYS = ["page", "week", "q", "sort", "from", "to", "next", "phone"]


def _plain_get_routes(app: Flask) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods  # type: ignore[operator]
        and not rule.arguments
        and not rule.rule.startswith(("/api", "/static", "/sms"))
    )


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_query_values_on_every_page_are_never_a_500(
    app: Flask, as_boss: Web, value: str
) -> None:
    for path in _plain_get_routes(app):
        response = as_boss.get(path, **dict.fromkeys(ODD_KEYS, value))
        assert response.status_code < 500, (path, value)


def test_a_nul_is_a_400_before_any_query(web: Web, as_ana: Web, session: Session) -> None:
    before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    response = web.http.post(
        "/login",
        data={"csrf_token": web.token(), "email": "ana@practice.test\x00", "password": "x"},
    )
    assert response.status_code == 400
    assert session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) == before
    assert as_ana.get("/clients", q="\x00").status_code == 400
    assert as_ana.post("/clients/new", {"name": "Sam\x00"}).status_code == 400


@pytest.mark.parametrize("wanted", ["2147483648", "99999999999999999999", "٣", "-2", "x", ""])
def test_reassigning_to_a_bad_id_changes_nothing(
    as_boss: Web, ana: Staff, session: Session, wanted: str
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    response = as_boss.post(f"/clients/{client.id}/therapist", {"therapist_id": wanted})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Client, client.id).therapist_id == ana.id  # type: ignore[union-attr]


def test_a_far_week_is_brought_within_reach(as_ana: Web) -> None:
    for far in ("9999-12-27", "0001-01-01", "2200-01-01"):
        assert as_ana.get("/schedule", week=far).status_code == 200


def _audit_rows(session: Session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_every_page_about_one_client_is_audited(as_ana: Web, ana: Staff, session: Session) -> None:
    client, contact = factories.client_with_phone(session, therapist_id=ana.id)
    visit = factories.appointment(session, client, now() + timedelta(days=3))
    session.commit()
    pages = [
        f"/clients/{client.id}",
        f"/clients/{client.id}/edit",
        f"/clients/{client.id}/contacts/new",
        f"/contacts/{contact.id}/edit",
        f"/clients/{client.id}/series/new",
        f"/clients/{client.id}/appointments/new",
        f"/appointments/{visit.id}/move",
    ]
    for page in pages:
        seen = len(_audit_rows(session))
        assert as_ana.get(page).status_code == 200, page
        added = _audit_rows(session)[seen:]
        assert [(a.action, a.entity, a.entity_id, a.user_id) for a in added] == [
            ("view", "client", str(client.id), ana.id)
        ], page


def test_list_pages_audit_the_clients_they_show(
    as_ana: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    mine, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    factories.client_with_phone(session, "Other One", "+16175550999", therapist_id=ben.id)
    soon = now() + timedelta(hours=2)
    factories.appointment(session, mine, soon)
    session.commit()
    # The week that holds the session (in two hours it may be next week's Monday already).
    zone = ZoneInfo(as_ana.http.application.config["TOUCHBASE"].practice_timezone)
    week = {"week": soon.astimezone(zone).date().isoformat()}
    for page, query, via in (
        ("/clients", {}, "clients"),
        ("/schedule", week, "schedule"),
        ("/", {}, "inbox"),
    ):
        seen = len(_audit_rows(session))
        assert as_ana.get(page, **query).status_code == 200
        added = _audit_rows(session)[seen:]
        assert [(a.action, a.entity_id, a.detail.get("via")) for a in added] == [("list", "*", via)]
        expected = [] if via == "inbox" else [mine.id]  # no alert yet: the inbox shows no one
        assert added[0].detail["clients"] == expected
