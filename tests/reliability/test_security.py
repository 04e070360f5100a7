"""Attacks: forged, replayed and misdirected webhook signatures; form posts without the CSRF
token on every dashboard form; another therapist's records by id in every route of the
dashboard and the API; SQL and HTML injection in every free-text field, shown back escaped.

Routes are enumerated from ``app.url_map``, so a route added later is attacked too (and a
new kind of id in a URL fails here until this file learns how to fill it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from service import accounts
from service.db import Base, get_db
from service.feed_models import CalendarFeed
from service.models import (
    Alert,
    ApiToken,
    AppointmentSeries,
    Client,
    Contact,
    InboundMessage,
    OutboundMessage,
    User,
)
from tests import factories
from tests.api.conftest import Api, make_api
from tests.dashboard.conftest import Staff, Web, make_staff, now, signed_in
from tests.webhooks.conftest import AUTH_TOKEN, PRACTICE_NUMBER, PUBLIC, sign

SCRIPT_FILE = re.compile(r'<script src="/static/[a-z_-]+\.js"( defer)?>')

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
NOT_OURS = 2**31 - 2  # an id no row has: what "not found" looks like


def twilio_app(make_app: Callable[..., Flask]) -> Flask:
    """An app that checks webhook signatures (on the same database as ``app``)."""
    return make_app(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=PRACTICE_NUMBER,
        PUBLIC_BASE_URL=PUBLIC,
    )


def inbound_form(sid: str, body: str = "7", sender: str = "+16175559999") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": PRACTICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def post_signed(
    http: FlaskClient, path: str, form: dict[str, str], signature: str, **kwargs: Any
) -> TestResponse:
    return http.post(path, data=form, headers={"X-Twilio-Signature": signature}, **kwargs)


def inbound_count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(InboundMessage)) or 0)


# -- signatures -----------------------------------------------------------------------------


def test_forged_misdirected_and_tampered_signatures_are_refused(
    make_app: Callable[..., Flask], session: Session
) -> None:
    http = twilio_app(make_app).test_client()
    form = inbound_form("SMsig1")
    good = sign(PUBLIC + "/sms/inbound", form)
    forged = {
        "another token": sign(PUBLIC + "/sms/inbound", form, token="not-the-token"),
        "another host": sign("https://evil.example/sms/inbound", form),
        "plain http": sign(PUBLIC.replace("https:", "http:") + "/sms/inbound", form),
        "another path": sign(PUBLIC + "/sms/status", form),
        "a query added": sign(PUBLIC + "/sms/inbound?x=1", form),
        "another form": sign(PUBLIC + "/sms/inbound", {**form, "Body": "STOP"}),
        "empty": "",
        "garbage": "bm90IGEgc2lnbmF0dXJl",
        "the token itself": AUTH_TOKEN,
    }
    for why, signature in forged.items():
        assert post_signed(http, "/sms/inbound", form, signature).status_code == 403, why
    # The real signature, but on another path, or with a query Twilio did not sign.
    assert post_signed(http, "/sms/status", form, good).status_code == 403
    assert post_signed(http, "/sms/inbound?x=1", form, good).status_code == 403
    # The real signature over a changed form: a tampered body, an extra or a missing field.
    for changed in (
        {**form, "Body": "STOP"},
        {**form, "From": "+16175550000"},
        {**form, "Extra": "1"},
        {k: v for k, v in form.items() if k != "NumMedia"},
    ):
        assert post_signed(http, "/sms/inbound", changed, good).status_code == 403
    assert inbound_count(session) == 0
    assert post_signed(http, "/sms/inbound", form, good).status_code == 200
    assert inbound_count(session) == 1


def test_a_replayed_signed_request_changes_nothing_twice(
    make_app: Callable[..., Flask], session: Session
) -> None:
    # Twilio signatures carry no time or nonce: a replay is a valid request, and the
    # MessageSid makes it harmless (stored once, acted on once).
    http = twilio_app(make_app).test_client()
    client, contact = factories.client_with_phone(session, "Sam Lee", "+16175550123")
    factories.sent(session, client, contact, kind="checkin", sent_at=now() - timedelta(hours=1))
    session.commit()
    form = inbound_form("SMreplay9", body="9", sender="+16175550123")
    signature = sign(PUBLIC + "/sms/inbound", form)
    answers = [post_signed(http, "/sms/inbound", form, signature) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert inbound_count(session) == 1
    assert session.scalar(select(func.count()).select_from(Alert)) == 1  # one pain alert
    replies = select(func.count()).where(OutboundMessage.kind == "reply")
    assert session.scalar(replies) == 1
    # A replayed status callback cannot move a text backwards either.
    sent = factories.sent(session, client, contact, kind="reminder", sent_at=now())
    session.commit()
    for state in ("delivered", "sent", "queued"):
        status_form = {"MessageSid": sent.provider_sid or "", "MessageStatus": state}
        signature = sign(PUBLIC + "/sms/status", status_form)
        assert post_signed(http, "/sms/status", status_form, signature).status_code == 204
    session.refresh(sent)
    assert sent.status == "delivered"


# -- the world of two therapists ------------------------------------------------------------


@dataclass
class World:
    """Ana and Ben (therapists) and Bo (admin); Ben has a client with everything."""

    app: Flask
    ana: Staff
    ben: Staff
    boss: Staff
    ids: dict[str, int | str]
    ben_phone: str = "+16175550177"
    ben_client_name: str = "Bea Bellweather"


# A template is named by its kind and language: no therapist may change any.
TEMPLATE = {"kind": "reminder", "language": "en"}
# A reset link's token is a bearer secret, not a record id: one never issued is a stranger's.
RESET = {"token": "never-issued-reset-link-token-0123456789"}
# The calls' webhooks name Ben's call and a question in their URLs: without Twilio's
# signature they are refused whoever asks (``texted`` gives Ben's client a message: id 1).
CALL = {"message_id": 1, "question": "checkin", "asked": 1}


@pytest.fixture
def world(app: Flask, session: Session) -> World:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    ben = make_staff(app, "ben@practice.test", "Ben Okafor")
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    ids = records_of(session, ben.id, "Bea Bellweather", "+16175550177", texted=True)
    ids["token_id"] = token_of(session, ben.id)
    ids["feed_id"] = feed_of(session, ben.id)
    return World(app, ana, ben, boss, {**ids, "user_id": ben.id, **TEMPLATE, **RESET, **CALL})


def feed_of(session: Session, therapist_id: int) -> int:
    """A calendar feed of ``therapist_id``: its id."""
    feed = CalendarFeed(therapist_id=therapist_id, url="https://calendar.example.com/a.ics")
    session.add(feed)
    session.commit()
    return feed.id


def token_of(session: Session, user_id: int) -> int:
    """A live API token of ``user_id``: its id."""
    row, _ = accounts.issue_token(session, session.get_one(User, user_id), "their sync")
    session.commit()
    return row.id


def records_of(
    session: Session, therapist_id: int, name: str, phone: str, *, texted: bool = False
) -> dict[str, int]:
    """A client of ``therapist_id`` with a contact, an appointment, a series and an alert
    (and a check-in sent, when ``texted``): the ids of each, by URL argument name."""
    client, contact = factories.client_with_phone(session, name, phone, therapist_id=therapist_id)
    appointment = factories.appointment(session, client, now() + timedelta(days=2))
    series = AppointmentSeries(
        client_id=client.id,
        rrule="FREQ=WEEKLY",
        starts_local=(now() + timedelta(days=3)).replace(tzinfo=None, microsecond=0),
        timezone=client.timezone,
    )
    alert = Alert(kind="pain", client_id=client.id, detail="pain 9/10")
    session.add_all([series, alert])
    if texted:
        factories.sent(session, client, contact, kind="checkin", sent_at=now() - timedelta(days=1))
    session.commit()
    return {
        "client_id": client.id,
        "contact_id": contact.id,
        "appointment_id": appointment.id,
        "series_id": series.id,
        "alert_id": alert.id,
    }


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the logs of use (audit, token and login stamps)."""
    skip = {"audit_log", "api_tokens", "heartbeats", "users"}
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with get_db(app).engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name not in skip:
                rows[table.name] = sorted(
                    (tuple(map(repr, r)) for r in conn.execute(table.select())), key=repr
                )
        rows["users"] = sorted(
            tuple(map(repr, r))
            for r in conn.execute(
                select(User.id, User.name, User.email, User.role, User.active, User.phone)
            )
        )
        rows["api_tokens"] = sorted(
            tuple(map(repr, r))
            for r in conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.revoked_at))
        )
    return rows


