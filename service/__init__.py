"""TouchBase: SMS reminders and pain check-ins for neuromuscular massage therapy practices."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask.logging import default_handler
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from service import api, cli, dashboard, db, health, logs, outage, simulator, webhooks
from service.config import load_settings, settings_of

log = logging.getLogger(__name__)


class BoundedInt(IntegerConverter):
    """A URL integer within the database's 32-bit id range."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a configured app; ``config`` overrides the environment (tests pass it here)."""
    app = Flask(__name__, instance_relative_config=False)
    default_handler.setFormatter(logs.RedactingFormatter(logs.FORMAT))
    overrides = dict(config or {})
    environ = {**os.environ, **{k: v for k, v in overrides.items() if isinstance(v, str)}}
    settings = load_settings(environ, app.instance_path)
    if settings.secret_key_generated:
        log.warning("SECRET_KEY is not set: using a random key; sessions end at each restart")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TOUCHBASE=settings,
        MAX_CONTENT_LENGTH=64 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
    )
    app.config.update({k: v for k, v in overrides.items() if not isinstance(v, str)})
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
        )
    # Ids are 32-bit in the database; a larger one in a URL is simply not found (404),
    # never a database error.
    app.url_map.converters["int"] = BoundedInt
    db.init_app(app, settings.database_url)
    outage.init_app(app)  # a request that cannot reach the database: 503 JSON, never a 500
    cli.init_app(app)
    api.init_app(app)
    webhooks.init_app(app)
    health.init_app(app)
    dashboard.init_app(app)
    simulator.init_app(app)  # only while texts are simulated
    return app


__all__ = ["create_app", "settings_of"]
