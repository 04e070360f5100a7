"""A practice-sized file: thousands of clients with caregivers and rhythms in one import.

How long it takes is measured in bench/client_import.py (``python -m bench.run import``),
not asserted here."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.client_import import practice_file
from service.models import Appointment, AppointmentSeries, Client, Contact
from tests.api.conftest import Api
from tests.api.test_client_imports import send


def _import_and_again(admin_api: Api, session: Session, rows: int) -> None:
    """Import a file of ``rows`` clients, then once more (nothing changes)."""
    text = practice_file(rows)
    response = send(admin_api, text)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["totals"]["created"] == rows
    assert session.scalar(select(func.count()).select_from(Client)) == rows
    assert session.scalar(select(func.count()).select_from(AppointmentSeries)) == rows // 2
    # Every caregiver's number is a contact; every series booked from now to the horizon.
    assert session.scalar(select(func.count()).select_from(Contact)) == rows + (rows + 2) // 3
    booked = select(func.count(func.distinct(Appointment.series_id)))
    assert session.scalar(booked) == rows // 2
    again = send(admin_api, text)
    assert again.get_json()["totals"]["unchanged"] == rows


def test_five_hundred_rows(admin_api: Api, session: Session) -> None:
    _import_and_again(admin_api, session, 500)


@pytest.mark.slow
def test_five_thousand_rows_in_one_import(admin_api: Api, session: Session) -> None:
    _import_and_again(admin_api, session, 5000)
