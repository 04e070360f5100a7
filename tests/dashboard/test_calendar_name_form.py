"""A client's calendar name in the dashboard: shown on the client page, edited in its form."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEntry, Client
from tests import factories
from tests.dashboard.conftest import Staff, Web, text_of

FORM = {"name": "Maria Garcia", "phone": "+16175550123", "timezone": "America/New_York"}


def _client(session: Session, ana: Staff, calendar_name: str | None = None) -> Client:
    client, _ = factories.client_with_phone(session, "Maria Garcia", therapist_id=ana.id)
    client.calendar_name = calendar_name
    session.commit()
    return client


def _saved(session: Session, client_id: int) -> str | None:
    session.expire_all()
    return session.scalar(select(Client.calendar_name).where(Client.id == client_id))


@pytest.mark.parametrize(
    ("saved", "shown"),
    [(None, "In calendars: Maria G. (default)"), ("Gigi R.", "In calendars: Gigi R.")],
)
def test_the_client_page_shows_the_calendar_name_marking_the_default(
    as_ana: Web, ana: Staff, session: Session, saved: str | None, shown: str
) -> None:
    client = _client(session, ana, saved)
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert shown in page
    if saved:
        assert "(default)" not in page


def test_the_edit_form_shows_the_saved_name_and_the_default_it_falls_back_to(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    html = as_ana.get(f"/clients/{client.id}/edit").get_data(as_text=True)
    assert 'name="calendar_name"' in html and 'placeholder="Maria G."' in html
    assert "Empty: the default, Maria G." in html
    client.calendar_name = "Gigi"
    session.commit()
    html = as_ana.get(f"/clients/{client.id}/edit").get_data(as_text=True)
    assert 'value="Gigi"' in html


def test_a_calendar_name_is_saved_then_reset_and_each_change_audited(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    saved = as_ana.post(f"/clients/{client.id}/edit", {**FORM, "calendar_name": "  Gigi R. "})
    assert saved.status_code == 302
    assert _saved(session, client.id) == "Gigi R."
    assert "In calendars: Gigi R." in text_of(as_ana.get(f"/clients/{client.id}"))
    reset = as_ana.post(f"/clients/{client.id}/edit", {**FORM, "calendar_name": "  "})
    assert reset.status_code == 302
    assert _saved(session, client.id) is None
    updates = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update").order_by(AuditEntry.id)
    ).all()
    assert [(e.user_id, e.detail["fields"], e.detail["via"]) for e in updates] == [
        (ana.id, ["calendar_name"], "dashboard")
    ] * 2


def test_a_new_client_is_made_with_its_calendar_name_in_one_audited_write(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    made = as_ana.post("/clients/new", {**FORM, "calendar_name": "Gigi"})
    assert made.status_code == 302
    client = session.scalars(select(Client)).one()
    assert client.calendar_name == "Gigi"
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "client", AuditEntry.action != "list")
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.detail.get("fields")) for e in entries] == [
        ("create", None),
    ]  # made with it: one entry, not a create and then an update


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x" * 101, "At most 100 characters."),
        ("-- 🌸 --", "Must hold at least one letter or digit."),
        ("Gigi\x1b", "Contains characters that cannot be stored."),
    ],
)
def test_a_refused_calendar_name_is_shown_inline_and_nothing_is_saved(
    as_ana: Web, ana: Staff, session: Session, value: str, message: str
) -> None:
    client = _client(session, ana, "Gigi")
    edited = as_ana.post(
        f"/clients/{client.id}/edit", {**FORM, "name": "Ana Ruiz", "calendar_name": value}
    )
    assert edited.status_code == 422
    html = edited.get_data(as_text=True)
    assert 'id="f-calendar_name-error"' in html and message in html
    session.expire_all()
    stored = session.get(Client, client.id)
    assert stored is not None and (stored.name, stored.calendar_name) == ("Maria Garcia", "Gigi")
    made = as_ana.post("/clients/new", {**FORM, "calendar_name": value})
    assert made.status_code == 422 and message in made.get_data(as_text=True)
    assert session.scalars(select(Client.id)).all() == [client.id]
