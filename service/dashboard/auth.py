"""Signing in and out, and who the current user is."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
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

from service import accounts, audit
from service.access import client_for
from service.dashboard import throttle
from service.dashboard.security import csrf_token, safe_next
from service.db import get_session, lock, utcnow
from service.models import Client, User

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)
# A working day and then some: a therapist signs in once a day, a stolen cookie dies with it.
SESSION_LIFETIME = timedelta(hours=12)


View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Mark a dashboard view as open without signing in (sign-in, its second step, resets)."""
    view.public = True  # type: ignore[attr-defined]
    return view


@functools.cache
def _decoy_hash() -> str:
    """A hash no password matches, made once."""
    # Checked against when the email is unknown, so both cases take the time of one scrypt
    # and the answer time does not tell which emails have accounts.
    return generate_password_hash("no account has this password")


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


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    """Show the sign-in form; sign in with email and password, within the throttle."""
    target = safe_next(request.values.get("next"), url_for("dashboard.inbox.index"))
    if g.user is not None and request.method == "GET":
        return redirect(target)
    if request.method == "GET":
        return render_template("login.html", email="", error=None, next=target)
    email = request.form.get("email", "").strip()[:254]
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    db, now = get_session(), utcnow()
    locked = throttle.lock_for(db, email, address, now)
    if locked is not None:
        minutes = max(1, math.ceil((locked - now).total_seconds() / 60))
        error = f"Too many failed sign-ins. Try again in {minutes} minutes."
        log.warning("login locked for an account from %s", address)
        return render_template("login.html", email=email, error=error, next=target), 429
    user = accounts.find_user(db, email) if email else None
    if user is None:
        check_password_hash(_decoy_hash(), password)
    if user is None or not accounts.check_password(user, password):
        throttle.record_failure(db, email, address, now)
        db.commit()
        log.info("login failed from %s", address)
        error = "That email and password do not match an active account."
        return render_template("login.html", email=email, error=error, next=target)
    start_session(user)
    audit.record(db, user, "login", "user", user.id, ip=address)
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
def logout() -> Response:
    """Sign out and forget the session."""
    db = get_session()
    audit.record(db, current_user(), "logout", "user", current_user().id)
    db.commit()
    session.clear()
    return redirect(url_for("dashboard.auth.login"))
