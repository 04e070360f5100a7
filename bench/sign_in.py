"""Signing in: POST /login (and /login/code) through Flask's test client with the form's
CSRF token, as a browser does, against the bare minimum doing the same work: one SELECT of
the user by email and one ``check_password_hash`` of the stored hash (made with the app's
``settings.password_hash_method``), plus one ``pyotp`` verify for two-step sign-in.

Three measures, sides alternating sign-in by sign-in, each sign-in by a user of its own
(a code's step cannot be used twice, and five wrong passwords would pause the account):

- password sign-ins (302 to the inbox);
- password and then an authenticator code (302 to /login/code, then to the inbox);
- a wrong password (the throttle's path: the account row locked, the audit log read for
  the email's recent failures, one failure written), in turn on a database whose audit log
  holds only this bench's own rows and on one seeded with ``audit_rows`` rows of other
  actions and ``failed_sign_ins`` failed sign-ins of other emails in the last twenty
  minutes, and on a copy of that one without the audit log's (entity, entity_id) index;
  the seeded one's audit-log reads are then explained (is the index used?).

Only the POSTs are timed: reading the CSRF token from the form (a GET) and computing the
code are not. The app reads the real clock, so the seeded rows are dated from it.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine
from werkzeug.security import check_password_hash, generate_password_hash

from bench.common import Databases, StatementCounter, app_config, percentile
from service import accounts, create_app
from service.config import settings_of
from service.db import get_db, utcnow
from service.models import AuditEntry

PASSWORD = "bench-password-long-enough"
WRONG = "not-the-password-at-all"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
USER_SQL = text(
    "SELECT id, password_hash, active, totp_secret FROM users WHERE lower(email) = :email"
)
CHUNK = 20_000
INDEX = "ix_audit_log_entity_entity_id"


def ms(seconds: float) -> float:
    """Seconds as milliseconds to the microsecond (common's ``median`` keeps 0.1 ms only,
    too coarse for a bare sign-in of about 1 ms)."""
    return round(seconds * 1000, 3)


def median_ms(values: Sequence[float]) -> float:
    """The median of these seconds, in milliseconds."""
    return ms(statistics.median(values))


@dataclass(frozen=True)
class Account:
    """A user made for the bench: the email to type, and the TOTP secret when two-step."""

    email: str
    totp_secret: str | None


def make_users(app: Flask, group: str, count: int, *, two_step: bool = False) -> list[Account]:
    """``count`` active therapists with the bench password (two-step on when asked)."""
    db, now = get_db(app), utcnow()
    made = []
    with db.session() as session:
        for i in range(count):
            email = f"{group}{i:04d}@practice.example"
            user = accounts.create_user(session, settings_of(app), email, f"Staff {i}", PASSWORD)
            secret = pyotp.random_base32() if two_step else None
            if secret is not None:
                user.totp_secret, user.totp_enabled_at = secret, now
            made.append(Account(email, secret))
        session.commit()
    return made


def _token(browser: FlaskClient, path: str) -> str:
    found = TOKEN.search(browser.get(path).get_data(as_text=True))
    if found is None:
        raise SystemExit(f"bench: no CSRF token on {path}")
    return found.group(1)


class Poster:
    """Posts forms for TouchBase, adding up the seconds and SQL statements of the posts."""

    def __init__(self, app: Flask) -> None:
        """Count on the app's engine."""
        self.counter = StatementCounter(get_db(app).engine)
        self.seconds = 0.0
        self.statements = 0

    def post(self, browser: FlaskClient, path: str, data: dict[str, str]) -> Any:
        """Post ``data`` with the CSRF token of the page at ``path``; only the post is timed."""
        form = {"csrf_token": _token(browser, path), **data}
        self.counter.reset()
        began = time.perf_counter()
        answer = browser.post(path, data=form)
        self.seconds += time.perf_counter() - began
        self.statements += self.counter.statements
        return answer


def touchbase_sign_in(app: Flask, poster: Poster, user: Account, password: str) -> bool:
    """One sign-in as a new browser; True when it ended as expected (signed in, or the
    wrong password refused without a pause)."""
    browser = app.test_client()
    answer = poster.post(browser, "/login", {"email": user.email, "password": password})
    if password != PASSWORD:
        return answer.status_code == 200 and "do not match" in answer.get_data(as_text=True)
    if user.totp_secret is None:
        return answer.status_code == 302 and answer.location == "/"
    if answer.status_code != 302 or answer.location != "/login/code":
        return False
    code = pyotp.TOTP(user.totp_secret).now()
    answer = poster.post(browser, "/login/code", {"code": code})
    return answer.status_code == 302 and answer.location == "/"


