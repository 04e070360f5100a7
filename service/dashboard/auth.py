"""Signing in and out, and who the current user is."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from service import accounts, audit, two_step
from service.access import client_for
from service.config import current_settings
from service.dashboard import throttle, timefmt
from service.dashboard.security import csrf_token, safe_next
from service.db import get_session, lock, utcnow
from service.domain import authenticator_codes
from service.domain.passwords import MAX_LENGTH
from service.models import Client, User

log = logging.getLogger(__name__)
WRONG_PASSWORD = "That is not your current password."
bp = Blueprint("auth", __name__)
# A working day and then some: a therapist signs in once a day, a stolen cookie dies with it.
SESSION_LIFETIME = timedelta(hours=12)
# The code step after a right password: long enough to open the app, short enough that a
# browser left at it does not stay half signed in.
PENDING_LIFETIME = timedelta(minutes=5)
PENDING = "pending_sign_in"


View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Mark a dashboard view as open without signing in (sign-in, its second step, resets)."""
    view.public = True  # type: ignore[attr-defined]
    return view


@functools.cache
def _decoy_hash(method: str) -> str:
    """A hash no password matches, made once per hash method."""
    # Checked against when the email is unknown, so both cases take the time of one check
    # with the practice's method and the answer time does not tell which emails have
    # accounts.
    return generate_password_hash("no account has this password", method=method)


def current_user() -> User:
    """The signed-in user of this request (views run only once one is loaded)."""
    user: User = g.user
    return user


def client_or_404(db: Session, client_id: int, *, for_change: bool = False) -> Client:
    """The client when the current user may see it (locked for a change); 404 otherwise
    (never 403).

    A GET shows a page about the client (a form filled with its record), so it is a view
    of the record and is written to the audit log at once.
    """
    user = current_user()
    client = client_for(db, user, client_id)
    if client is not None and for_change:
        client = lock(db, Client, client_id)
    if client is None:
        abort(404)
    if request.method == "GET":
        audit.record(db, user, "view", "client", client.id, via=request.endpoint)
        db.commit()
    return client


def load_user() -> None:
    """Set ``g.user`` from the session; a deactivated account is signed out at once.

    The session cookie is signed, not stored on the server, so its age is checked here
    too: a cookie copied from a browser stops working ``SESSION_LIFETIME`` after sign-in,
    whatever expiry the copy claims.
    """
    g.user = None
    user_id, since = session.get("user_id"), session.get("since")
    if not isinstance(user_id, int):
        return
    age = utcnow().timestamp() - since if isinstance(since, int | float) else None
    if age is None or not 0 <= age <= SESSION_LIFETIME.total_seconds():
        session.clear()
        return
    user = get_session().get(User, user_id)
    # "Sign out everywhere" bumps the account's version: every older session ends here.
    if user is None or not user.active or session.get("version", 0) != user.session_version:
        session.clear()
        return
    g.user = user


def require_login() -> Response | None:
    """Send anonymous visitors to the login page, remembering where they were going."""
    view = current_app.view_functions.get(request.endpoint or "")
    if g.user is not None or getattr(view, "public", False):
        return None
    wanted = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("dashboard.auth.login", next=wanted))


def require_admin() -> User:
    """The current user when an admin; 403 otherwise."""
    user = current_user()
    if not user.is_admin:
        abort(403)
    return user


def _pause_ends(locked: datetime, now: datetime) -> str:
    """When a sign-in pause ends, as the practice's clock and a count of minutes."""
    minutes = max(1, math.ceil((locked - now).total_seconds() / 60))
    at = timefmt.clock(locked, current_settings().practice_timezone)
    return (
        f"Too many failed sign-ins. Try again after {at} "
        f"(in {minutes} minute{'' if minutes == 1 else 's'})."
    )


def _judge(
    db: Session, email: str, now: datetime, *, code_step: bool = False
) -> tuple[throttle.Attempt, str | None]:
    """The failures that bear on this attempt, and the pause message when it may not be
    made now. Attempts for one typed email take turns (until the caller's transaction
    ends), whether or not an account has it, so none is judged on a count another is about
    to raise and requests sent at once get no more tries than requests sent in turn."""
    audit.take_turns(db, f"sign-in:{throttle.key_of(email)}")
    address = request.remote_addr or "unknown"
    attempt = throttle.attempt(db, email, address, now, code_step=code_step)
    paused = attempt.paused_until(now)
    if paused is not None:
        log.warning("sign-in paused for an account from %s", address)
    return attempt, None if paused is None else _pause_ends(paused, now)


