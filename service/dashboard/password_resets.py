"""Forgotten passwords: a one-time link an admin issues, or a code texted to the user.

Neither signs anyone in: a reset sets a new password, ends every session of the account
and sends the visitor to sign in with it. No page here says whether an account exists.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from service import accounts, audit, reset_codes, resets
from service.account_models import PasswordReset
from service.config import current_settings
from service.dashboard.admin import user_or_404
from service.dashboard.auth import public, require_admin
from service.db import get_db, get_session, lock, utcnow
from service.domain.passwords import code_problem, without_spaces
from service.models import User
from service.password_changes import CONFIRMATION_DIFFERS, PasswordRefused, set_password

log = logging.getLogger(__name__)
bp = Blueprint("password_resets", __name__)
DEAD_LINK = "This link has expired or was already used; ask your admin for a new one."
SENT = "If that account has a mobile number, we have texted it a code."
EMAIL = "reset_email"  # the session key remembering the typed email between the two steps


@bp.post("/admin/users/<int:user_id>/reset-link")
def issue_link(user_id: int) -> Response | str:
    """Issue a reset link for an account and show it to the admin, once, to hand over."""
    db, admin = get_session(), require_admin()
    user = user_or_404(db, user_id)
    if user.id == admin.id:
        # A signed-in browser alone must not set a password: your own change asks for it.
        flash("Change your own password on your account page: it asks for the current one.")
        return redirect(url_for("dashboard.account.index"))
    if not user.active:
        flash(f"{user.name} is deactivated: reactivate the account first.", "error")
        return redirect(url_for("dashboard.admin.users"))
    token = resets.issue_link(db, admin, user)
    audit.record(db, admin, "password_reset_link_issued", "user", user.id)
    db.commit()
    # The practice's public address when set: the host a request came in on may be internal.
    base = current_settings().public_base_url
    path = url_for("dashboard.password_resets.redeem", token=token)
    link = (
        f"{base}{path}"
        if base
        else url_for("dashboard.password_resets.redeem", token=token, _external=True)
    )
    return render_template("password_resets/link.html", account=user, link=link)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def redeem(token: str) -> Response | str | tuple[str, int]:
    """Set a new password through a reset link (which then works no more)."""
    db = get_session()
    reset = resets.live_link(db, token)
    if reset is None:
        return _dead_link()
    if request.method == "GET":
        return render_template("password_resets/redeem.html", token=token, error=None)
    reset = lock(db, PasswordReset, reset.id)
    user = db.get(User, reset.user_id) if reset is not None else None
    if reset is None or user is None or reset.used_at is not None or reset.ended_at is not None:
        return _dead_link()
    error = _set(reset, user, request.form.get("new_password", ""), via="link")
    if error is not None:
        return render_template("password_resets/redeem.html", token=token, error=error), 422
    return redirect(url_for("dashboard.auth.login"))


def _dead_link() -> tuple[str, int]:
    """The page for a link that is used, expired, ended or was never issued; a try to set a
    password through one is audited (without the token)."""
    if request.method == "POST":
        db = get_session()
        db.rollback()
        audit.record(db, None, "password_reset_link_refused", "user", "-", ip=request.remote_addr)
        db.commit()
    return render_template("password_resets/dead.html", message=DEAD_LINK), 404


def _set(reset: PasswordReset, user: User, password: str, *, via: str) -> str | None:
    """Use ``reset`` to give ``user`` a new password; why not, when the rules refuse it."""
    db = get_session()
    confirm = request.form.get("confirm_password")
    if confirm is not None and confirm != password:
        return CONFIRMATION_DIFFERS
    reset.used_at = utcnow()
    try:
        set_password(db, current_settings(), user, password)
    except PasswordRefused as refused:
        reset.used_at = None
        return str(refused)
    audit.record(db, None, "password_reset", "user", user.id, via=via, ip=request.remote_addr)
    db.commit()
    flash("Password changed; sign in with it.")
    return None


@bp.route("/login/forgot", methods=["GET", "POST"])
@public
def forgot() -> Response | str | tuple[str, int]:
    """Ask for a reset code by text; the answer is the same for any email."""
    if request.method == "GET":
        return render_template("password_resets/forgot.html", email="", error=None)
    email = request.form.get("email", "").strip()[: accounts.EMAIL_LENGTH]
    if not email:
        return render_template(
            "password_resets/forgot.html", email="", error="Enter your email."
        ), 422
    db, now = get_session(), utcnow()
    address = request.remote_addr or "unknown"
    session[EMAIL] = email
    reset_codes.take_turns(db, email, address)
    wait = reset_codes.too_soon(db, email, address, now)
    send = None
    if wait is not None:
        entry = audit.record(
            db, None, reset_codes.TOO_SOON, "user", audit.email_key(email), ip=address
        )
        entry.at = now
        db.commit()
        flash(wait, "error")
    else:
        send = reset_codes.request_code(db, current_settings(), email, address, now)
        flash(SENT)
    response = redirect(url_for("dashboard.password_resets.forgot_code"))
    if send is not None:
        # Sent once the answer is written: it takes as long whether or not a text goes,
        # so its time does not tell which emails have an account with a mobile number.
        database = get_db()
        response.call_on_close(lambda: send(database))
    return response


@bp.route("/login/forgot/code", methods=["GET", "POST"])
@public
def forgot_code() -> Response | str | tuple[str, int]:
    """Set a new password with the texted code."""
    remembered = session.get(EMAIL)
    email = remembered if isinstance(remembered, str) else ""
    if request.method == "GET":
        return render_template("password_resets/code.html", email=email, errors={})
    email = request.form.get("email", "").strip()[: accounts.EMAIL_LENGTH]
    code = without_spaces(request.form.get("code", ""))
    errors = _code_errors(email, code)
    if errors:
        return render_template("password_resets/code.html", email=email, errors=errors), 422
    db, now = get_session(), utcnow()
    address = request.remote_addr or "unknown"
    checked = reset_codes.check_code(db, current_settings(), email, code, address, now)
    if checked.reset is None:
        db.commit()
        errors = {"code": checked.problem or reset_codes.dead_message()}
        return render_template("password_resets/code.html", email=email, errors=errors), 422
    user = db.get(User, checked.reset.user_id)
    assert user is not None  # a live code belongs to an account
    error = _set(checked.reset, user, request.form.get("new_password", ""), via="code")
    if error is not None:
        db.rollback()
        errors = {"new_password": error}
        return render_template("password_resets/code.html", email=email, errors=errors), 422
    session.pop(EMAIL, None)
    return redirect(url_for("dashboard.auth.login"))


def _code_errors(email: str, code: str) -> dict[str, str]:
    """What is missing or malformed in the code form (no try is used up for these)."""
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your email."
    else:
        try:
            accounts.normalize_email(email)
        except accounts.InvalidEmail as refused:
            errors["email"] = refused.plain
    problem = code_problem(code)
    if problem is not None:
        errors["code"] = problem
    return errors
