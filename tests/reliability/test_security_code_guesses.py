"""Guessing the codes of the public sign-in steps, the throttle part of the security suite
for the account routes (``test_security_accounts`` holds the rest): a wrong code at the code
step counts toward the sign-in pause, which then refuses even the right code, however many
addresses the pending sign-in is copied to; a texted reset code ends after five wrong
tries; and codes are asked for once a minute and five an hour per email, with the same
answers for an email nobody has.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from werkzeug.test import TestResponse

from service import reset_codes
from service.db import get_db
from tests.dashboard.conftest import Staff, Web, make_staff, text_of
from tests.dashboard.test_reset_codes import (
    SENT,
    ask,
    enter,
    give_mobile,
    texted_code,
    texting_app,
    wrong,
)
from tests.dashboard.two_step_helpers import T0, code_at, turn_on_for
from tests.fake_twilio import FakeTwilio


@pytest.fixture
def ana(app: Flask) -> Staff:
    return make_staff(app, "ana@practice.test", "Ana Ruiz")


def _code_step(app: Flask, staff: Staff) -> tuple[Web, str]:
    """A browser past the password step of ``staff``, whose two-step sign-in is turned on
    here: the browser and the authenticator's secret."""
    secret, _ = turn_on_for(app, staff)
    web = Web(app.test_client())
    assert web.login(staff.email).headers["Location"] == "/login/code"
    return web, secret


def test_wrong_codes_at_the_code_step_pause_sign_in_and_then_refuse_the_right_code(
    app: Flask, ana: Staff
) -> None:
    with time_machine.travel(T0, tick=False):  # 2:00 PM in the practice's zone
        web, secret = _code_step(app, ana)
        right = code_at(secret, T0)
        statuses = [web.post("/login/code", {"code": wrong(right)}).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        paused = web.post("/login/code", {"code": right})
        assert paused.status_code == 429
        assert "Try again after 2:15 PM (in 15 minutes)." in text_of(paused)
        assert web.get("/account").status_code == 302


def test_copying_the_pending_sign_in_to_other_addresses_gives_no_more_guesses(
    app: Flask, ana: Staff
) -> None:
    with time_machine.travel(T0, tick=False):
        web, secret = _code_step(app, ana)
        token, cookie = web.token(), web.http.get_cookie("session")
        assert cookie is not None
        copies = [app.test_client() for _ in range(6)]
        for copy in copies:
            copy.set_cookie("session", cookie.value)

        def guess(i: int, code: str) -> TestResponse:
            address = {"REMOTE_ADDR": f"198.51.100.{i + 1}"}
            data = {"csrf_token": token, "code": code}
            return copies[i].post("/login/code", data=data, environ_base=address)

        right = code_at(secret, T0)
        statuses = [guess(i, wrong(right)).status_code for i in range(5)]
        assert statuses[:4] == [200] * 4 and statuses[4] in (200, 429)  # refused, not sent away
        late = guess(5, right)  # five wrong codes in all: the sixth address waits too
        assert late.status_code == 429, "each address had five guesses of its own"
        assert copies[5].get("/account").status_code == 302


@pytest.fixture
def texting(make_app: Callable[..., Flask], fake: FakeTwilio) -> Flask:
    """An app texting reset codes through the local Twilio."""
    return texting_app(make_app, fake)


def _with_mobile(app: Flask) -> Staff:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    with get_db(app).session() as session:
        return give_mobile(session, ana)


def test_five_wrong_reset_codes_end_the_code_and_then_refuse_the_right_one(
    texting: Flask, fake: FakeTwilio
) -> None:
    ana, web = _with_mobile(texting), Web(texting.test_client())
    ask(web, ana.email)
    code = texted_code(fake)
    answers = [enter(web, ana.email, wrong(code)) for _ in range(reset_codes.MAX_TRIES)]
    assert {a.status_code for a in answers} == {422}
    assert "that was its last try. Ask for a new code." in text_of(answers[-1])
    late = enter(web, ana.email, code)
    assert late.status_code == 422 and reset_codes.dead_message() in text_of(late)
    assert Web(texting.test_client()).login(ana.email).status_code == 302  # password kept


def test_codes_are_asked_for_once_a_minute_five_an_hour_alike_for_any_email(
    texting: Flask, fake: FakeTwilio
) -> None:
    emails = [_with_mobile(texting).email, "nobody@practice.test"]
    start, pages = datetime.now(UTC), list[str]()
    for email in emails:
        web = Web(texting.test_client())
        for seconds in (0, 30, 61, 122, 183, 244, 305):
            with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
                pages.append(ask(web, email))
    known, unknown = pages[:7], pages[7:]
    assert known == unknown
    assert [SENT in page for page in known] == [True, False, True, True, True, True, False]
    assert "Wait a minute before asking again." in known[1]
    assert "5 codes were asked for in the last hour. Ask again in 55 minutes." in known[6]
    assert len(fake.sent) == 5
