"""Attacks on the account routes of issue 15: a form post without the session's CSRF token,
another user's token or account id, a therapist on an admin's route, an id nobody has, and
guessing a password through a form that asks for it again.

``test_security`` already attacks every route of the app it finds; this file names the
account routes one by one, each with the data that would succeed, so a refusal is the
token's (or the id's) doing and not a missing field's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.test import TestResponse

from service import accounts
from service.account_models import PasswordReset, RecoveryCode
from service.db import get_db, utcnow
from service.models import ApiToken, AuditEntry, User
from tests.dashboard.conftest import PASSWORD, Staff, Web, make_staff, signed_in

NOBODY = 2**31 - 2  # an id no row has
NEW_PASSWORD = "a brand new pass phrase for tests"


@dataclass(frozen=True)
class Route:
    """A route of the account pages: method, path (``{token_id}``, ``{user_id}`` and
    ``{token}`` filled per test), form data that would succeed, and who may use it."""

    method: str
    path: str
    data: Mapping[str, str] = field(default_factory=dict)
    admin: bool = False  # an admin's route: a therapist gets 403, whatever the id
    public: bool = False  # open without signing in (the sign-in steps, resets)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


NEW_MOBILE = {"name": "Taken Over", "phone": "6175550199", "current_password": PASSWORD}
NEW_TOKEN = {"name": "sneaky", "current_password": PASSWORD}
PASSWORD_CHANGE = {
    "current_password": PASSWORD,
    "new_password": NEW_PASSWORD,
    "confirm_password": NEW_PASSWORD,
}
EDIT = {"name": "Taken Over", "email": "taken@practice.test", "role": "admin"}

ROUTES = [
    Route("POST", "/account/profile", NEW_MOBILE),
    Route("POST", "/account/sign-out-everywhere"),
    Route("POST", "/account/tokens", NEW_TOKEN),
    Route("POST", "/account/tokens/{token_id}/revoke"),
    Route("POST", "/account/calendar-link"),
    Route("POST", "/account/calendar-link/revoke"),
    Route("GET", "/admin/users", admin=True),
    Route("GET", "/admin/users/{user_id}", admin=True),
    Route("POST", "/admin/users/{user_id}", EDIT, admin=True),
    Route("POST", "/admin/users/{user_id}/active", {"active": "no"}, admin=True),
    Route("POST", "/admin/users/{user_id}/unlock", admin=True),
    Route("POST", "/admin/users/new", {**EDIT, "password": NEW_PASSWORD}, admin=True),
    Route("GET", "/admin/tokens", admin=True),
    Route("POST", "/admin/tokens/{token_id}/revoke", admin=True),
    Route("POST", "/account/password", PASSWORD_CHANGE),
    Route("POST", "/account/two-step", {"code": "123456"}),
    Route("POST", "/account/two-step/off", {"current_password": PASSWORD}),
    Route("POST", "/account/two-step/recovery-codes", {"current_password": PASSWORD}),
    Route("POST", "/admin/users/{user_id}/reset-link", admin=True),
    Route("POST", "/admin/users/{user_id}/two-step/off", admin=True),
    Route("POST", "/login/code", {"code": "123456"}, public=True),
    Route("POST", "/login/forgot", {"email": "ana@practice.test"}, public=True),
    Route(
        "POST",
        "/login/forgot/code",
        {"email": "ana@practice.test", "code": "123456", "new_password": NEW_PASSWORD},
        public=True,
    ),
    Route("POST", "/reset/{token}", {"new_password": NEW_PASSWORD}, public=True),
]

POSTS = [r for r in ROUTES if r.method == "POST"]
ADMINS = [r for r in ROUTES if r.admin]
WITH_IDS = [r for r in ROUTES if "{token_id}" in r.path or "{user_id}" in r.path]


@dataclass
class People:
    """Ana and Ben (therapists), Bo (admin), and a live API token of each therapist."""

    app: Flask
    ana: Staff
    ben: Staff
    boss: Staff
    ana_token: int
    ben_token: int


def _token(app: Flask, staff: Staff) -> int:
    with get_db(app).session() as session:
        row, _ = accounts.issue_token(session, session.get_one(User, staff.id), "a sync")
        session.commit()
        return row.id


@pytest.fixture
def people(app: Flask) -> People:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    ben = make_staff(app, "ben@practice.test", "Ben Okafor")
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    return People(app, ana, ben, boss, _token(app, ana), _token(app, ben))


def path_of(route: Route, *, token_id: int, user_id: int) -> str:
    return route.path.format(token_id=token_id, user_id=user_id, token="not-a-reset")


def state(app: Flask) -> dict[str, Any]:
    """What an account route could change: the accounts, their tokens, resets and audit."""
    with get_db(app).session() as session:
        users = session.execute(
            select(
                User.id,
                User.name,
                User.email,
                User.role,
                User.active,
                User.phone,
                User.password_hash,
                User.session_version,
                User.totp_enabled_at,
            ).order_by(User.id)
        ).all()
        tokens = session.execute(
            select(ApiToken.id, ApiToken.name, ApiToken.revoked_at).order_by(ApiToken.id)
        ).all()
        return {
            "users": [tuple(u) for u in users],
            "tokens": [tuple(t) for t in tokens],
            "resets": session.scalar(select(func.count()).select_from(PasswordReset)),
            # Reads and sign-ins are not changes; everything else the audit log records is.
            "changes": session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.not_in(("view", "list", "login", "login_failed")))
            ),
        }


def exists(app: Flask, route: Route) -> bool:
    """True when the app answers this route's method at this path."""
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path_of(route, token_id=1, user_id=1), method=route.method)
    except (NotFound, MethodNotAllowed):
        return False
    return True


