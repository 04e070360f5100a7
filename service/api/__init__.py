"""The JSON API under ``/api/v1``, authenticated with bearer tokens."""

from __future__ import annotations

from flask import Blueprint, Flask

from service.api import clients, errors, messages, schedule, simulator
from service.api.auth import authenticate


def init_app(app: Flask) -> None:
    """Register the API blueprints and their JSON error handling."""
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(authenticate)
    api.register_blueprint(clients.bp)
    api.register_blueprint(schedule.bp)
    api.register_blueprint(messages.bp)
    api.register_blueprint(simulator.bp)
    app.register_blueprint(api)
    errors.init_app(app)