def id_rules(app: Flask) -> list[Rule]:
    """Every route whose URL names a record by id."""
    return [r for r in app.url_map.iter_rules() if r.arguments and r.endpoint != "static"]


def fill(rule: Rule, ids: Mapping[str, int | str]) -> str:
    """The rule's URL with each id argument filled from ``ids``."""
    missing = [a for a in rule.arguments if a not in ids]
    if missing:
        pytest.fail(f"{rule.rule}: no record for {missing}; teach this test how to make one")
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(ids[name]), path)
    return path


FORM = {
    "status": "cancelled",
    "name": "Taken Over",
    "phone": "6175550199",
    "relation": "self",
    "body": "hello from someone else",
    "active": "no",
    "timezone": "America/New_York",
    "language": "en",
    "date": "2030-01-07",
    "time": "10:00",
    "duration": "60",
    "rrule": "FREQ=WEEKLY",
    "contact_id": "1",
}


def attempt(web: Web, api: Api, method: str, path: str, user_id: int) -> TestResponse:
    """The request an attacker signed in as ``user_id`` would make, token and all."""
    if path.startswith("/api/"):
        body = {"name": "Taken Over", "status": "cancelled", "phone": "6175550199"}
        headers = {"Authorization": f"Bearer {api.token}"}
        if method == "GET":
            return api.http.get(path, headers=headers)
        return api.http.open(path, method=method, json=body, headers=headers)
    if method == "GET":
        return web.http.get(path)
    data = {**FORM, "therapist_id": str(user_id), "csrf_token": web.token()}
    return web.http.open(path, method=method, data=data)