def send(web: Web, route: Route, path: str, csrf: str | None = "session") -> TestResponse:
    """The request, with the session's CSRF token, none, or the one given."""
    if route.method == "GET":
        return web.http.get(path)
    data = dict(route.data)
    if csrf == "session":
        data["csrf_token"] = web.token()
    elif csrf is not None:
        data["csrf_token"] = csrf
    return web.http.open(path, method=route.method, data=data)


def test_the_table_names_every_account_route(app: Flask) -> None:
    for route in ROUTES:
        assert exists(app, route), route
    account_rules = {
        r.rule
        for r in app.url_map.iter_rules()
        if r.rule.startswith(("/account", "/admin/users", "/admin/tokens", "/login/", "/reset"))
    }
    named = {r.path for r in ROUTES if exists(app, r)} | {"/account"}
    spelled = {
        rule.replace("<int:", "{").replace("<", "{").replace(">", "}") for rule in account_rules
    }
    assert spelled - named == set(), "add the new account routes to ROUTES"


@pytest.mark.parametrize("csrf", [None, "", "forged-" * 8])
@pytest.mark.parametrize("route", POSTS, ids=str)
def test_no_account_form_is_accepted_without_the_sessions_csrf_token(
    people: People, route: Route, csrf: str | None
) -> None:
    app = people.app
    if route.public:
        web = Web(app.test_client())
        web.token()  # the session has a token; the post does not carry it
    else:
        web = signed_in(app, people.boss if route.admin else people.ana)
    token_id = people.ben_token if route.admin else people.ana_token
    path = path_of(route, token_id=token_id, user_id=people.ben.id)
    before = state(app)
    response = send(web, route, path, csrf)
    assert response.status_code == 400, (str(route), response.status_code)
    assert state(app) == before
    if not route.public:  # still signed in: "sign out everywhere" was refused too
        assert web.http.get("/account").status_code == 200


@pytest.mark.parametrize("route", WITH_IDS, ids=str)
def test_another_users_ids_look_like_no_ids_at_all(people: People, route: Route) -> None:
    app = people.app
    web = signed_in(app, people.ana)
    before = state(app)
    theirs = send(web, route, path_of(route, token_id=people.ben_token, user_id=people.ben.id))
    nobodys = send(web, route, path_of(route, token_id=NOBODY, user_id=NOBODY))
    expected = 403 if route.admin else 404  # admins' routes: refused whatever the id
    assert (theirs.status_code, nobodys.status_code) == (expected, expected), str(route)
    assert "Ben Okafor" not in theirs.get_data(as_text=True)
    assert state(app) == before


