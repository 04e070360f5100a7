"""Security headers on every dashboard response, and CSRF tokens on every form post."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from service.dashboard.security import CSP
from service.models import Alert
from tests.dashboard.conftest import Staff, Web
from tests.factories import client_with_phone

EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def test_the_policy_is_the_one_asked_for() -> None:
    assert EXPECTED["Content-Security-Policy"] == CSP


@pytest.mark.parametrize(
    "path", ["/", "/schedule", "/clients", "/export", "/clients/999", "/static/style.css"]
)
def test_every_dashboard_response_carries_the_headers(as_ana: Web, path: str) -> None:
    with as_ana.get(path) as response:  # a static file is streamed: close it
        assert response.status_code in (200, 404)
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, name


def test_anonymous_pages_carry_them_too(web: Web) -> None:
    for response in (web.get("/login"), web.get("/")):
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, name


def test_pages_about_clients_are_not_cached(as_ana: Web) -> None:
    assert as_ana.get("/clients").headers["Cache-Control"] == "no-store"


def test_the_json_api_is_left_as_it_was(client: Flask) -> None:
    response = client.get("/api/v1/clients")  # type: ignore[attr-defined]
    assert response.status_code == 401
    assert "Content-Security-Policy" not in response.headers


def test_a_post_without_a_token_is_refused(as_ana: Web, ana: Staff, session: Session) -> None:
    client, _ = client_with_phone(session, therapist_id=ana.id)
    alert = Alert(kind="pain", client_id=client.id, detail="pain 9/10")
    session.add(alert)
    session.commit()
    response = as_ana.http.post(f"/alerts/{alert.id}/handled")
    assert response.status_code == 400
    wrong = as_ana.http.post(f"/alerts/{alert.id}/handled", data={"csrf_token": "forged"})
    assert wrong.status_code == 400
    session.refresh(alert)
    assert alert.handled_at is None
    assert as_ana.post(f"/alerts/{alert.id}/handled").status_code == 302
    session.refresh(alert)
    assert alert.handled_at is not None


def test_the_login_form_needs_its_token_too(web: Web, ana: Staff) -> None:
    response = web.http.post("/login", data={"email": ana.email, "password": "long-enough-pw"})
    assert response.status_code == 400
    assert web.get("/").status_code == 302


def test_no_page_has_inline_script_or_style(as_boss: Web) -> None:
    for path in ("/", "/clients", "/schedule", "/export", "/admin/users", "/clients/new"):
        html = as_boss.get(path).get_data(as_text=True)
        assert re.findall(r"<script(?![^>]*\ssrc=)", html) == []  # only script files
        assert "style=" not in html
        assert "<style" not in html
