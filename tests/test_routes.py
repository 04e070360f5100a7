"""Every route that names a record by id answers 404 for an id no row can have, whatever the
method: ids beyond 32 bits are refused by the URL converter, never by the router (a 405).

Routes are read from ``app.url_map``, so a route added later is checked too.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from service.values import MAX_ID
from tests.api.conftest import Api, make_api
from tests.dashboard.conftest import Web, make_staff, signed_in

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
# Beyond int4, beyond int8, and more digits than int() reads (it refuses over 4300).
TOO_BIG = (str(MAX_ID + 1), str(2**63), "9" * 4301)
# The largest id, and the same with more leading zeros than int() reads: looked up, no row.
LARGEST = (str(MAX_ID), "0" * 4301 + str(MAX_ID))
INT_ARGUMENT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")


def id_rules(app: Flask) -> list[Rule]:
    """Every rule with an ``<int:...>`` argument, but the calls' webhooks: Twilio signs
    those, and an unsigned post is refused (403) before any id is read (tests/voice)."""
    return [
        r
        for r in app.url_map.iter_rules()
        if INT_ARGUMENT.search(r.rule) and not r.rule.startswith("/voice/")
    ]


def filled(rule: Rule, digits: str) -> str:
    """The rule's URL with every id argument set to ``digits``."""
    assert set(INT_ARGUMENT.findall(rule.rule)) == set(rule.arguments), rule.rule
    return INT_ARGUMENT.sub(digits, rule.rule)


def send(api: Api, web: Web, csrf: str, method: str, path: str) -> TestResponse:
    """The request as its caller would send it: a bearer token, or a session and CSRF token."""
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {api.token}"}
        body = None if method in ("GET", "DELETE") else {"name": "x", "status": "cancelled"}
        return api.http.open(path, method=method, json=body, headers=headers)
    data = None if method == "GET" else {"csrf_token": csrf, "name": "x", "status": "cancelled"}
    return web.http.open(path, method=method, data=data)


@pytest.fixture
def callers(app: Flask) -> tuple[Api, Web, str]:
    """An admin (every route is open to them) signed in to the API and to the dashboard."""
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    web = signed_in(app, boss)
    return make_api(app, "boss-api@practice.test", admin=True), web, web.token()


def each_request(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) pair that takes an id."""
    pairs = [
        (rule, method)
        for rule in id_rules(app)
        for method in sorted(set(rule.methods or ()) & set(METHODS))
    ]
    endpoints = {rule.endpoint for rule, _ in pairs}
    # The routes named in the report of 405s, as a check that the enumeration found them.
    assert {
        "api.api_schedule.get_appointment",
        "api.api_clients.update_client",
        "api.api_schedule.end_series",
        "api.api_clients.delete_contact",
        "dashboard.admin.set_active",
    } <= endpoints
    return pairs


@pytest.mark.parametrize(
    "digits",
    TOO_BIG + LARGEST,
    ids=["int4", "int8", "4301-digits", "largest", "zero-padded"],
)
def test_an_id_beyond_any_row_is_not_found_for_every_method(
    app: Flask, callers: tuple[Api, Web, str], digits: str
) -> None:
    """Too big for the column (never sent to the database) or the largest it holds (looked
    up, no row): either way a 404 for every route and method."""
    api, web, csrf = callers
    wrong = []
    for rule, method in each_request(app):
        response = send(api, web, csrf, method, filled(rule, digits))
        if response.status_code != 404:
            wrong.append(f"{method} {rule.rule}: {response.status_code}")
    assert not wrong


def test_the_api_answers_its_json_error_for_an_id_too_big(callers: tuple[Api, Web, str]) -> None:
    api, _, _ = callers
    response = api.get(f"/appointments/{MAX_ID + 1}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
