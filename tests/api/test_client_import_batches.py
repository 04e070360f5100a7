"""Rows written together in batches still see each other: a number of a client earlier in
the same file is another client's, as when each row was written on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEntry
from tests.api.conftest import Api
from tests.api.test_client_imports import send

HEADER = "Name,Phone,Caregiver 1 Name,Caregiver 1 Phone"


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_own_phone_of_a_client_earlier_in_the_file_is_refused_as_shared(
    admin_api: Api, dry_run: bool
) -> None:
    rows = ["Ana Ruiz,617-555-0101,,", "Bea Ruiz,617-555-0101,,"]
    response = send(admin_api, "\n".join([HEADER, *rows]), dry_run=dry_run)
    assert response.status_code == 422
    [refused] = response.get_json()["rows"]
    assert refused["row"] == 3
    assert refused["reason"].startswith("Phone: This number is shared")
    assert "Ana Ruiz" in refused["reason"]


def test_a_caregiver_who_is_a_client_earlier_in_the_file_is_added_as_shared(
    admin_api: Api, session: Session
) -> None:
    rows = ["Ana Ruiz,617-555-0101,,", "Ben Ruiz,617-555-0102,Ana Ruiz,617-555-0101"]
    response = send(admin_api, "\n".join([HEADER, *rows]))
    assert response.status_code == 200, response.get_json()
    ben = response.get_json()["rows"][1]["client_id"]
    [added] = session.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.action == "add_contact", AuditEntry.entity_id == str(ben)
        )
    ).all()
    assert added["shared"] is True
