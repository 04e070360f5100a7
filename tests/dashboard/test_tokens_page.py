"""API tokens on the account page (shown once, listed by name, revoked), everyone's tokens
for admins, and the operators' ``create-token`` command."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import accounts
from service.models import ApiToken, User
from tests.dashboard.account_helpers import audits
from tests.dashboard.conftest import PASSWORD, Staff, Web, signed_in, text_of

TOKEN = re.compile(r"tb_[A-Za-z0-9_-]{20,}")
NEVER_USED = '<td data-label="Last used">never</td>'


def _make(web: Web, name: str) -> str:
    """Make a token on the account page; the token the answer shows."""
    response = web.post("/account/tokens", {"name": name, "current_password": PASSWORD})
    assert response.status_code == 200, text_of(response)
    found = TOKEN.search(response.get_data(as_text=True))
    assert found is not None
    return found.group(0)


def _api(app: Flask, token: str) -> int:
    response = app.test_client().get(
        "/api/v1/clients", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


def _token(session: Session, name: str) -> ApiToken:
    session.expire_all()
    return session.scalars(select(ApiToken).where(ApiToken.name == name)).one()


def test_a_token_is_shown_once_and_stored_only_as_a_hash(
    app: Flask, as_ana: Web, ana: Staff, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = as_ana.post(
        "/account/tokens", {"name": "booking sync", "current_password": PASSWORD}
    )
    token = _make(as_ana, "booking sync")  # a second token of the same name is fine
    assert "shown this once" in text_of(response)
    assert token not in (response.headers.get("Set-Cookie") or "")  # never flashed
    row = _token_rows(session, ana)[0]
    assert (row.name, row.user_id) == ("booking sync", ana.id)
    assert token not in row.token_hash and len(row.token_hash) == 64
    page = as_ana.get("/account").get_data(as_text=True)
    assert "booking sync" in page and TOKEN.search(page) is None  # never again
    assert _api(app, token) == 200
    entries = audits(session, "token_created")
    assert [(e.user_id, e.entity, e.detail) for e in entries] == [
        (ana.id, "api_token", {"name": "booking sync"})
    ] * 2
    for text in (caplog.text, *(repr(e.detail) for e in entries)):
        assert "tb_" not in text


def _token_rows(session: Session, staff: Staff) -> list[ApiToken]:
    session.expire_all()
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == staff.id)))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the token a name"),
        ("   ", "Give the token a name"),
        ("x" * 101, "At most 100 characters"),
        ("bad\x01name", "cannot be stored"),
    ],
)
def test_a_token_needs_a_short_name(
    as_ana: Web, ana: Staff, session: Session, name: str, message: str
) -> None:
    response = as_ana.post("/account/tokens", {"name": name})
    assert response.status_code == 422
    assert message in text_of(response)
    assert TOKEN.search(response.get_data(as_text=True)) is None
    assert _token_rows(session, ana) == []


@pytest.mark.parametrize("typed", [None, "", "not my password", "x" * 5000])
def test_making_a_token_asks_for_the_current_password(
    app: Flask, as_ana: Web, ana: Staff, session: Session, typed: str | None
) -> None:
    form = {"name": "stolen session"} | ({} if typed is None else {"current_password": typed})
    response = as_ana.post("/account/tokens", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "That is not your current password." in text_of(response)
    assert TOKEN.search(page) is None and 'value="stolen session"' in page
    assert _token_rows(session, ana) == [] and audits(session, "token_created") == []
    # A wrong one counts toward the sign-in throttle, like a failed sign-in.
    assert [e.entity_id for e in audits(session, "login_failed")] == [ana.email]
    assert len(audits(session, "token_create_failed")) == 1


def test_the_list_shows_name_creation_and_last_use(
    app: Flask, ana: Staff, session: Session
) -> None:
    made = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)
    with time_machine.travel(made, tick=False):
        as_ana = signed_in(app, ana)
        token = _make(as_ana, "reports")
        assert NEVER_USED in as_ana.get("/account").get_data(as_text=True)
    with time_machine.travel(made + timedelta(days=2), tick=False):
        assert _api(app, token) == 200
        page = signed_in(app, ana).get("/account").get_data(as_text=True)
    assert "reports" in page and "Wed Mar 6 2030, 9:00 AM" in page and NEVER_USED not in page
    row = _token(session, "reports")
    assert (row.created_at, row.last_used_at) == (made, made + timedelta(days=2))


def test_a_user_revokes_their_token(app: Flask, as_ana: Web, ana: Staff, session: Session) -> None:
    token = _make(as_ana, "old laptop")
    row = _token(session, "old laptop")
    response = as_ana.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert "revoked" in text_of(as_ana.get("/account"))
    assert _api(app, token) == 401
    assert _token(session, "old laptop").revoked_at is not None
    assert "old laptop" not in text_of(as_ana.get("/account"))  # revoked ones are hidden
    [entry] = audits(session, "token_revoked")
    assert (entry.user_id, entry.entity_id, entry.detail) == (
        ana.id,
        str(row.id),
        {"name": "old laptop"},
    )
    assert as_ana.post(f"/account/tokens/{row.id}/revoke").status_code == 404  # once


def test_another_users_token_is_not_found(
    app: Flask, as_ana: Web, as_ben: Web, session: Session
) -> None:
    token = _make(as_ben, "ben's sync")
    row = _token(session, "ben's sync")
    for token_id in (row.id, 2**31 - 2):
        response = as_ana.post(f"/account/tokens/{token_id}/revoke")
        assert response.status_code == 404
        assert "ben's sync" not in response.get_data(as_text=True)
    assert _token(session, "ben's sync").revoked_at is None
    assert _api(app, token) == 200
    assert "ben&#39;s sync" not in as_ana.get("/account").get_data(as_text=True)
    assert audits(session, "token_revoked") == []


def test_an_admin_sees_and_revokes_every_token(
    app: Flask, as_ana: Web, as_boss: Web, boss: Staff, session: Session
) -> None:
    token = _make(as_ana, "ana's sync")
    _make(as_boss, "boss's own")
    row = _token(session, "ana's sync")
    page = as_boss.get("/admin/tokens")
    assert page.status_code == 200
    words = text_of(page)
    assert "Ana Ruiz" in words and "ana&#39;s sync" in page.get_data(as_text=True)
    assert "boss&#39;s own" in page.get_data(as_text=True) and TOKEN.search(words) is None
    assert "Everyone's API tokens" in as_boss.get("/admin/users").get_data(as_text=True)
    response = as_boss.post(f"/admin/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert _api(app, token) == 401
    [entry] = audits(session, "token_revoked")
    assert (entry.user_id, entry.entity_id) == (boss.id, str(row.id))
    assert entry.detail == {"name": "ana's sync", "owner": row.user_id}
    assert "revoked" in text_of(as_boss.get("/admin/tokens"))  # the message, once
    assert "ana&#39;s sync" not in as_boss.get("/admin/tokens").get_data(as_text=True)
    assert as_boss.post(f"/admin/tokens/{row.id}/revoke").status_code == 404
    assert as_boss.post(f"/admin/tokens/{2**31 - 2}/revoke").status_code == 404


def test_a_therapist_cannot_see_or_revoke_everyones_tokens(
    as_ana: Web, as_ben: Web, session: Session
) -> None:
    _make(as_ben, "ben's sync")
    row = _token(session, "ben's sync")
    assert as_ana.get("/admin/tokens").status_code == 403
    assert as_ana.post(f"/admin/tokens/{row.id}/revoke").status_code == 403
    assert _token(session, "ben's sync").revoked_at is None


def test_create_token_names_the_token_and_is_audited(
    app: Flask, ana: Staff, runner: FlaskCliRunner, session: Session
) -> None:
    result = runner.invoke(args=["create-token", ana.email, "--name", "nightly export"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert _api(app, token) == 200
    assert _token(session, "nightly export").user_id == ana.id
    result = runner.invoke(args=["create-token", ana.email])
    assert result.exit_code == 0, result.output
    assert _token(session, "made on the command line").user_id == ana.id
    details = [e.detail for e in audits(session, "token_created")]
    assert details == [
        {"name": "nightly export", "via": "cli"},
        {"name": "made on the command line", "via": "cli"},
    ]
    for bad in ("", "x" * 101):
        result = runner.invoke(args=["create-token", ana.email, "--name", bad])
        assert result.exit_code != 0 and "a name of 1 to 100 characters" in result.output


def test_tokens_made_before_names_are_listed_without_one(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    user = session.get_one(User, ana.id)
    accounts.create_token(session, user)
    session.commit()
    assert "without a name" in text_of(as_ana.get("/account"))