def test_another_therapists_records_are_not_found_in_any_route(
    world: World, session: Session
) -> None:
    app = world.app
    web = signed_in(app, world.ana)
    api = make_api(app, "ana-api@practice.test")
    rules = id_rules(app)
    covered = {r.endpoint for r in rules}
    assert {"dashboard.clients.show", "api.api_clients.get_client"} <= covered
    before = snapshot(app)
    tried = 0
    nobody = dict.fromkeys(world.ids, NOT_OURS)
    for rule in rules:
        for method in sorted(set(rule.methods or ()) & set(METHODS)):
            theirs = attempt(web, api, method, fill(rule, world.ids), world.ana.id)
            nobodys = attempt(web, api, method, fill(rule, nobody), world.ana.id)
            where = f"{method} {rule.rule}"
            # Ben's record is exactly as invisible as a record that does not exist: 404,
            # or 403 where a therapist may not act on any record at all (admins' routes).
            assert theirs.status_code == nobodys.status_code, where
            assert theirs.status_code in (403, 404), (where, theirs.status_code)
            if rule.endpoint.startswith(("dashboard.admin.", "dashboard.texts.")):
                assert theirs.status_code == 403, where  # admins only, whatever the id
            assert world.ben_client_name not in theirs.get_data(as_text=True), where
            tried += 1
    assert tried >= 30, tried
    assert snapshot(app) == before, "a refused request changed something"


def test_another_therapists_ids_in_a_body_are_refused(world: World, session: Session) -> None:
    app = world.app
    api = make_api(app, "ana-api@practice.test")
    ben_client = world.ids["client_id"]
    before = snapshot(app)
    start = (now() + timedelta(days=5)).replace(microsecond=0).isoformat()
    for path, body in (
        ("/series", {"client_id": ben_client, "starts_at": start, "rrule": "FREQ=WEEKLY"}),
        ("/appointments", {"client_id": ben_client, "starts_at": start}),
    ):
        response = api.post(path, body)
        assert response.status_code == 422, (path, response.status_code)
        assert response.get_json()["error"]["fields"]["client_id"] == "no such client"
    # Ana's own client, texted at Ben's client's contact: not one of this client's contacts.
    own, _ = factories.client_with_phone(
        session, "Ada Own", "+16175550188", therapist_id=world.ana.id
    )
    session.commit()
    web = signed_in(app, world.ana)
    page = web.get(f"/clients/{own.id}").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None
    response = web.post(
        f"/clients/{own.id}/messages",
        {"body": "hi", "contact_id": str(world.ids["contact_id"]), "key": key.group(1)},
    )
    assert response.status_code == 422
    # Nor can a therapist hand a new client to another therapist.
    response = web.post(
        "/clients/new",
        {"name": "Gift", "timezone": "America/New_York", "therapist_id": str(world.ben.id)},
    )
    gifted = session.scalar(select(Client).where(Client.name == "Gift"))
    assert gifted is None or gifted.therapist_id == world.ana.id, response.status_code
    after = snapshot(app)
    after["clients"] = [
        r for r in after["clients"] if "Ada Own" not in str(r) and "Gift" not in str(r)
    ]
    before["clients"] = [r for r in before["clients"] if "Ada Own" not in str(r)]
    assert after["outbound_messages"] == before["outbound_messages"]
    assert after["appointment_series"] == before["appointment_series"]
    assert after["appointments"] == before["appointments"]