@pytest.mark.parametrize("route", ADMINS, ids=str)
def test_a_therapist_is_refused_on_every_admins_route(people: People, route: Route) -> None:
    app = people.app
    web = signed_in(app, people.ana)
    before = state(app)
    response = send(web, route, path_of(route, token_id=people.ana_token, user_id=people.ana.id))
    assert response.status_code == 403, str(route)
    assert state(app) == before


@pytest.mark.parametrize("route", [r for r in WITH_IDS if r.admin], ids=str)
def test_an_admin_gets_not_found_for_ids_nobody_has(people: People, route: Route) -> None:
    app = people.app
    web = signed_in(app, people.boss)
    before = state(app)
    response = send(web, route, path_of(route, token_id=NOBODY, user_id=NOBODY))
    assert response.status_code == 404, str(route)
    assert state(app) == before


# -- asking for the password again ----------------------------------------------------------


@dataclass(frozen=True)
class Reentry:
    """A signed-in form that asks for the current password again: guessing through it must
    count toward the sign-in throttle, or it would be a way around it."""

    path: str
    data: Mapping[str, str]  # with the right password in ``current_password``
    done: Callable[[Session, int], bool]  # whether the change happened, for this user id
    prepare: Callable[[Session, int], None] = lambda session, user_id: None


def _password_changed(session: Session, user_id: int) -> bool:
    return accounts.check_password(session.get_one(User, user_id), NEW_PASSWORD)


def _two_step_on(session: Session, user_id: int) -> None:
    user = session.get_one(User, user_id)
    user.totp_secret, user.totp_enabled_at = "JBSWY3DPEHPK3PXP", utcnow()


def _two_step_off(session: Session, user_id: int) -> bool:
    return session.get_one(User, user_id).totp_enabled_at is None


def _mobile_changed(session: Session, user_id: int) -> bool:
    return session.get_one(User, user_id).phone is not None


def _token_made(session: Session, user_id: int) -> bool:
    made = select(func.count(ApiToken.id)).where(
        ApiToken.user_id == user_id, ApiToken.name == NEW_TOKEN["name"]
    )
    return bool(session.scalar(made))


def _codes_renewed(session: Session, user_id: int) -> bool:
    return (
        session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user_id))
        > 0
    )


REENTRIES = [
    Reentry("/account/profile", NEW_MOBILE, _mobile_changed),
    Reentry("/account/tokens", NEW_TOKEN, _token_made),
    Reentry("/account/password", PASSWORD_CHANGE, _password_changed),
    Reentry("/account/two-step/off", {"current_password": PASSWORD}, _two_step_off, _two_step_on),
    Reentry(
        "/account/two-step/recovery-codes",
        {"current_password": PASSWORD},
        _codes_renewed,
        _two_step_on,
    ),
]


@pytest.mark.parametrize("reentry", REENTRIES, ids=lambda r: r.path)
def test_wrong_passwords_given_again_count_toward_the_throttle(
    people: People, session: Session, reentry: Reentry
) -> None:
    app, ana = people.app, people.ana
    web = signed_in(app, ana)  # before two-step is on: the code step is not what is tested
    reentry.prepare(session, ana.id)
    session.commit()
    wrong = {**reentry.data, "current_password": "not the password"}
    statuses = [web.post(reentry.path, wrong).status_code for _ in range(5)]
    assert statuses == [422, 422, 422, 422, 429]
    response = web.post(reentry.path, dict(reentry.data))  # the right one, too late
    assert response.status_code == 429
    session.expire_all()
    assert not reentry.done(session, ana.id)
    # The same pause as the sign-in form's: from this address, sign-in waits too.
    assert Web(app.test_client()).login(ana.email).status_code == 429
