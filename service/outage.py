"""The database going away: every request that needs it answers 503, never a 500.

A restarted or failed-over database, a network blip, or SQLite's write lock held too long
all surface as SQLAlchemy's ``OperationalError`` (or ``InterfaceError`` on a connection
that was cut, or the pool's ``TimeoutError`` when every connection is stuck in one). Those
are the database's trouble, not the request's: the answer says so, with ``Retry-After``,
and the next request tries again (the PostgreSQL pool pings each connection before use, so
dead ones are replaced). Dashboard pages answer with the dashboard's own error page; the
API, the webhooks and the health check answer in the API's JSON error shape.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service.api.errors import error_response
from service.config import settings_without_database

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
# Blueprints whose answers are pages, not JSON.
PAGES = {"dashboard", "simulator", "simulator_calls"}


def unavailable(exc: SQLAlchemyError) -> Response:
    """503 with Retry-After: the database cannot be reached just now (a page for the
    dashboard, JSON for everything else)."""
    # The class only: it tells an outage from a lock, and the text would quote the SQL.
    log.warning(
        "%s %s: database unavailable (%s)",
        request.method,
        request.path,
        type(getattr(exc, "orig", None) or exc).__name__,
    )
    message = "the database is unavailable; try again shortly"
    if PAGES & set(request.blueprints):
        settings_without_database()  # the page's header names the practice: no query
        page = render_template(
            "error.html", code=503, title="Service unavailable", message=message.capitalize()
        )
        response = Response(page, status=503, mimetype="text/html")
    else:
        response = error_response(503, "database_unavailable", message, {})
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def init_app(app: Flask) -> None:
    """Answer requests that fail to reach the database with 503 instead of a 500."""
    app.register_error_handler(OperationalError, unavailable)
    app.register_error_handler(InterfaceError, unavailable)
    app.register_error_handler(PoolTimeout, unavailable)
