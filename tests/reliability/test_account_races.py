"""Single-use secrets hold when requests arrive at the same moment: a reset link, a texted
reset code and a recovery code each serve one request only, and forty wrong codes at once
still end a texted code after its five tries.

Each request comes from a browser of its own (its own test client and cookie), in a thread
of its own, all released together by a barrier. PostgreSQL only: under SQLite one write lock
makes the requests take turns, so nothing would race. (Two requests with the same code from
the authenticator app: ``tests/test_two_step_codes.py``.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service import accounts, reset_codes, two_step
from service.account_models import PasswordReset
from service.dashboard import throttle
from service.models import AuditEntry, User
from tests.conftest import WRITE_LOCK_ONLY
from tests.dashboard.conftest import PASSWORD, Staff, Web, make_staff, signed_in, text_of
from tests.dashboard.test_password_resets import DEAD, issue
from tests.dashboard.test_reset_codes import (
    NEW,
    ask,
    give_mobile,
    texted_code,
    texting_app,
)
from tests.dashboard.two_step_helpers import code_at, turn_on_for
from tests.fake_twilio import FakeTwilio

BROWSERS = 4
Request = Callable[[], TestResponse]


@pytest.fixture
def app(make_app: Callable[..., Flask], fake: FakeTwilio) -> Flask:
    """The app, texting reset codes through the local Twilio."""
    return texting_app(make_app, fake)


@pytest.fixture
def ana(app: Flask) -> Staff:
    return make_staff(app, "ana@practice.test", "Ana Ruiz")


@pytest.fixture(autouse=True)
def _rows_lock_one_another(dialect: str) -> None:
    if dialect != "postgresql":
        pytest.skip(WRITE_LOCK_ONLY)


def ready(web: Web, path: str, data: dict[str, Any]) -> Request:
    """A form post of ``web`` to send later, its CSRF token read now (not in the race)."""
    form = {"csrf_token": web.token(), **data}
    return lambda: web.http.post(path, data=form, buffered=True)


def at_once(requests: Sequence[Request]) -> list[TestResponse]:
    """The answers to ``requests``, each sent from its own thread, all at the same moment."""
    start = threading.Barrier(len(requests))

    def send(request: Request) -> TestResponse:
        start.wait(timeout=30)
        return request()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests, timeout=60))


def browsers(app: Flask, count: int = BROWSERS) -> list[Web]:
    return [Web(app.test_client()) for _ in range(count)]


def only_password(session: Session, staff: Staff, candidates: list[str]) -> list[str]:
    """Which of ``candidates`` is the account's password now."""
    session.expire_all()
    user = session.get_one(User, staff.id)
    return [p for p in candidates if accounts.check_password(user, p)]


def actions(session: Session, action: str) -> int:
    session.expire_all()
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    return session.scalar(query) or 0


def test_a_reset_link_sent_by_four_browsers_at_once_sets_one_password(
    app: Flask, ana: Staff, session: Session
) -> None:
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    path = issue(signed_in(app, boss), ana)
    passwords = [f"{NEW} {i}" for i in range(BROWSERS)]
    answers = at_once(
        [
            ready(web, path, {"new_password": p})
            for web, p in zip(browsers(app), passwords, strict=True)
        ]
    )
    statuses = [a.status_code for a in answers]
    assert sorted(statuses) == [302, 404, 404, 404]
    assert all(DEAD in text_of(a) for a in answers if a.status_code == 404)
    assert only_password(session, ana, [*passwords, PASSWORD]) == [passwords[statuses.index(302)]]
    assert actions(session, "password_reset") == 1
    assert session.scalars(select(PasswordReset.used_at)).one() is not None