def _failed(
    db: Session,
    email: str,
    attempt: throttle.Attempt,
    now: datetime,
    reason: str,
    **detail: object,
) -> tuple[str, int]:
    """Record a failed sign-in for the typed email and this address (the caller commits):
    the message to show, warning of the pause when few tries are left, and the status.

    It counts per typed email whether or not an account has it, so the warning says
    nothing about which emails have accounts.
    """
    address = request.remote_addr or "unknown"
    throttle.record_failure(db, email, address, now, **detail)
    log.info("login failed from %s", address)
    after = attempt.failed(now)
    paused = after.paused_until(now)
    if paused is not None:
        return _pause_ends(paused, now), 429
    left = after.tries_left(now)
    if left > throttle.WARN_FROM:
        return reason, 200
    pause = int(throttle.LOCK.total_seconds() // 60)
    tries = "1 try" if left == 1 else f"{left} tries"
    return f"{reason} {tries} left before a {pause}-minute pause.", 200


def password_again(db: Session, user: User, password: str, action: str) -> tuple[str, int] | None:
    """Check the password a signed-in user types again to make a change (``action`` names
    it in the audit log): None when right; otherwise the message and the status, the
    failure committed (nothing else the request did is worth keeping then).

    A wrong one counts toward the sign-in throttle, like a failed sign-in, and a pause
    refuses even the right one: a form that asks for the password is no way around it.
    """
    now = utcnow()
    attempt, paused = _judge(db, user.email, now)
    if paused is not None:
        db.commit()
        return paused, 429
    # An absurdly long "current password" is no password of anyone's: not worth a hash.
    if len(password) <= MAX_LENGTH and accounts.check_password(user, password):
        return None
    audit.record(db, user, f"{action}_failed", "user", user.id, ip=request.remote_addr)
    message, status = _failed(db, user.email, attempt, now, WRONG_PASSWORD, step=action)
    db.commit()
    return message, 422 if status == 200 else status


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    """Show the sign-in form; check email and password, within the throttle. A user with
    two-step sign-in on goes on to the code step; the others are signed in."""
    target = safe_next(request.values.get("next"), url_for("dashboard.inbox.index"))
    if g.user is not None and request.method == "GET":
        return redirect(target)
    if request.method == "GET":
        return render_template("login.html", email="", error=None, next=target)
    email = request.form.get("email", "").strip()[: accounts.EMAIL_LENGTH]
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    db, now = get_session(), utcnow()
    attempt, paused = _judge(db, email, now)
    if paused is not None:
        return render_template("login.html", email=email, error=paused, next=target), 429
    user = accounts.find_user(db, email) if email else None
    if user is None:
        check_password_hash(_decoy_hash(current_settings().password_hash_method), password)
    if user is None or not accounts.check_password(user, password):
        reason = "That email and password do not match an active account."
        error, status = _failed(db, email, attempt, now, reason)
        db.commit()
        return render_template("login.html", email=email, error=error, next=target), status
    if user.totp_enabled_at is not None:
        _await_code(user, target, now)
        return redirect(url_for("dashboard.auth.second_step"))
    start_session(user)
    audit.record(db, user, "login", "user", user.id, ip=address, method="password")
    db.commit()
    if two_step.required_for(user, current_settings()):
        return redirect(url_for("dashboard.two_step.enrol"))
    return redirect(target)


def _await_code(user: User, target: str, now: datetime) -> None:
    """Remember, and nothing more, that ``user`` gave the right password: no session yet."""
    session.clear()
    session[PENDING] = {
        "user_id": user.id,
        "since": int(now.timestamp()),
        "version": user.session_version,
        "next": target,
    }
    csrf_token()


def _pending_user(db: Session, now: datetime) -> User | None:
    """The user whose password was right a moment ago, while the code step is open: None
    once it expired, the account was deactivated, signed out everywhere, or lost two-step."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    user_id, since = pending.get("user_id"), pending.get("since")
    if not isinstance(user_id, int) or not isinstance(since, int):
        return None
    if not 0 <= now.timestamp() - since <= PENDING_LIFETIME.total_seconds():
        return None
    user = db.get(User, user_id)
    if user is None or not user.active or user.totp_enabled_at is None:
        return None
    return user if pending.get("version") == user.session_version else None


@bp.route("/login/code", methods=["GET", "POST"])
@public
def second_step() -> Response | str | tuple[str, int]:
    """The second step of sign-in: a code from the authenticator app, or a recovery code.
    A wrong code counts toward the same throttle as a wrong password."""
    db, now = get_session(), utcnow()
    user = _pending_user(db, now)
    pending = session.get(PENDING)
    wanted = pending.get("next") if isinstance(pending, dict) else None
    home = url_for("dashboard.inbox.index")
    target = safe_next(wanted if isinstance(wanted, str) else None, home)
    if user is None:
        session.pop(PENDING, None)
        minutes = int(PENDING_LIFETIME.total_seconds() // 60)
        flash(f"Sign in again: the code step is open for {minutes} minutes after the password.")
        return redirect(url_for("dashboard.auth.login", next=target))
    if request.method == "GET":
        return render_template("login_code.html", error=None)
    attempt, paused = _judge(db, user.email, now, code_step=True)
    if paused is not None:
        return render_template("login_code.html", error=paused), 429
    typed = authenticator_codes.read_code(request.form.get("code", "")[:100])
    if typed is None:
        return render_template("login_code.html", error=authenticator_codes.UNREADABLE), 422
    if not two_step.take_code(db, user, typed, now):
        reason = "That code is not right, or was already used."
        error, status = _failed(db, user.email, attempt, now, reason, step=throttle.CODE_STEP)
        db.commit()
        return render_template("login_code.html", error=error), status
    start_session(user)
    audit.record(db, user, "login", "user", user.id, ip=request.remote_addr, method=typed.kind)
    db.commit()
    return redirect(target)


def start_session(user: User) -> None:
    """Begin a fresh session for ``user``: nothing from before sign-in carries over."""
    session.clear()
    session.permanent = True  # the cookie ends with SESSION_LIFETIME, not with the browser
    session["user_id"] = user.id
    session["version"] = user.session_version
    session["since"] = int(utcnow().timestamp())
    csrf_token()


@bp.post("/logout")
@public
def logout() -> Response:
    """Sign out and forget the session; at the code step, forget the password given."""
    if g.user is not None:
        db = get_session()
        audit.record(db, current_user(), "logout", "user", current_user().id)
        db.commit()
    session.clear()
    return redirect(url_for("dashboard.auth.login"))
