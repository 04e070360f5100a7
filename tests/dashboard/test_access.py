"""A therapist sees and changes only their own clients; anyone else's is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from service.models import Alert, AppointmentSeries
from tests import factories
from tests.dashboard.conftest import Staff, Web, now


@pytest.fixture
def bens_client_paths(session: Session, ben: Staff) -> dict[str, list[str]]:
    """Every page and action about one of Ben's clients."""
    client, contact = factories.client_with_phone(session, "Bea Bell", therapist_id=ben.id)
    appointment = factories.appointment(session, client, now() + timedelta(days=2))
    series = AppointmentSeries(
        client_id=client.id,
        rrule="FREQ=WEEKLY",
        starts_local=(now() + timedelta(days=3)).replace(tzinfo=None, microsecond=0),
        timezone=client.timezone,
    )
    alert = Alert(kind="pain", client_id=client.id)
    session.add_all([series, alert])
    session.commit()
    c, a, s = client.id, appointment.id, series.id
    return {
        "get": [
            f"/clients/{c}",
            f"/clients/{c}/edit",
            f"/clients/{c}/contacts/new",
            f"/contacts/{contact.id}/edit",
            f"/clients/{c}/series/new",
            f"/series/{s}/edit",
            f"/series/{s}/end",
            f"/clients/{c}/appointments/new",
            f"/appointments/{a}/move",
            f"/clients/{c}/export.csv",
        ],
        "post": [
            f"/clients/{c}/edit",
            f"/clients/{c}/contacts/new",
            f"/contacts/{contact.id}/edit",
            f"/contacts/{contact.id}/remove",
            f"/clients/{c}/series/new",
            f"/series/{s}/edit",
            f"/series/{s}/end",
            f"/series/{s}/restore",
            f"/clients/{c}/appointments/new",
            f"/appointments/{a}/move",
            f"/appointments/{a}/status",
            f"/clients/{c}/messages",
            f"/alerts/{alert.id}/handled",
        ],
    }


def test_another_therapists_client_is_not_found(
    as_ana: Web, bens_client_paths: dict[str, list[str]]
) -> None:
    for path in bens_client_paths["get"]:
        assert as_ana.get(path).status_code == 404, path
    for path in bens_client_paths["post"]:
        assert as_ana.post(path, {"status": "cancelled"}).status_code == 404, path


def test_the_owner_and_an_admin_can_open_them(
    as_ben: Web, as_boss: Web, bens_client_paths: dict[str, list[str]]
) -> None:
    for browser in (as_ben, as_boss):
        for path in bens_client_paths["get"]:
            assert browser.get(path).status_code == 200, path


def test_the_client_list_shows_only_ones_own(
    as_ana: Web, as_boss: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    factories.client_with_phone(session, "Anna Own", "+16175550101", therapist_id=ana.id)
    factories.client_with_phone(session, "Bea Other", "+16175550102", therapist_id=ben.id)
    session.commit()
    mine = as_ana.get("/clients").get_data(as_text=True)
    assert "Anna Own" in mine
    assert "Bea Other" not in mine
    everyone = as_boss.get("/clients").get_data(as_text=True)
    assert "Anna Own" in everyone
    assert "Bea Other" in everyone
