"""The admin's accounts page: edit name, email and role, keep an admin, unlock sign-in,
and the links to other help (reset link, two-step off) where they exist."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.dashboard import admin
from service.db import get_db, utcnow
from service.models import User
from tests.conftest import WRITE_LOCK_ONLY
from tests.dashboard.account_helpers import audits, stored_user
from tests.dashboard.conftest import Staff, Web, make_staff, signed_in, text_of
from tests.dashboard.two_step_helpers import code_at, turn_on_for

NOBODY = 2**31 - 2


def test_an_admin_edits_name_email_and_role(
    as_boss: Web, boss: Staff, ana: Staff, session: Session, web: Web
) -> None:
    page = as_boss.get(f"/admin/users/{ana.id}")
    assert page.status_code == 200
    assert 'value="ana@practice.test"' in page.get_data(as_text=True)
    response = as_boss.post(
        f"/admin/users/{ana.id}",
        {"name": "Ana María Ruiz", "email": " Ana.Ruiz@Practice.TEST ", "role": "admin"},
    )
    assert response.status_code == 302
    user = stored_user(session, ana)
    assert (user.name, user.email, user.role) == (
        "Ana María Ruiz",
        "ana.ruiz@practice.test",
        "admin",
    )
    [entry] = audits(session, "user_changed")
    assert (entry.user_id, entry.entity, entry.entity_id) == (boss.id, "user", str(ana.id))
    assert entry.detail == {
        "changed": {
            "name": ["Ana Ruiz", "Ana María Ruiz"],
            "email": ["ana@practice.test", "ana.ruiz@practice.test"],
            "role": ["therapist", "admin"],
        }
    }
    assert web.login("ana.ruiz@practice.test").status_code == 302  # signs in with the new one
    assert "saved" in text_of(as_boss.get("/admin/users"))


def test_an_unchanged_form_changes_nothing(as_boss: Web, ana: Staff, session: Session) -> None:
    form = {"name": "Ana Ruiz", "email": "ana@practice.test", "role": "therapist"}
    assert as_boss.post(f"/admin/users/{ana.id}", form).status_code == 302
    assert audits(session, "user_changed") == []


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "email": "ana@practice.test"}, "Required."),
        ({"name": "Ana", "email": "not an email"}, "Not an email address."),
        ({"name": "Ana", "email": "BEN@practice.test"}, "Another account has this email."),
        ({"name": "Ana", "email": "a@b.c" + "x" * 300}, "At most 254 characters"),
        # 250 characters as typed, 490 once lowercased ("İ" becomes two)
        ({"name": "Ana", "email": "İ" * 245 + "@x.co"}, "At most 254 characters"),
        ({"name": "Ana", "email": "ana@practice.test", "role": "owner"}, "Choose one of"),
    ],
)
def test_a_bad_edit_says_why_and_changes_nothing(
    as_boss: Web, ana: Staff, ben: Staff, session: Session, form: dict[str, str], message: str
) -> None:
    response = as_boss.post(f"/admin/users/{ana.id}", {"role": "therapist", **form})
    assert response.status_code == 422
    assert message in text_of(response)
    user = stored_user(session, ana)
    assert (user.name, user.email, user.role) == ("Ana Ruiz", "ana@practice.test", "therapist")
    assert audits(session, "user_changed") == []


def test_the_last_active_admin_stays_an_admin(
    app: Flask, as_boss: Web, boss: Staff, session: Session
) -> None:
    form = {"name": "Bo Boss", "email": boss.email, "role": "therapist"}
    response = as_boss.post(f"/admin/users/{boss.id}", form)
    assert response.status_code == 422
    assert "last active admin" in text_of(response)
    assert stored_user(session, boss).role == "admin"
    # With a second admin, one may step down (and lands on their own account page).
    make_staff(app, "cy@practice.test", "Cy Chen", admin=True)
    response = as_boss.post(f"/admin/users/{boss.id}", form)
    assert response.status_code == 302 and response.location.endswith("/account")
    assert stored_user(session, boss).role == "therapist"
    assert as_boss.get("/admin/users").status_code == 403


def test_a_deactivated_admin_does_not_count_as_the_other_admin(
    app: Flask, as_boss: Web, boss: Staff, session: Session
) -> None:
    cy = make_staff(app, "cy@practice.test", "Cy Chen", admin=True)
    assert as_boss.post(f"/admin/users/{cy.id}/active", {"active": "no"}).status_code == 302
    assert stored_user(session, cy).active is False
    form = {"name": "Bo Boss", "email": boss.email, "role": "therapist"}
    assert as_boss.post(f"/admin/users/{boss.id}", form).status_code == 422
    assert as_boss.post(f"/admin/users/{boss.id}/active", {"active": "no"}).status_code == 302
    assert stored_user(session, boss).active is True  # nor oneself


def _fail_logins(app: Flask, email: str, address: str, times: int = 5) -> None:
    browser = Web(app.test_client())
    for _ in range(times):
        browser.login(email, "not the password", REMOTE_ADDR=address)


def test_a_locked_account_is_shown_and_unlocked(
    app: Flask, boss: Staff, ana: Staff, session: Session
) -> None:
    start = datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        as_boss = signed_in(app, boss)
        _fail_logins(app, ana.email, "203.0.113.9")  # locked from that address only
        row = as_boss.get("/admin/users").get_data(as_text=True)
        ana_row = row.split(f"/admin/users/{ana.id}", 1)[1].split("</tr>", 1)[0]
        assert "locked" in ana_row
        page = text_of(as_boss.get(f"/admin/users/{ana.id}"))
        assert "Unlock sign-in" in page
        assert as_boss.post(f"/admin/users/{ana.id}/unlock").status_code == 302
        assert "Ana Ruiz can sign in again" in text_of(as_boss.get(f"/admin/users/{ana.id}"))
        assert "Unlock sign-in" not in text_of(as_boss.get(f"/admin/users/{ana.id}"))
        browser = Web(app.test_client())
        assert browser.login(ana.email, REMOTE_ADDR="203.0.113.9").status_code == 302
    [entry] = audits(session, "login_unlocked")
    assert (entry.user_id, entry.entity_id) == (boss.id, ana.email)


def test_a_pause_made_by_wrong_codes_from_several_addresses_is_shown_and_lifted(
    app: Flask, boss: Staff, ana: Staff
) -> None:
    as_boss, now = signed_in(app, boss), datetime.now(UTC)
    secret, _ = turn_on_for(app, ana, now)
    right = {code_at(secret, now, steps) for steps in range(-2, 3)}
    wrong = [code for n in range(10) if (code := f"{n:06d}") not in right]
    for code, address in zip(wrong, ["10.0.0.1"] * 3 + ["10.0.0.2"] * 2, strict=False):
        browser = Web(app.test_client())
        assert browser.login(ana.email, REMOTE_ADDR=address).status_code == 302
        data = {"csrf_token": browser.token(), "code": code}
        answer = browser.http.post("/login/code", data=data, environ_base={"REMOTE_ADDR": address})
        assert "not right" in text_of(answer) or answer.status_code == 429
    page = text_of(as_boss.get(f"/admin/users/{ana.id}"))
    assert "Unlock sign-in" in page  # paused per account, though no address made five
    assert as_boss.post(f"/admin/users/{ana.id}/unlock").status_code == 302
    assert "Unlock sign-in" not in text_of(as_boss.get(f"/admin/users/{ana.id}"))


def test_new_accounts_refuse_an_email_too_long_once_lowercased(as_boss: Web) -> None:
    form = {"name": "Ina", "email": "İ" * 245 + "@x.co", "role": "therapist"}
    response = as_boss.post("/admin/users/new", {**form, "password": "a long enough pass phrase"})
    assert response.status_code == 422 and "At most 254 characters" in text_of(response)


def test_a_lock_ends_on_its_own_and_the_list_says_so(app: Flask, boss: Staff, ana: Staff) -> None:
    start = datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        _fail_logins(app, ana.email, "203.0.113.9", times=4)
        page = signed_in(app, boss).get(f"/admin/users/{ana.id}")
        assert "Unlock sign-in" not in text_of(page)  # four tries lock nothing
        _fail_logins(app, ana.email, "203.0.113.9", times=1)
        assert "Unlock sign-in" in text_of(signed_in(app, boss).get(f"/admin/users/{ana.id}"))
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert utcnow() == start + timedelta(minutes=16)
        page = signed_in(app, boss).get(f"/admin/users/{ana.id}")
        assert "Unlock sign-in" not in text_of(page)


def test_help_with_signing_in_links_to_what_exists(
    app: Flask, as_boss: Web, ana: Staff, session: Session
) -> None:
    user = session.get_one(User, ana.id)
    user.totp_enabled_at = utcnow()
    session.commit()
    page = text_of(as_boss.get(f"/admin/users/{ana.id}"))
    assert "two-step sign-in on" in page
    # The reset link and turning two-step off are other pages' features: offered once
    # the app has them (after the merge of issue 15's branches), never a broken link.
    resets = "dashboard.password_resets.issue_link" in app.view_functions
    two_step_off = "dashboard.two_step.admin_turn_off" in app.view_functions
    assert ("Issue a reset link" in page) == resets
    assert ("Turn off two-step sign-in" in page) == two_step_off
    assert "Deactivate the account" in page


def test_unknown_accounts_are_not_found(as_boss: Web) -> None:
    assert as_boss.get(f"/admin/users/{NOBODY}").status_code == 404
    form = {"name": "X", "email": "x@practice.test", "role": "therapist"}
    assert as_boss.post(f"/admin/users/{NOBODY}", form).status_code == 404
    assert as_boss.post(f"/admin/users/{NOBODY}/unlock").status_code == 404
    assert as_boss.post(f"/admin/users/{NOBODY}/active", {"active": "no"}).status_code == 404


def test_a_therapist_may_not_edit_or_unlock_accounts(
    as_ana: Web, ben: Staff, session: Session
) -> None:
    form = {"name": "Taken Over", "email": "ben@practice.test", "role": "admin"}
    assert as_ana.get(f"/admin/users/{ben.id}").status_code == 403
    assert as_ana.post(f"/admin/users/{ben.id}", form).status_code == 403
    assert as_ana.post(f"/admin/users/{ben.id}/unlock").status_code == 403
    assert (stored_user(session, ben).name, stored_user(session, ben).role) == (
        "Ben Okafor",
        "therapist",
    )
    assert audits(session, "login_unlocked") == []


def _wait_until_blocked(session: Session) -> None:
    """Until another transaction waits for a row lock on the accounts (seconds at most)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query LIKE '%users%'"
    )
    deadline = time.monotonic() + 10
    while not session.scalar(waiting):
        assert time.monotonic() < deadline, "the second admin never waited"
        session.rollback()
        time.sleep(0.02)


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app: Flask, boss: Staff, session: Session, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip(WRITE_LOCK_ONLY)
    cy = make_staff(app, "cy@practice.test", "Cy Chen", admin=True)
    db = get_db(app)
    first = db.sessions()
    answers: list[bool] = []

    def second() -> None:
        with db.session() as other:
            answers.append(admin._another_active_admin(other, other.get_one(User, boss.id)))

    try:
        # The first demotes Cy: Bo remains, and the admins stay locked until it commits.
        assert admin._another_active_admin(first, first.get_one(User, cy.id))
        first.get_one(User, cy.id).role = "therapist"
        thread = threading.Thread(target=second)
        thread.start()
        _wait_until_blocked(session)
        first.commit()
    finally:
        first.close()
    thread.join(timeout=30)
    assert answers == [False]  # then Bo is the last admin: the second demotion is refused
