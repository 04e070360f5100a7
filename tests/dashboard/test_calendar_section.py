"""The Calendar section of the account page: make, show, replace and revoke one's private
calendar address, audited without the token."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.dashboard.account_helpers import audits
from tests.dashboard.calendar_helpers import address_of
from tests.dashboard.conftest import Staff, Web, make_staff, signed_in, text_of

ADDRESS = re.compile(r'value="(http://localhost/calendar/([A-Za-z0-9_-]{43})\.ics)"')


def _shown(web: Web) -> tuple[str, str] | None:
    """The address the account page shows, and its token; None when it shows none."""
    page = web.get("/account").get_data(as_text=True)
    found = ADDRESS.search(page)
    if found is None:
        return None
    assert f'href="webcal://localhost/calendar/{found.group(2)}.ics"' in html.unescape(page)
    return found.group(1), found.group(2)


def test_make_replace_and_revoke_the_address(
    app: Flask, as_ana: Web, ana: Staff, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    feed = app.test_client()
    page = text_of(as_ana.get("/account"))
    assert "You have no calendar address." in page and "your sessions" in page
    made = as_ana.post("/account/calendar-link")
    assert made.status_code == 302
    assert "Your calendar address is made" in text_of(as_ana.get("/account"))
    shown = _shown(as_ana)
    assert shown is not None
    url, token = shown
    assert _shown(as_ana) == shown  # the same address at every visit
    assert feed.get(url.removeprefix("http://localhost")).status_code == 200

    as_ana.post("/account/calendar-link")  # replace
    replaced = _shown(as_ana)
    assert replaced is not None and replaced != shown
    assert feed.get(url.removeprefix("http://localhost")).status_code == 404
    assert feed.get(replaced[0].removeprefix("http://localhost")).status_code == 200

    as_ana.post("/account/calendar-link/revoke")
    page = text_of(as_ana.get("/account"))
    assert "Your calendar address is revoked" in page
    assert "You have no calendar address." in page
    assert feed.get(replaced[0].removeprefix("http://localhost")).status_code == 404
    as_ana.post("/account/calendar-link/revoke")
    assert "You have no calendar address to revoke." in text_of(as_ana.get("/account"))

    created = audits(session, "calendar_link_created")
    assert [(e.user_id, e.detail) for e in created] == [
        (ana.id, {"replaced": False}),
        (ana.id, {"replaced": True}),
    ]
    assert [e.entity_id for e in audits(session, "calendar_link_revoked")] == [created[1].entity_id]
    everything = caplog.text + repr([(e.entity_id, e.detail) for e in created])
    assert token not in everything and replaced[1] not in everything


def test_an_admins_address_is_for_every_therapist(as_boss: Web) -> None:
    assert "every therapist's sessions" in text_of(as_boss.get("/account"))


def test_the_forms_need_the_csrf_token(as_ana: Web) -> None:
    assert as_ana.http.post("/account/calendar-link").status_code == 400


def test_under_another_secret_key_the_address_works_but_cannot_be_shown(
    app: Flask, ana: Staff, make_app: Callable[..., Flask]
) -> None:
    path = address_of(app, ana.id)
    rekeyed = make_app(SECRET_KEY="another-secret-key")
    web = signed_in(rekeyed, ana)
    assert _shown(web) is None
    assert "It cannot be shown again" in text_of(web.get("/account"))
    assert rekeyed.test_client().get(path).status_code == 200
    web.post("/account/calendar-link")
    assert _shown(web) is not None
    assert rekeyed.test_client().get(path).status_code == 404


def test_a_new_account_has_no_address(app: Flask) -> None:
    staff = make_staff(app, "cy@practice.test", "Cy Fox")
    assert "You have no calendar address." in text_of(signed_in(app, staff).get("/account"))
