"""The code step of sign-in: the password alone grants nothing; a code from the app or a
recovery code does, once; wrong codes count toward the throttle."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from service.dashboard import throttle
from service.dashboard.auth import PENDING_LIFETIME
from service.db import get_db
from service.models import User
from tests.dashboard.account_helpers import audits
from tests.dashboard.conftest import Staff, Web, text_of
from tests.dashboard.two_step_helpers import T0, code_at, turn_on_for


def _password_step(web: Web, staff: Staff, **query: str) -> None:
    token = web.token()
    response = web.http.post(
        "/login",
        data={"csrf_token": token, "email": staff.email, "password": "long-enough-pw"},
        query_string=query,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/code"


def _pages(app: Flask) -> list[str]:
    """Every dashboard page without a parameter that needs signing in."""
    return [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("dashboard.")
        and "GET" in (rule.methods or ())
        and not rule.arguments
        and not getattr(app.view_functions[rule.endpoint], "public", False)
    ]


def test_the_password_alone_opens_no_page(web: Web, ana: Staff, app: Flask) -> None:
    turn_on_for(app, ana)
    pages = _pages(app)
    assert {"/", "/account", "/account/two-step", "/settings"} <= set(pages)
    with time_machine.travel(T0, tick=False):
        _password_step(web, ana)
        for path in pages:
            response = web.get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/login"), path
        assert web.http.post("/logout").status_code in (302, 400)
        page = web.get("/login/code")
        assert page.status_code == 200
        assert 'name="code"' in page.get_data(as_text=True)


def test_a_right_code_signs_in_and_goes_where_the_visitor_was_going(
    web: Web, ana: Staff, app: Flask, session: Session
) -> None:
    secret, _ = turn_on_for(app, ana)
    with time_machine.travel(T0, tick=False):
        _password_step(web, ana, next="/schedule")
        response = web.post("/login/code", {"code": code_at(secret, T0)})
        assert response.status_code == 302
        assert response.headers["Location"] == "/schedule"
        assert web.get("/clients").status_code == 200
    (login,) = audits(session, "login")
    assert login.user_id == ana.id
    assert login.detail is not None and login.detail["method"] == "totp"


def test_a_code_is_used_once(web: Web, ana: Staff, app: Flask) -> None:
    secret, _ = turn_on_for(app, ana)
    code = code_at(secret, T0)
    with time_machine.travel(T0, tick=False) as clock:
        _password_step(web, ana)
        assert web.post("/login/code", {"code": code}).status_code == 302
        web.post("/logout")
        clock.shift(10)  # the same step still: the app still shows this code
        _password_step(web, ana)
        replayed = web.post("/login/code", {"code": code})
        assert replayed.status_code == 200
        assert "That code is not right, or was already used." in text_of(replayed)
        # A code of an earlier step than the one used is refused too.
        assert web.post("/login/code", {"code": code_at(secret, T0, -1)}).status_code == 200
        assert web.post("/login/code", {"code": code_at(secret, T0, 1)}).status_code == 302


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_one_step_of_drift_either_way_is_accepted_two_are_not(
    web: Web, ana: Staff, app: Flask, steps: int, accepted: bool
) -> None:
    secret, _ = turn_on_for(app, ana)
    with time_machine.travel(T0, tick=False):
        _password_step(web, ana)
        response = web.post("/login/code", {"code": code_at(secret, T0, steps)})
        assert (response.status_code == 302) is accepted


def test_a_recovery_code_signs_in_once_however_it_is_typed(
    web: Web, ana: Staff, app: Flask, session: Session
) -> None:
    _, recovery = turn_on_for(app, ana)
    typed = " " + recovery[0].upper().replace("-", " ") + " "
    with time_machine.travel(T0, tick=False):
        _password_step(web, ana)
        assert web.post("/login/code", {"code": typed}).status_code == 302
        web.post("/logout")
        _password_step(web, ana)
        again = web.post("/login/code", {"code": recovery[0]})
        assert again.status_code == 200
        assert "already used" in text_of(again)
        assert web.post("/login/code", {"code": recovery[1]}).status_code == 302
        assert "8 recovery codes left" in text_of(web.get("/account"))
    methods = [e.detail["method"] for e in audits(session, "login") if e.detail]
    assert methods == ["recovery_code", "recovery_code"]


def test_another_users_recovery_code_does_not_sign_in(
    web: Web, ana: Staff, ben: Staff, app: Flask
) -> None:
    turn_on_for(app, ana)
    _, bens = turn_on_for(app, ben)
    with time_machine.travel(T0, tick=False):
        _password_step(web, ana)
        assert web.post("/login/code", {"code": bens[0]}).status_code == 200


@pytest.mark.parametrize("typed", ["12345a", "1234567", "12345", "", "x" * 5000, "١٢٣٤٥٦"])
def test_a_code_of_the_wrong_shape_gets_a_clear_message(
    web: Web, ana: Staff, app: Flask, typed: str
) -> None:
    turn_on_for(app, ana)
    with time_machine.travel(T0, tick=False):
        _password_step(web, ana)
        response = web.post("/login/code", {"code": typed})
        assert response.status_code == 422
        assert "Enter the 6 digits from your app, or one of your recovery codes." in text_of(
            response
        )


def test_wrong_codes_count_toward_the_throttle_and_lock_the_code_step(
    web: Web, ana: Staff, app: Flask, session: Session
) -> None:
    secret, _ = turn_on_for(app, ana)
    wrong = "000000" if code_at(secret, T0) != "000000" else "111111"
    with time_machine.travel(T0, tick=False):
        web.login(ana.email, "wrong-password")
        _password_step(web, ana)
        for left in (3, 2, 1):
            response = web.post("/login/code", {"code": wrong})
            assert response.status_code == 200
            tries = "1 try" if left == 1 else f"{left} tries"
            assert f"{tries} left before a 15-minute pause." in text_of(response)
        locked = web.post("/login/code", {"code": wrong})
        assert locked.status_code == 429
        # Even the right code waits now, and so does the password.
        assert web.post("/login/code", {"code": code_at(secret, T0)}).status_code == 429
        assert web.login(ana.email).status_code == 429
    failed = audits(session, "login_failed")
    assert len(failed) == throttle.MAX_FAILURES
    assert [e.detail.get("step") for e in failed if e.detail].count("code") == 4
    assert {e.entity_id for e in failed} == {ana.email}


def test_the_code_step_expires(web: Web, ana: Staff, app: Flask) -> None:
    secret, _ = turn_on_for(app, ana)
    with time_machine.travel(T0, tick=False) as clock:
        _password_step(web, ana, next="/schedule")
        clock.shift(PENDING_LIFETIME + timedelta(seconds=1))
        later = T0 + PENDING_LIFETIME + timedelta(seconds=1)
        response = web.post("/login/code", {"code": code_at(secret, later)})
        assert response.status_code == 302
        assert response.headers["Location"] == "/login?next=/schedule"
        assert web.get("/login/code").headers["Location"].startswith("/login")
        assert web.get("/").status_code == 302


@pytest.mark.parametrize("change", ["deactivated", "signed_out_everywhere", "two_step_off"])
def test_the_code_step_ends_when_the_account_changed(
    web: Web, ana: Staff, app: Flask, change: str
) -> None:
    secret, _ = turn_on_for(app, ana)
    with time_machine.travel(T0, tick=False):
        _password_step(web, ana)
        with get_db(app).session() as session:
            user = session.get(User, ana.id)
            assert user is not None
            if change == "deactivated":
                user.active = False
            elif change == "signed_out_everywhere":
                user.session_version += 1
            else:
                user.totp_enabled_at = None
            session.commit()
        response = web.post("/login/code", {"code": code_at(secret, T0)})
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
        assert web.get("/").status_code == 302


def test_the_code_step_needs_a_password_first(web: Web) -> None:
    assert web.get("/login/code").headers["Location"].startswith("/login")
    assert web.post("/login/code", {"code": "123456"}).headers["Location"].startswith("/login")


def test_the_code_step_refuses_a_post_without_the_forms_token(
    web: Web, ana: Staff, app: Flask
) -> None:
    secret, _ = turn_on_for(app, ana)
    with time_machine.travel(T0, tick=False):
        _password_step(web, ana)
        response = web.http.post("/login/code", data={"code": code_at(secret, T0)})
        assert response.status_code == 400


def test_starting_again_at_the_code_step_forgets_the_password_given(
    app: Flask, ana: Staff, web: Web, session: Session
) -> None:
    turn_on_for(app, ana)
    assert web.login(ana.email).status_code == 302
    assert "Start again with your password" in text_of(web.get("/login/code"))
    response = web.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert web.get("/login/code").headers["Location"].startswith("/login")
    assert audits(session, "logout") == []  # nobody was signed in
