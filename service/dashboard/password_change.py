"""Changing one's own password on the account page, with the current password.

A wrong current password counts toward the sign-in throttle, so this form is no back door
for guessing. A change signs out the user's other sessions and keeps this one.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import accounts, audit
from service.config import current_settings
from service.dashboard.auth import current_user, password_again, start_session
from service.db import get_session
from service.models import User
from service.password_changes import CONFIRMATION_DIFFERS, PasswordRefused, set_password

log = logging.getLogger(__name__)
bp = Blueprint("passwords", __name__)


def _again(error: str, status: int = 422, *, field: str) -> tuple[str, int]:
    """The password form alone, with what to fix (never the passwords typed)."""
    return render_template("passwords/change.html", password_errors={field: error}), status


def _tokens_note(db: Session, user: User) -> str:
    """What the change leaves working: API tokens are for integrations and are not revoked
    with the password (a stolen one is revoked below, on the account page)."""
    live = len(accounts.live_tokens(db, user))
    if live == 0:
        return ""
    tokens = "Your API token still works" if live == 1 else f"Your {live} API tokens still work"
    return (
        f" {tokens} (tokens are not revoked with the password); revoke any you no longer"
        " trust below."
    )


@bp.post("/account/password")
def change() -> Response | tuple[str, int]:
    """Set a new password for the signed-in user, given the current one."""
    db, user = get_session(), current_user()
    address = request.remote_addr or "unknown"
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    confirm = request.form.get("confirm_password")
    refused = password_again(db, user, current, "password_change")
    if refused is not None:
        return _again(*refused, field="current_password")
    if confirm is not None and confirm != new:
        return _again(CONFIRMATION_DIFFERS, field="confirm_password")
    try:
        set_password(db, current_settings(), user, new)
    except PasswordRefused as refusal:
        return _again(str(refusal), field="new_password")
    audit.record(db, user, "password_changed", "user", user.id, ip=address)
    db.commit()
    start_session(user)  # this session stays; every other one ended with the change
    flash("Password changed. Your other sessions are signed out." + _tokens_note(db, user))
    return redirect(url_for("dashboard.account.index"))