def bare_sign_in(engine: Engine, method: str, user: Account, password: str) -> tuple[float, bool]:
    """The bare minimum of the same sign-in: seconds, and True when its outcome is the
    one TouchBase must reach."""
    code = pyotp.TOTP(user.totp_secret).now() if user.totp_secret else None
    began = time.perf_counter()
    with engine.connect() as conn:
        row = conn.execute(USER_SQL, {"email": user.email}).one()
    right = row.active and check_password_hash(row.password_hash, password)
    if right and code is not None:
        right = pyotp.TOTP(row.totp_secret).verify(code, valid_window=1)
    took = time.perf_counter() - began
    return took, row.password_hash.startswith(method) and right == (password == PASSWORD)


@dataclass
class Tally:
    """One measure's sign-ins on one database: TouchBase's and the bare side's seconds."""

    app: Flask
    bare: Engine
    users: list[Account]
    password: str
    ours: list[float] = field(default_factory=list)
    theirs: list[float] = field(default_factory=list)
    statements: set[int] = field(default_factory=set)
    expected: bool = True

    def sign_in(self, poster: Poster, i: int) -> None:
        """The i-th user signs in on both sides (the first is a warm-up, not kept)."""
        user, before, count = self.users[i], poster.seconds, poster.statements
        ok = touchbase_sign_in(self.app, poster, user, self.password)
        method = settings_of(self.app).password_hash_method
        took, bare_ok = bare_sign_in(self.bare, method, user, self.password)
        self.expected = self.expected and ok and bare_ok
        if i:
            self.ours.append(poster.seconds - before)
            self.theirs.append(took)
            self.statements.add(poster.statements - count)

    def result(self) -> dict[str, Any]:
        """Medians per sign-in, their ratio, and the statements of TouchBase's posts."""
        return {
            "touchbase_ms": median_ms(self.ours),
            "touchbase_p90_ms": ms(percentile(self.ours, 0.9)),
            "bare_ms": median_ms(self.theirs),
            "bare_p90_ms": ms(percentile(self.theirs, 0.9)),
            "ratio": round(statistics.median(self.ours) / statistics.median(self.theirs), 1),
            "sql_statements": sorted(self.statements),
            "same_work": self.expected,
        }


def compare(*tallies: Tally) -> list[dict[str, Any]]:
    """Sign every tally's users in, sign-in by sign-in in turn across the tallies (so a
    slower moment of the machine falls on all of them alike)."""
    posters = [Poster(t.app) for t in tallies]
    for i in range(min(len(t.users) for t in tallies)):
        for tally, poster in zip(tallies, posters, strict=True):
            tally.sign_in(poster, i)
    for poster in posters:
        poster.counter.close()
    return [t.result() for t in tallies]


def seed_audit(engine: Engine, other_rows: int, failures: int) -> None:
    """``other_rows`` audit rows of other actions (client views, sign-ins) over the last
    30 days, and ``failures`` failed sign-ins of other emails (four each, from four
    addresses) in the last twenty minutes."""
    now = utcnow()
    rows = [
        {"action": "view", "entity": "client", "entity_id": str(i % 2000 + 1)}
        | {"detail": {"via": "dashboard.clients.show"}}
        if i % 10
        else {"action": "login", "entity": "user", "entity_id": "1"}
        | {"detail": {"ip": "10.0.0.1", "method": "password"}}
        for i in range(other_rows)
    ]
    for i, row in enumerate(rows):
        row["at"] = now - timedelta(days=30) * (1 - i / max(other_rows, 1))
    rows += [
        {"action": "login_failed", "entity": "user", "entity_id": f"stranger{i // 4}@mail.test"}
        | {"detail": {"ip": f"10.1.{i % 4}.9"}, "at": now - timedelta(seconds=1200 - i)}
        for i in range(failures)
    ]
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(AuditEntry), rows[start : start + CHUNK])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE audit_log"))