def test_lists_filtered_by_another_therapists_ids_show_nothing_of_theirs(
    world: World,
) -> None:
    app = world.app
    web = signed_in(app, world.ana)
    api = make_api(app, "ana-api@practice.test")
    headers = {"Authorization": f"Bearer {api.token}"}
    query = {
        "client_id": world.ids["client_id"],
        "appointment_id": world.ids["appointment_id"],
        "q": "Bea",
        "from": "2000-01-01",
        "to": "2100-01-01",
    }
    listed = [
        r
        for r in app.url_map.iter_rules()
        if not r.arguments and "GET" in (r.methods or ()) and r.endpoint != "static"
    ]
    assert len(listed) >= 8
    for rule in listed:
        if rule.rule.startswith("/api/"):
            response = api.http.get(rule.rule, query_string=query, headers=headers)
        else:
            response = web.http.get(rule.rule, query_string=query)
        page = response.get_data(as_text=True)
        # 201: the calendar link's GET makes the caller's own link on first use
        answered = (200, 201, 302, 403, 404, 422)
        assert response.status_code in answered, (rule.rule, response.status_code)
        for secret in (world.ben_client_name, world.ben_phone, world.ben_phone[-10:]):
            assert secret not in page, (rule.rule, secret)


# -- CSRF -----------------------------------------------------------------------------------


def form_rules(app: Flask) -> list[Rule]:
    """Every route a browser posts a form to: all but the API (tokens) and the webhooks."""
    return [
        r
        for r in app.url_map.iter_rules()
        if "POST" in (r.methods or ())
        and not r.rule.startswith("/api/")
        and not r.rule.startswith(("/sms/", "/voice/"))
    ]


def own_ids(app: Flask, session: Session, ana: Staff) -> dict[str, int | str]:
    """Records of Ana's own (and a template), so that only the missing token can stop a post."""
    ids = records_of(session, ana.id, "Ada Own", "+16175550188")
    other = make_staff(app, "cy@practice.test", "Cy Other")
    mine = {"token_id": token_of(session, ana.id), "feed_id": feed_of(session, ana.id)}
    return {**ids, "user_id": other.id, **mine, **TEMPLATE, **RESET, **CALL}


@pytest.mark.parametrize("token", [None, "", "forged", "wrong-but-long-" * 4])
def test_no_form_post_is_accepted_without_the_sessions_csrf_token(
    app: Flask, session: Session, token: str | None
) -> None:
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    ids = own_ids(app, session, boss)
    web = signed_in(app, boss)  # an admin: every form is open to them
    rules = form_rules(app)
    assert any(r.endpoint == "dashboard.client_forms.create" for r in rules)
    before = snapshot(app)
    for rule in rules:
        data = {**FORM, "therapist_id": str(boss.id), "email": "new@practice.test"}
        data |= {"password": "long-enough-pw", "role": "admin"}
        if token is not None:
            data["csrf_token"] = token
        response = web.http.post(fill(rule, ids), data=data)
        assert response.status_code == 400, (rule.rule, response.status_code)
    assert snapshot(app) == before
    # Still signed in (logout without a token is refused too), and the token still works.
    assert web.http.get("/clients").status_code == 200
    assert web.post(f"/alerts/{ids['alert_id']}/handled").status_code == 302


def test_a_token_from_another_session_is_refused(app: Flask, session: Session) -> None:
    ana = make_staff(app, "ana@practice.test", "Ana Ruiz")
    ids = own_ids(app, session, ana)
    mine, theirs = signed_in(app, ana), Web(app.test_client())
    stolen = theirs.token()  # an attacker's own session hands out a valid-looking token
    response = mine.http.post(f"/alerts/{ids['alert_id']}/handled", data={"csrf_token": stolen})
    assert response.status_code == 400
    response = mine.http.post(
        f"/alerts/{ids['alert_id']}/handled", headers={"X-CSRF-Token": stolen}
    )
    assert response.status_code == 400


# -- injection ------------------------------------------------------------------------------


def xss(field: str) -> str:
    return f"<script>alert('{field}')</script>"


