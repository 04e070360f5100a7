"""The signed-in user's own account page: profile, password, two-step sign-in, API tokens,
sessions. Each section's forms post to the module that owns it; this module owns the
profile, the API tokens and "sign out everywhere".
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import accounts, audit
from service.config import current_settings
from service.dashboard import calendar_page, phone_links
from service.dashboard.auth import current_user, password_again
from service.dashboard.forms import Form
from service.db import get_session
from service.models import User
from service.password_changes import end_open_resets

bp = Blueprint("account", __name__)


def render_page(status: int = 200, **sections: Any) -> tuple[str, int]:
    """The account page with every section filled; a section's view passes its own form
    (``profile=form``) to show it again with its errors."""
    user = current_user()
    # The number as people write it; saving it unchanged reads back the same E.164.
    defaults = {"name": user.name, "phone": phone_links.phone(user.phone)}
    context: dict[str, Any] = {
        "account": user,
        "profile": Form(None, defaults),
        "token_form": Form(None, {}),
        "tokens": accounts.live_tokens(get_session(), user),
        "calendar": calendar_page.section(get_session(), user),
    }
    return render_template("account/index.html", **(context | sections)), status


def _password_refused(db: Session, user: User, form: Form, action: str) -> int | None:
    """None when the form's ``current_password`` is right; otherwise the status to answer
    with and the reason in ``form.errors`` (the failure counts toward the sign-in
    throttle)."""
    refused = password_again(db, user, form.values.get("current_password", ""), action)
    if refused is None:
        return None
    form.errors["current_password"], status = refused
    return status


@bp.get("/account")
def index() -> tuple[str, int]:
    """The account page of the signed-in user."""
    return render_page()


@bp.post("/account/profile")
def profile() -> Response | tuple[str, int]:
    """Change one's own name and mobile number (email and role are an admin's to change).

    The mobile is where reset codes go, so changing it asks for the current password (a
    borrowed session must not be able to send them elsewhere) and ends the open resets.
    """
    db, user = get_session(), current_user()
    form = Form(request.form)
    name = form.text("name", required=True)
    phone = form.phone("phone", current_settings().default_region)
    if not form.ok or name is None:
        return render_page(422, profile=form)
    changed = [
        field
        for field, old, new in (("name", user.name, name), ("phone", user.phone, phone))
        if old != new
    ]
    if "phone" in changed:
        refused = _password_refused(db, user, form, "phone_change")
        if refused is not None:
            return render_page(refused, profile=form)
        end_open_resets(db, user)
    if changed:
        user.name, user.phone = name, phone
        # Which fields changed, never the number itself.
        audit.record(db, user, "profile_changed", "user", user.id, fields=changed)
        db.commit()
    flash("Your profile is saved." if changed else "Nothing to change.")
    return redirect(url_for("dashboard.account.index"))


@bp.post("/account/sign-out-everywhere")
def sign_out_everywhere() -> Response:
    """End every session of this account, this one included: a lost phone or a shared
    computer is signed out at its next click."""
    db, user = get_session(), current_user()
    accounts.sign_out_everywhere(user)
    audit.record(db, user, "signed_out_everywhere", "user", user.id)
    db.commit()
    session.clear()
    flash("You are signed out everywhere, here too. Sign in again to go on.")
    return redirect(url_for("dashboard.auth.login"))


@bp.post("/account/tokens")
def create_token() -> tuple[str, int]:
    """Make a named API token, given the current password, and show it once, on this answer
    only (never flashed into the session cookie, never logged, stored only as a hash)."""
    db, user = get_session(), current_user()
    form = Form(request.form)
    name = form.text("name", required=True, max_length=accounts.TOKEN_NAME_LENGTH)
    if not form.ok or name is None:
        if form.errors.get("name") == "Required.":
            form.errors["name"] = "Give the token a name, such as the program that will use it."
        return render_page(422, token_form=form)
    refused = _password_refused(db, user, form, "token_create")
    if refused is not None:
        return render_page(refused, token_form=form)
    row, token = accounts.issue_token(db, user, name)
    audit.record(db, user, "token_created", "api_token", row.id, name=name)
    db.commit()
    return render_template("account/token_created.html", token=token, row=row), 200


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    """Revoke one of one's own tokens; another user's token id is not found (404)."""
    db, user = get_session(), current_user()
    row = accounts.revoke_token_by_id(db, token_id, owner=user)
    if row is None:
        abort(404)
    audit.record(db, user, "token_revoked", "api_token", row.id, name=row.name)
    db.commit()
    flash(f"Token “{row.name or 'without a name'}” revoked: it is refused from now on.")
    return redirect(url_for("dashboard.account.index"))
