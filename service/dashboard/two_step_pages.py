"""Two-step sign-in pages: enrolment (QR code and secret, on after a correct code), the
recovery codes shown once, turning it off (yourself with your password, or an admin for
someone who lost their phone), and the practice's requirement that sends users to enrolment.
"""

from __future__ import annotations

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from service import accounts, audit, two_step
from service.config import current_settings
from service.dashboard.admin import user_or_404
from service.dashboard.auth import current_user, password_again, require_admin, start_session
from service.db import get_session, utcnow
from service.domain import authenticator_codes
from service.models import User

bp = Blueprint("two_step", __name__)
# What a user the practice requires two-step sign-in of may still open before turning it on.
OPEN_BEFORE_ENROLMENT = frozenset({"dashboard.two_step.enrol", "dashboard.auth.logout"})


def require_enrolment() -> Response | None:
    """Send a signed-in user whom the practice requires two-step sign-in of, and who has not
    turned it on, to enrolment from every dashboard page but enrolment and sign-out."""
    user = g.get("user")
    if user is None or request.endpoint in OPEN_BEFORE_ENROLMENT:
        return None
    if getattr(current_app.view_functions.get(request.endpoint or ""), "public", False):
        return None
    if not two_step.required_for(user, current_settings()):
        return None
    return redirect(url_for("dashboard.two_step.enrol"))


@bp.app_template_global()
def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes ``user`` has (for the account page)."""
    return two_step.recovery_codes_left(get_session(), user)


def _qr_code(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG element (no script, no data: address)."""
    return str(
        segno.make(uri, error="m").svg_inline(scale=5, omitsize=True, dark="#000", light="#fff")
    )


def _enrol_page(user: User, error: str | None = None, status: int = 200) -> tuple[str, int]:
    secret = user.totp_secret or ""
    uri = two_step.provisioning_uri(user, secret, current_settings().practice_name)
    page = render_template(
        "two_step/enrol.html",
        qr_code=_qr_code(uri),
        secret=authenticator_codes.grouped_secret(secret),
        required=two_step.required_for(user, current_settings()),
        error=error,
    )
    return page, status


def _on_page(user: User, error: str | None = None, status: int = 200) -> tuple[str, int]:
    left = two_step.recovery_codes_left(get_session(), user)
    return render_template("two_step/on.html", left=left, error=error), status


@bp.route("/account/two-step", methods=["GET", "POST"])
def enrol() -> tuple[str, int]:
    """Turn on two-step sign-in: scan the code (or type the secret), then give a code the
    app shows. It is on only after a correct code; the recovery codes are shown once."""
    db, user, now = get_session(), current_user(), utcnow()
    if user.totp_enabled_at is not None:
        return _on_page(user)
    if request.method == "GET":
        two_step.start_enrolment(user)
        db.commit()
        return _enrol_page(user)
    if user.totp_secret is None:  # a post without the page: start over
        two_step.start_enrolment(user)
        db.commit()
        return _enrol_page(user, "Scan this new code, then enter the code your app shows.", 422)
    typed = request.form.get("code", "")[:100]
    read = authenticator_codes.read_code(typed)
    if read is None or read.kind != authenticator_codes.TOTP:
        return _enrol_page(user, "Enter the 6 digits your app shows for this account.", 422)
    codes = two_step.turn_on(db, user, typed, now)
    if codes is None:
        db.commit()
        error = "That code is not right. Check the phone's clock, and enter the code shown now."
        return _enrol_page(user, error, 422)
    audit.record(db, user, "two_step_enabled", "user", user.id)
    db.commit()
    return render_template("two_step/recovery_codes.html", codes=codes, first=True), 200


@bp.post("/account/two-step/recovery-codes")
def renew_codes() -> Response | tuple[str, int]:
    """Ten new recovery codes, with the password; the old ones stop working."""
    db, user = get_session(), current_user()
    if user.totp_enabled_at is None:
        flash("Recovery codes come with two-step sign-in: turn it on first.", "error")
        return redirect(url_for("dashboard.two_step.enrol"))
    password = request.form.get("current_password", "")
    refused = password_again(db, user, password, "recovery_codes_renewal")
    if refused is not None:
        return _on_page(user, *refused)
    codes = two_step.new_recovery_codes(db, user, utcnow())
    audit.record(db, user, "recovery_codes_renewed", "user", user.id)
    db.commit()
    return render_template("two_step/recovery_codes.html", codes=codes, first=False), 200


@bp.post("/account/two-step/off")
def turn_off() -> Response | tuple[str, int]:
    """Turn your own two-step sign-in off, with your password: every other session ends."""
    db, user = get_session(), current_user()
    if user.totp_enabled_at is None:
        return redirect(url_for("dashboard.account.index"))
    password = request.form.get("current_password", "")
    refused = password_again(db, user, password, "two_step_off")
    if refused is not None:
        return _on_page(user, *refused)
    two_step.turn_off(db, user)
    accounts.sign_out_everywhere(user)
    audit.record(db, user, "two_step_disabled", "user", user.id, by="self")
    db.commit()
    start_session(user)  # this browser stays signed in; every other one is signed out
    flash("Two-step sign-in is off. Every other browser was signed out.")
    return redirect(url_for("dashboard.account.index"))


@bp.post("/admin/users/<int:user_id>/two-step/off")
def admin_turn_off(user_id: int) -> Response:
    """An admin turns off someone's two-step sign-in (a lost phone): their secret and
    recovery codes are forgotten and every session of theirs ends."""
    db, admin = get_session(), require_admin()
    user = user_or_404(db, user_id)
    if user.id == admin.id:
        # A signed-in browser alone must not turn it off: your own page asks for the password.
        flash("Turn off your own two-step sign-in on your account page: it asks for your password.")
        return redirect(url_for("dashboard.account.index"))
    if user.totp_enabled_at is not None:
        audit.record(db, admin, "two_step_disabled", "user", user.id, by="admin", admin=admin.id)
    if user.totp_enabled_at is not None or user.totp_secret is not None:
        two_step.turn_off(db, user)
        accounts.sign_out_everywhere(user)
    db.commit()
    flash(f"Two-step sign-in is off for {user.name}; they sign in with their password alone.")
    return redirect(url_for("dashboard.admin.users"))
