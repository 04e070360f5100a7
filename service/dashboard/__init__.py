"""The therapist dashboard: server-rendered pages behind a login, for the practice's staff.

One parent blueprint carries what every page shares (the signed-in user, the login
requirement, CSRF checks, error pages, security headers); each concern is a module with
its own small blueprint nested in it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from service.config import current_settings
from service.dashboard import (
    account,
    admin,
    auth,
    calendar_page,
    client_forms,
    client_import_page,
    client_list,
    export,
    feeds_page,
    inbox,
    message_templates,
    password_change,
    password_resets,
    phone_links,
    schedule,
    schedule_forms,
    send_text,
    settings_page,
    timefmt,
    two_step_pages,
)
from service.dashboard.security import add_headers, check_csrf, csrf_token, refuse_nul
from service.domain import relief, status_changes
from service.domain.vocabulary import AlertKind, AppointmentStatus

# How the inbox names each kind of item.
LABELS = {
    AlertKind.PAIN: "Pain alert",
    AlertKind.RESCHEDULE: "Reschedule request",
    AlertKind.NOT_UNDERSTOOD: "Not understood",
    AlertKind.UNKNOWN_SENDER: "Unknown sender",
    AlertKind.DELIVERY_FAILED: "Delivery failed",
    AlertKind.INVALID_NUMBER: "Invalid number",
    AlertKind.OPT_OUT: "Opted out",
    AlertKind.RELIEF_GAP: "Gap longer than relief",
    AlertKind.LAPSING: "Lapsing",
    AlertKind.NOT_ANSWERING: "Not answering",
    AlertKind.CALENDAR_FEED: "Calendar feed failing",
}


# The words on the button that gives an appointment each status.
STATUS_BUTTONS = {
    AppointmentStatus.CONFIRMED: "Confirm",
    AppointmentStatus.COMPLETED: "Mark done",
    AppointmentStatus.NO_SHOW: "No-show",
    AppointmentStatus.CANCELLED: "Cancel",
    AppointmentStatus.SCHEDULED: "Restore",
}


def _error_page(exc: HTTPException) -> tuple[str, int]:
    """A calm page for 400/403/404/405/429 answers inside the dashboard."""
    code = exc.code or 500
    return render_template("error.html", code=code, title=exc.name, message=exc.description), code


def _context() -> dict[str, Any]:
    """What every dashboard template may use: the user, the settings, alert labels."""
    return {"user": g.get("user"), "settings": current_settings(), "labels": LABELS}


def _secure(response: Response) -> Response:
    """Security headers on every dashboard page and on the assets it loads."""
    if request.endpoint == "static" or "dashboard" in request.blueprints:
        return add_headers(response)
    return response


def init_app(app: Flask) -> None:
    """Register the dashboard, its template helpers, headers, and the demo-data command."""
    dashboard = Blueprint("dashboard", __name__)
    dashboard.before_request(refuse_nul)
    dashboard.before_request(auth.load_user)
    dashboard.before_request(auth.require_login)
    dashboard.before_request(two_step_pages.require_enrolment)
    dashboard.before_request(check_csrf)
    dashboard.context_processor(_context)
    for code in (400, 403, 404, 405, 413, 429):
        dashboard.register_error_handler(code, _error_page)
    for module in (auth, inbox, client_list, client_forms, schedule_forms, schedule, send_text):
        dashboard.register_blueprint(module.bp)
    dashboard.register_blueprint(export.bp)
    dashboard.register_blueprint(client_import_page.bp)
    dashboard.register_blueprint(admin.bp)
    dashboard.register_blueprint(account.bp)
    dashboard.register_blueprint(calendar_page.bp)
    dashboard.register_blueprint(settings_page.bp)
    dashboard.register_blueprint(message_templates.bp)
    dashboard.register_blueprint(password_change.bp)
    dashboard.register_blueprint(password_resets.bp)
    dashboard.register_blueprint(two_step_pages.bp)
    dashboard.register_blueprint(feeds_page.bp)
    app.register_blueprint(dashboard)
    app.after_request(_secure)
    app.permanent_session_lifetime = auth.SESSION_LIFETIME
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["next_statuses"] = status_changes.next_statuses
    app.jinja_env.globals["status_labels"] = STATUS_BUTTONS
    app.jinja_env.filters.update(
        when=timefmt.when,
        clock=timefmt.clock,
        day_of=timefmt.day_of,
        iso=timefmt.iso,
        zone_label=timefmt.zone_label,
        long_date=timefmt.long_date,
        days=relief.days_text,
        phone=phone_links.phone,
        tel=phone_links.tel,
    )
