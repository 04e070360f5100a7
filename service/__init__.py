"""TouchBase: SMS reminders and pain check-ins for neuromuscular massage therapy practices."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from flask import Flask
from flask.logging import default_handler
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from service import (
    api,
    cli,
    dashboard,
    db,
    health,
    logs,
    outage,
    phone_simulator,
    practice_settings,
    published_calendar,
    simulated_calls,
    voice_webhooks,
    webhooks,
)
from service.config import load_settings, settings_of
from service.values import MAX_ID

log = logging.getLogger(__name__)


class BoundedInt(IntegerConverter):
    """A URL id: ids are 32-bit in the database, so a larger one is simply not found.

    Refusing it as a non-match would let the router answer 405 on paths that take other
    methods; a 404 raised here is the same answer for every method.
    """

    def to_python(self, value: str) -> int:
        """The id, or a 404 when it is beyond any row's."""
        # Leading zeros name the same id. Read no more digits than the largest id has:
        # int() refuses over 4300 of them, which the base class turns into a non-match.
        digits = value.lstrip("0") or "0"
        if len(digits) > len(str(MAX_ID)):
            raise NotFound()
        number: int = super().to_python(digits)
        if number > MAX_ID:
            raise NotFound()
        return number


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build a configured app from ``config``, variables named and written as in the
    environment (tests pass theirs here), or from the environment itself when None."""
    app = Flask(__name__, instance_relative_config=False)
    default_handler.setFormatter(logs.RedactingFormatter(logs.FORMAT))
    settings = load_settings(os.environ if config is None else config, app.instance_path)
    if settings.secret_key_generated:
        log.warning("SECRET_KEY is not set: using a random key; sessions end at each restart")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TOUCHBASE=settings,
        TESTING=settings.env == "test",
        MAX_CONTENT_LENGTH=64 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
        )
    app.url_map.converters["int"] = BoundedInt
    db.init_app(app, settings.database_url)
    practice_settings.init_app(app)  # the saved settings over the environment's, per request
    outage.init_app(app)  # a request that cannot reach the database: 503 JSON, never a 500
    cli.init_app(app)
    api.init_app(app)
    webhooks.init_app(app)
    voice_webhooks.init_app(app)  # the calls' webhooks, signed like the texts'
    health.init_app(app)
    published_calendar.init_app(app)  # public: found by the token in its address
    dashboard.init_app(app)
    phone_simulator.init_app(app)  # only while texts are simulated
    simulated_calls.init_app(app)  # and its calls, likewise
    return app


__all__ = ["create_app", "settings_of"]
