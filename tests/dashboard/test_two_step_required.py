"""The practice's requirement of two-step sign-in: users it applies to are sent to enrolment
until they turn it on; the API is not held up."""

from __future__ import annotations

import pyotp
import pytest
import time_machine
from flask import Flask
from werkzeug.test import TestResponse

from service import accounts
from service.db import get_db
from service.models import User
from tests.dashboard.conftest import Staff, Web, make_staff, text_of
from tests.dashboard.two_step_helpers import T0, turn_on_for


def _post(web: Web, path: str, data: dict[str, str] | None = None) -> TestResponse:
    """A form post carrying the CSRF token of the enrolment page (the one page open)."""
    page = web.get("/account/two-step").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return web.http.post(path, data={"csrf_token": token, **(data or {})})


def _sign_in(app: Flask, staff: Staff) -> tuple[Web, str]:
    web = Web(app.test_client())
    response = web.login(staff.email)
    assert response.status_code == 302
    return web, response.headers["Location"]


@pytest.mark.parametrize(
    ("setting", "admin_sent", "therapist_sent"),
    [("TWO_STEP_FOR_ADMINS", True, False), ("TWO_STEP_FOR_EVERYONE", True, True)],
)
def test_a_user_it_applies_to_is_sent_to_enrolment_on_every_page(
    make_app: object, setting: str, admin_sent: bool, therapist_sent: bool
) -> None:
    app = make_app(**{setting: "on"})  # type: ignore[operator]
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    for staff, sent in ((boss, admin_sent), (ana, therapist_sent)):
        web, first = _sign_in(app, staff)
        assert (first == "/account/two-step") is sent
        for path in ("/", "/clients", "/account", "/schedule"):
            response = web.get(path)
            assert (response.headers.get("Location") == "/account/two-step") is sent, path
        page = web.get("/account/two-step")
        assert page.status_code == 200
        assert ("The practice asks you to turn on two-step sign-in" in text_of(page)) is sent
        asset = web.get("/static/style.css")
        assert asset.status_code == 200
        asset.close()
        assert _post(web, "/logout").headers["Location"] == "/login"


def test_once_enrolled_the_pages_open(make_app: object) -> None:
    app = make_app(TWO_STEP_FOR_EVERYONE="on")  # type: ignore[operator]
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    with time_machine.travel(T0, tick=False):
        web, _ = _sign_in(app, ana)
        page = web.get("/account/two-step").get_data(as_text=True)
        secret = page.split('<code id="secret">', 1)[1].split("</code>", 1)[0].replace(" ", "")
        code = pyotp.TOTP(secret).now()
        assert _post(web, "/account/two-step", {"code": code}).status_code == 200
        assert web.get("/clients").status_code == 200


def test_the_saved_setting_applies_at_once(app: Flask, boss: Staff, ana: Staff) -> None:
    as_boss, _ = _sign_in(app, boss)
    saved = as_boss.post("/settings", {"two_step_for_everyone": "on"})
    assert saved.status_code == 302
    assert as_boss.get("/clients").headers["Location"] == "/account/two-step"
    _, first = _sign_in(app, ana)
    assert first == "/account/two-step"


def test_a_user_with_two_step_sign_in_is_not_held_up(make_app: object) -> None:
    app = make_app(TWO_STEP_FOR_EVERYONE="on")  # type: ignore[operator]
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    web = Web(app.test_client())
    with time_machine.travel(T0, tick=False):
        secret, _ = turn_on_for(app, ana)
        assert web.login(ana.email).headers["Location"] == "/login/code"
        web.post("/login/code", {"code": pyotp.TOTP(secret).now()})
        assert web.get("/clients").status_code == 200


def test_api_tokens_are_not_held_up(make_app: object) -> None:
    app = make_app(TWO_STEP_FOR_EVERYONE="on")  # type: ignore[operator]
    with get_db(app).session() as session:
        user = session.get(User, make_staff(app, "ana@practice.test", "Ana Ruiz").id)
        assert user is not None
        token = accounts.create_token(session, user)
        session.commit()
    response = app.test_client().get(
        "/api/v1/settings", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.get_json()["two_step_for_everyone"] is True
