"""The signed-in user's own account page: profile, password, two-step sign-in, API tokens,
sessions. Each section's forms post to the module that owns it; this page only shows them."""

from __future__ import annotations

from flask import Blueprint, render_template

from service.dashboard.auth import current_user

bp = Blueprint("account", __name__)


@bp.get("/account")
def index() -> str:
    """The account page of the signed-in user."""
    return render_template("account/index.html", account=current_user())
