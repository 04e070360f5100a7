"""Reading accounts and the audit log back in dashboard tests about accounts."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import get_db
from service.models import AuditEntry, User
from tests.dashboard.conftest import Staff


def stored_user(session: Session, staff: Staff) -> User:
    """The account as stored now, read afresh in the test's session."""
    session.expire_all()
    return session.get_one(User, staff.id)


def audits(session: Session, action: str) -> list[AuditEntry]:
    """Every audit entry of ``action``, read afresh, oldest first."""
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def user_row(app: Flask, staff: Staff) -> User:
    """The account as stored now (detached), read in a session of its own."""
    with get_db(app).session() as session:
        user = session.get(User, staff.id)
        assert user is not None
        session.expunge(user)
        return user