def audit_reads(app: Flask, user: Account) -> list[tuple[str, Any]]:
    """The audit-log reads (statement, parameters) of one more wrong password."""
    seen: list[tuple[str, Any]] = []
    app_engine = get_db(app).engine

    def capture(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        if statement.lstrip().upper().startswith("SELECT") and "FROM audit_log" in statement:
            seen.append((statement, parameters))

    event.listen(app_engine, "before_cursor_execute", capture)
    try:
        touchbase_sign_in(app, Poster(app), user, WRONG)
    finally:
        event.remove(app_engine, "before_cursor_execute", capture)
    return seen


def read_ms(engine: Engine, reads: list[tuple[str, Any]], times: int = 50) -> float:
    """The median ms of running all of ``reads`` once, on one open connection."""
    spent = []
    with engine.connect() as conn:
        for _ in range(times + 1):
            began = time.perf_counter()
            for statement, parameters in reads:
                conn.exec_driver_sql(statement, parameters).all()
            spent.append(time.perf_counter() - began)
            conn.rollback()
    return median_ms(spent[1:])


def audit_plans(app: Flask, engines: dict[str, Engine], user: Account) -> dict[str, Any]:
    """The throttle's reads of the audit log in one more wrong password on ``app`` (the
    large log's), explained there (does each use the (entity, entity_id) index?) and timed
    alone on each database of ``engines``."""
    reads = audit_reads(app, user)
    engine = engines["large_log"]
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    plans = []
    with engine.connect() as conn:
        for statement, parameters in reads:
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
            plans.append(" | ".join(str(r[-1]) for r in rows))
    return {
        "audit_reads": len(plans),
        "all_use_index": bool(plans) and all(INDEX in p for p in plans),
        "read_ms": {name: read_ms(e, reads) for name, e in engines.items()},
        "plans": plans,
    }


def audit_count(engine: Engine) -> int:
    """Rows in the audit log now."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def scrypt_check_ms(times: int = 5) -> float:
    """The median ms of one ``check_password_hash`` of a scrypt hash, production's method
    (the bench app runs with TOUCHBASE_ENV=test, whose hash is one PBKDF2 round)."""
    hashed = generate_password_hash(PASSWORD, method="scrypt")
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        check_password_hash(hashed, PASSWORD)
        spent.append(time.perf_counter() - began)
    return median_ms(spent)


def site(dbs: Databases, label: str) -> tuple[Flask, Engine]:
    """A migrated database, the app on it, and a bare engine on the same database."""
    url = dbs.make(label)
    app = create_app(app_config(url))
    dbs.engines.append(get_db(app).engine)
    return app, dbs.engine(url)


def bench_sign_in(dbs: Databases, sign_ins: int, audit_rows: int, failures: int) -> dict[str, Any]:
    """The three measures on one kind of database (see the module's docstring): the
    password and two-step sign-ins, and the wrong password on a database whose audit log
    holds only this bench's rows and, in turn with it, on one with a large audit log and
    one with the same log but not its index."""
    (app, bare), (big, big_bare) = site(dbs, "signin"), site(dbs, "signin_large")
    count = sign_ins + 1  # the first of each measure is a warm-up
    (plain, plain_bare) = site(dbs, "signin_noindex")
    began = time.perf_counter()
    seed_audit(big_bare, audit_rows, failures)
    seeded = time.perf_counter() - began
    # The same large log without its (entity, entity_id) index: what the index is worth.
    seed_audit(plain_bare, audit_rows, failures)
    with plain_bare.begin() as conn:
        conn.execute(text(f"DROP INDEX {INDEX}"))
    password, two_step = compare(
        Tally(app, bare, make_users(app, "password", count), PASSWORD),
        Tally(app, bare, make_users(app, "twostep", count, two_step=True), PASSWORD),
    )
    rows = [audit_count(e) for e in (bare, big_bare, plain_bare)]
    small, large, unindexed = compare(
        Tally(app, bare, make_users(app, "wrong", count), WRONG),
        Tally(big, big_bare, make_users(big, "wrong", count), WRONG),
        Tally(plain, plain_bare, make_users(plain, "wrong", count), WRONG),
    )
    for measured, before in zip((small, large, unindexed), rows, strict=True):
        measured["audit_rows_before"] = before
    engines = {"small_log": bare, "large_log": big_bare, "large_log_no_index": plain_bare}
    return {
        "sign_ins": sign_ins,
        "hash_method": settings_of(app).password_hash_method,
        "seed_seconds": round(seeded, 1),
        "password": password,
        "two_step": two_step,
        "wrong_password_small_log": small,
        "wrong_password_large_log": large,
        "wrong_password_large_log_no_index": unindexed,
        "large_over_small": round(large["touchbase_ms"] / max(small["touchbase_ms"], 0.01), 2),
        "audit_plans": audit_plans(big, engines, make_users(big, "explained", 1)[0]),
        "scrypt_check_ms": scrypt_check_ms(),
        "same_work": all(p["same_work"] for p in (password, two_step, small, large)),
    }
