"""Browser-facing defences: security headers, CSRF tokens, and safe redirect targets."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Response, abort, current_app, request, session

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CHECKS_NUL = "checks_nul_in"
View = TypeVar("View", bound=Callable[..., object])


def checks_nul_in(*fields: str) -> Callable[[View], View]:
    """Mark a view that refuses a NUL in these form fields itself, with the reason beside
    the field (a message template's body, whose checks already name it)."""

    def mark(view: View) -> View:
        setattr(view, _CHECKS_NUL, frozenset(fields))
        return view

    return mark


def refuse_nul() -> None:
    """Refuse (400) a query or form value holding a NUL: no browser sends one when a person
    types, and PostgreSQL text cannot hold it, so it would otherwise fail deep in a query.
    A view marked with ``checks_nul_in`` refuses it in its own fields itself."""
    view = current_app.view_functions.get(request.endpoint or "")
    own: frozenset[str] = getattr(view, _CHECKS_NUL, frozenset())
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or ("\x00" in value and not (values is request.form and key in own)):
                abort(400, "A field holds a NUL character.")


def add_headers(response: Response) -> Response:
    """Set the security headers; pages about clients are also kept out of every cache."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        # Client records must not linger in a shared browser's or a proxy's cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf() -> None:
    """Answer 400 to a state-changing request whose token is missing or not the session's."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not isinstance(expected, str) or not expected or not sent:
        abort(400, "The form has expired or was not sent by this site. Reload and try again.")
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, "The form has expired or was not sent by this site. Reload and try again.")


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target