def test_a_texted_code_entered_by_four_browsers_at_once_sets_one_password(
    app: Flask, ana: Staff, session: Session, fake: FakeTwilio
) -> None:
    give_mobile(session, ana)
    ask(Web(app.test_client()), ana.email)
    code = texted_code(fake)
    passwords = [f"{NEW} {i}" for i in range(BROWSERS)]
    form = {"email": ana.email, "code": code}
    answers = at_once(
        [
            ready(web, "/login/forgot/code", {**form, "new_password": p})
            for web, p in zip(browsers(app), passwords, strict=True)
        ]
    )
    statuses = [a.status_code for a in answers]
    assert sorted(statuses) == [302, 422, 422, 422]
    # The others waited for the winner: told the code is spent, with no try used up.
    dead = reset_codes.dead_message()
    assert all(dead in text_of(a) for a in answers if a.status_code == 422)
    assert actions(session, reset_codes.WRONG) == 0
    assert only_password(session, ana, [*passwords, PASSWORD]) == [passwords[statuses.index(302)]]
    assert actions(session, "password_reset") == 1


def test_a_recovery_code_sent_by_four_pending_sign_ins_at_once_signs_in_once(
    app: Flask, ana: Staff, session: Session
) -> None:
    _, recovery = turn_on_for(app, ana, datetime.now(UTC))
    pending = browsers(app)
    for web in pending:  # the password step, each with its own pending sign-in cookie
        assert web.login(ana.email).headers["Location"] == "/login/code"
    answers = at_once([ready(web, "/login/code", {"code": recovery[0]}) for web in pending])
    statuses = [a.status_code for a in answers]
    assert sorted(statuses) == [200, 200, 200, 302]
    assert all("already used" in text_of(a) for a in answers if a.status_code == 200)
    assert [web.get("/account").status_code for web in pending] == [
        200 if status == 302 else 302 for status in statuses
    ]
    assert actions(session, "login") == 1
    assert two_step.recovery_codes_left(session, session.get_one(User, ana.id)) == 9


def test_forty_wrong_codes_at_once_end_a_texted_code_after_five_tries(
    app: Flask, ana: Staff, session: Session, fake: FakeTwilio
) -> None:
    give_mobile(session, ana)
    ask(Web(app.test_client()), ana.email)
    code = texted_code(fake)
    guesses = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 41)]  # all wrong
    form = {"email": ana.email, "new_password": NEW}
    answers = at_once(
        [
            ready(web, "/login/forgot/code", {**form, "code": guess})
            for web, guess in zip(browsers(app, 40), guesses, strict=True)
        ]
    )
    assert {a.status_code for a in answers} == {422}
    session.expire_all()
    reset = session.scalars(select(PasswordReset)).one()
    assert reset.tries == reset_codes.MAX_TRIES and reset.ended_at is not None
    late = Web(app.test_client()).post("/login/forgot/code", {**form, "code": code})
    assert late.status_code == 422 and reset_codes.dead_message() in text_of(late)
    assert only_password(session, ana, [NEW, PASSWORD]) == [PASSWORD]


def test_forty_wrong_app_codes_at_once_get_no_more_tries_than_one_after_another(
    app: Flask, ana: Staff, session: Session
) -> None:
    now = datetime.now(UTC)
    secret, _ = turn_on_for(app, ana, now)
    right = {code_at(secret, now, steps) for steps in range(-2, 3)}
    wrong = [code for n in range(50) if (code := f"{n:06d}") not in right][:40]
    pending = browsers(app, 40)
    for web in pending:
        assert web.login(ana.email).status_code == 302  # the password step, one by one
    guesses = [
        ready(web, "/login/code", {"code": code}) for code, web in zip(wrong, pending, strict=True)
    ]
    answers = at_once(guesses)
    # The fifth wrong code pauses sign-in; the rest wait for the pause, judged in turn.
    assert sum(answer.status_code != 429 for answer in answers) == throttle.MAX_FAILURES - 1
    assert actions(session, throttle.ACTION) == throttle.MAX_FAILURES


def test_thirty_requests_for_a_code_at_once_send_one_text(
    app: Flask, ana: Staff, session: Session, fake: FakeTwilio
) -> None:
    give_mobile(session, ana)
    answers = at_once(
        [ready(web, "/login/forgot", {"email": ana.email}) for web in browsers(app, 30)]
    )
    assert {answer.status_code for answer in answers} == {302}
    assert len(fake.sent) == 1  # one a minute, however many ask at the same moment
    assert actions(session, reset_codes.REQUESTED) == 1