SQL = "Robert'); DROP TABLE clients;-- ' OR '1'='1"


def escaped(field: str) -> str:
    return f"&lt;script&gt;alert(&#39;{field}&#39;)&lt;/script&gt;"


@pytest.fixture
def injected(
    app: Flask, make_app: Callable[..., Flask], session: Session
) -> Iterator[tuple[Web, dict[str, int]]]:
    """Every free-text field filled with SQL and a script, through the forms and the API."""
    boss = make_staff(app, "boss@practice.test", "Bo Boss", admin=True)
    web = signed_in(app, boss)
    response = web.post(
        "/admin/users/new",
        {
            "name": f"{SQL} {xss('user')}",
            "email": "eve@practice.test",
            "role": "therapist",
            "password": "long-enough-pw",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    response = web.post(
        "/clients/new",
        {
            "name": f"{SQL} {xss('client')}",
            "phone": "6175550155",
            "timezone": "America/New_York",
            "language": "en",
            "therapist_id": str(boss.id),
            "notes": f"{SQL} {xss('notes')}",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    client_id = session.scalar(select(Client.id).where(Client.name.contains("DROP TABLE")))
    assert client_id is not None
    response = web.post(
        f"/clients/{client_id}/contacts/new",
        {
            "name": f"{SQL} {xss('contact')}",
            "relation": "caregiver",
            "phone": "6175550156",
            "reminders": "yes",
            "checkins": "yes",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    contact_id = session.scalar(select(Contact.id).where(Contact.relation == "caregiver"))
    assert contact_id is not None
    page = web.get(f"/clients/{client_id}").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None
    response = web.post(
        f"/clients/{client_id}/messages",
        {
            "body": f"{SQL} {xss('message')}",
            "contact_id": str(contact_id),
            "key": key.group(1),
            "confirm_quiet": "yes",
        },
    )
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:2000]
    # The client's texts: a reply, and one from a number nobody knows.
    own = session.scalar(
        select(Contact).where(Contact.client_id == client_id, Contact.relation == "self")
    )
    assert own is not None
    factories.sent(
        session,
        session.get_one(Client, client_id),
        own,
        kind="checkin",
        sent_at=now() - timedelta(hours=1),
    )
    session.commit()
    webhooks = twilio_app(make_app).test_client()
    for sid, sender, field in (
        ("SMxss1", own.phone, "reply"),
        ("SMxss2", "+16175550999", "stranger"),
        ("SMxss3", own.phone, "reschedule"),
    ):
        body = f"R {SQL} {xss(field)}" if field == "reschedule" else f"{SQL} {xss(field)}"
        form = inbound_form(sid, body=body, sender=sender)
        response = post_signed(webhooks, "/sms/inbound", form, sign(PUBLIC + "/sms/inbound", form))
        assert response.status_code == 200
    yield web, {"client_id": client_id, "contact_id": contact_id}


def test_sql_in_free_text_is_stored_as_text(
    injected: tuple[Web, dict[str, int]], session: Session
) -> None:
    session.expire_all()
    assert session.scalar(select(Client.name).where(Client.id == injected[1]["client_id"])) == (
        f"{SQL} {xss('client')}"
    )
    assert session.scalar(select(func.count()).select_from(Client)) == 1
    assert session.execute(text("SELECT count(*) FROM clients")).scalar() == 1
    bodies = set(session.scalars(select(InboundMessage.body)))
    assert f"{SQL} {xss('reply')}" in bodies


def test_every_page_shows_free_text_escaped(injected: tuple[Web, dict[str, int]]) -> None:
    web, ids = injected
    c = ids["client_id"]
    expected = {
        "/": ["client", "stranger"],
        "/clients": ["client"],
        f"/clients?q={SQL}": [],
        f"/clients/{c}": ["client", "contact", "notes", "message", "reply"],
        f"/clients/{c}/edit": ["client", "notes"],
        f"/contacts/{ids['contact_id']}/edit": ["contact"],
        "/schedule": [],
        "/admin/users": ["user"],
        "/export": [],
        f"/clients?q={xss('search')}": ["search"],
    }
    for path, fields in expected.items():
        response = web.http.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert "<script>alert" not in page, path
        # Script tags only load the app's own files: none came in with the free text.
        scripts = re.findall(r"<script[^>]*>", page.lower())
        assert scripts and all(SCRIPT_FILE.fullmatch(tag) for tag in scripts), path
        for field in fields:
            assert escaped(field) in page, (path, field)
