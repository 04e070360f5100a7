"""What a signed-in browser alone cannot do to an account: an admin's routes aimed at their
own account, which would skip the password their own pages ask for; and attempts on one
account are judged one after the other, so parallel guesses get no more tries."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import accounts
from service.account_models import PasswordReset
from service.dashboard import throttle
from service.db import get_db
from service.models import AuditEntry, User
from tests.conftest import WRITE_LOCK_ONLY
from tests.dashboard.conftest import Staff, Web, signed_in
from tests.dashboard.two_step_helpers import turn_on_for


def _count(session: Session, model: type[AuditEntry] | type[PasswordReset], *where: object) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_an_admin_cannot_issue_a_reset_link_for_their_own_account(
    as_boss: Web, boss: Staff, session: Session
) -> None:
    response = as_boss.post(f"/admin/users/{boss.id}/reset-link")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert _count(session, PasswordReset) == 0
    page = as_boss.get(f"/admin/users/{boss.id}").get_data(as_text=True)
    assert f"/admin/users/{boss.id}/reset-link" not in page


def test_an_admin_cannot_turn_off_their_own_two_step_sign_in_from_the_admin_page(
    app: Flask, boss: Staff, session: Session
) -> None:
    as_boss = signed_in(app, boss)  # before two-step is on: the code step is not tested here
    turn_on_for(app, boss)
    response = as_boss.post(f"/admin/users/{boss.id}/two-step/off")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    session.expire_all()
    assert session.get_one(User, boss.id).totp_enabled_at is not None
    assert _count(session, AuditEntry, AuditEntry.action == "two_step_disabled") == 0
    page = as_boss.get(f"/admin/users/{boss.id}").get_data(as_text=True)
    assert f"/admin/users/{boss.id}/two-step/off" not in page


def test_an_admin_turning_off_an_enrolment_never_finished_records_no_change(
    as_boss: Web, ana: Staff, session: Session
) -> None:
    user = session.get_one(User, ana.id)
    user.totp_secret = "JBSWY3DPEHPK3PXP"  # enrolment begun, never finished
    session.commit()
    assert as_boss.post(f"/admin/users/{ana.id}/two-step/off").status_code == 302
    session.expire_all()
    assert session.get_one(User, ana.id).totp_secret is None
    assert _count(session, AuditEntry, AuditEntry.action == "two_step_disabled") == 0


def test_signing_out_everywhere_twice_at_once_counts_both(app: Flask, ana: Staff) -> None:
    db = get_db(app)
    with db.session() as first, db.session() as second:
        mine, theirs = first.get_one(User, ana.id), second.get_one(User, ana.id)
        accounts.sign_out_everywhere(mine)
        first.commit()
        accounts.sign_out_everywhere(theirs)  # read the version before the first counted
        second.commit()
        assert theirs.session_version == 2


@pytest.mark.parametrize("email", ["ana@practice.test", "nobody@practice.test"])
def test_parallel_wrong_passwords_get_no_more_tries_than_one_after_another(
    app: Flask, ana: Staff, session: Session, dialect: str, email: str
) -> None:
    """Alike for an email with an account and one without: the answers tell nothing."""
    if dialect != "postgresql":
        pytest.skip(WRITE_LOCK_ONLY)
    guesses = 12
    start = threading.Barrier(guesses)

    def guess(n: int) -> int:
        web = Web(app.test_client())
        token = web.token()
        start.wait(timeout=10)
        data = {"csrf_token": token, "email": email, "password": f"guess number {n}"}
        return web.http.post("/login", data=data).status_code

    with ThreadPoolExecutor(guesses) as pool:
        statuses = sorted(pool.map(guess, range(guesses)))
    judged = _count(session, AuditEntry, AuditEntry.action == throttle.ACTION)
    assert judged == throttle.MAX_FAILURES
    assert statuses.count(429) == guesses - throttle.MAX_FAILURES + 1  # the fifth pauses too
