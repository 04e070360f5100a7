"""API errors: every failure is ``{"error": {"code", "message", "fields"}}`` with a 4xx."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """A request the API refuses, with a machine code, a sentence and per-field reasons."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra: dict[str, Any] = {}  # beside "error" in the body (a 409's overlaps)


def not_found(what: str = "resource") -> ApiError:
    """The 404 for anything missing or not the caller's to see."""
    return ApiError(404, "not_found", f"no such {what}")


def invalid(fields: dict[str, str]) -> ApiError:
    """The 422 for a body or query whose fields are wrong."""
    return ApiError(422, "invalid", "some fields are invalid", fields)


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Response:
    """Render the error body."""
    error = {"code": code, "message": message, "fields": fields}
    response = jsonify({"error": error, **(extra or {})})
    response.status_code = status
    return response


def _is_api() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Make API errors, and HTTP errors on API paths, answer with the JSON error body."""

    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.fields, exc.extra)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException) -> Response | HTTPException:
        if not _is_api():
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or code, {})
        if exc.code == 405 and exc.response is None:
            response.headers["Allow"] = ", ".join(getattr(exc, "valid_methods", None) or [])
        return response
