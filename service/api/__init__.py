"""The JSON API under ``/api/v1``, authenticated with bearer tokens."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response

from service.api import (
    appointments,
    calendar_link,
    clients,
    errors,
    feeds,
    imports,
    messages,
    pain_reports,
    settings,
    simulator,
    templates,
)
from service.api.tokens import authenticate

OPENAPI = Path(__file__).with_name("openapi.json")


def init_app(app: Flask) -> None:
    """Register the API blueprints and their JSON error handling."""
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(authenticate)
    api.register_blueprint(clients.bp)
    api.register_blueprint(appointments.bp)
    api.register_blueprint(messages.bp)
    api.register_blueprint(simulator.bp)
    api.register_blueprint(pain_reports.bp)
    api.register_blueprint(settings.bp)
    api.register_blueprint(templates.bp)
    api.register_blueprint(calendar_link.bp)
    api.register_blueprint(feeds.bp)
    api.register_blueprint(imports.bp)
    app.register_blueprint(api)
    app.add_url_rule("/api/v1/openapi.json", "api_openapi", openapi_document)
    errors.init_app(app)


def openapi_document() -> Response:
    """The OpenAPI description of the API (public: it holds no data)."""
    return Response(OPENAPI.read_bytes(), mimetype="application/json")
