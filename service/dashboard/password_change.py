"""Changing one's own password on the account page, with the current password.

A wrong current password counts toward the sign-in throttle, so this form is no back door
for guessing. A change signs out the user's other sessions and keeps this one.
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service import accounts, audit
from service.config import current_settings
from service.dashboard import throttle
from service.dashboard.auth import current_user, start_session
from service.db import get_session, utcnow
from service.domain.passwords import MAX_LENGTH
from service.password_changes import PasswordRefused, set_password

log = logging.getLogger(__name__)
bp = Blueprint("passwords", __name__)


def _again(error: str, field: str, status: int = 422) -> tuple[str, int]:
    """The password form alone, with what to fix (never the passwords typed)."""
    return render_template("passwords/change.html", password_errors={field: error}), status


@bp.post("/account/password")
def change() -> Response | tuple[str, int]:
    """Set a new password for the signed-in user, given the current one."""
    db, user, now = get_session(), current_user(), utcnow()
    address = request.remote_addr or "unknown"
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    confirm = request.form.get("confirm_password")
    locked = throttle.lock_for(db, user.email, address, now)
    if locked is not None:
        minutes = max(1, math.ceil((locked - now).total_seconds() / 60))
        error = f"Too many wrong passwords. Try again in {minutes} minutes."
        return _again(error, "current_password", 429)
    # An absurdly long "current password" is no password of anyone's: not worth a hash.
    if len(current) > MAX_LENGTH or not accounts.check_password(user, current):
        throttle.record_failure(db, user.email, address, now)
        audit.record(db, user, "password_change_failed", "user", user.id, ip=address)
        db.commit()
        log.info("password change with a wrong current password from %s", address)
        return _again("That is not your current password.", "current_password")
    if confirm is not None and confirm != new:
        return _again("The two new passwords differ; type the same one twice.", "confirm_password")
    try:
        set_password(db, current_settings(), user, new)
    except PasswordRefused as refused:
        return _again(str(refused), "new_password")
    audit.record(db, user, "password_changed", "user", user.id, ip=address)
    db.commit()
    start_session(user)  # this session stays; every other one ended with the change
    flash("Password changed. Your other sessions are signed out.")
    return redirect(url_for("dashboard.account.index"))
