"""The sign-in throttle warns before it pauses, says when the pause ends, and an admin's
unlock lifts it."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from service.dashboard import throttle
from service.models import User
from tests.dashboard.conftest import Staff, Web, text_of
from tests.dashboard.two_step_helpers import T0

MIN = timedelta(minutes=1)
WRONG = "That email and password do not match an active account."


def _messages(web: Web, email: str) -> list[tuple[int, str]]:
    """Status and error of five wrong passwords in a row."""
    said = []
    for _ in range(throttle.MAX_FAILURES):
        response = web.login(email, "wrong-password")
        page = text_of(response)
        start = page.index("That email") if "That email" in page else page.index("Too many")
        said.append((response.status_code, page[start:].split(" Email ")[0].strip()))
    return said


def test_the_last_tries_are_counted_down_and_the_pause_says_when_it_ends(
    web: Web, ana: Staff
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        said = _messages(web, ana.email)
        assert said == [
            (200, WRONG),
            (200, f"{WRONG} 3 tries left before a 15-minute pause."),
            (200, f"{WRONG} 2 tries left before a 15-minute pause."),
            (200, f"{WRONG} 1 try left before a 15-minute pause."),
            (429, "Too many failed sign-ins. Try again after 2:15 PM (in 15 minutes)."),
        ]
        clock.shift(3 * MIN)
        locked = web.login(ana.email)
        assert locked.status_code == 429
        assert "Try again after 2:15 PM (in 12 minutes)." in text_of(locked)
        clock.shift(12 * MIN)
        assert web.login(ana.email).status_code == 302


def test_an_unknown_email_is_warned_and_paused_the_same(app: Flask, ana: Staff) -> None:
    with time_machine.travel(T0, tick=False):
        known = _messages(Web(app.test_client()), ana.email)
        unknown = _messages(Web(app.test_client()), "nobody@practice.test")
    assert known == unknown


def test_old_failures_stop_counting(web: Web, ana: Staff) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(3):
            web.login(ana.email, "wrong-password")
        clock.shift(throttle.WINDOW + MIN)
        assert text_of(web.login(ana.email, "wrong-password")).count("left before") == 0


def test_after_an_admins_unlock_the_account_signs_in_again(
    app: Flask, web: Web, ana: Staff, boss: Staff, session: Session
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        _messages(web, ana.email)
        assert web.login(ana.email).status_code == 429
        admin = session.get(User, boss.id)
        assert admin is not None
        clock.shift(MIN)
        throttle.unlock(session, admin, ana.email, T0 + MIN)
        session.commit()
        clock.shift(MIN)
        assert web.login(ana.email).status_code == 302
        # The count starts again: one wrong password is no warning yet.
        again = Web(app.test_client())
        assert "left before" not in text_of(again.login(ana.email, "wrong-password"))


def test_tries_left_counts_failures_within_the_window() -> None:
    assert throttle.tries_left([], T0) == throttle.MAX_FAILURES
    assert throttle.tries_left([T0 - MIN, T0], T0) == 3
    assert throttle.tries_left([T0 - throttle.WINDOW - MIN, T0], T0) == 4
    assert throttle.tries_left([T0] * 7, T0) == 0
