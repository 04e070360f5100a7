"""Accounts, for admins: list, create, deactivate and reactivate users."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from service import accounts, audit
from service.common_passwords import problem_for
from service.config import current_settings
from service.dashboard.auth import require_admin
from service.dashboard.forms import Form
from service.db import get_session
from service.domain.vocabulary import Role
from service.models import Client, User

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
def users() -> str:
    """Every account with its role, state and number of clients."""
    db = get_session()
    require_admin()
    counts = (
        select(Client.therapist_id, func.count(Client.id).label("clients"))
        .group_by(Client.therapist_id)
        .subquery()
    )
    rows = db.execute(
        select(User, func.coalesce(counts.c.clients, 0))
        .outerjoin(counts, counts.c.therapist_id == User.id)
        .order_by(User.active.desc(), User.name)
    ).all()
    return render_template("admin/users.html", rows=rows)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> Response | str | tuple[str, int]:
    """Create a therapist or admin account with a first password."""
    db, admin = get_session(), require_admin()
    form = Form(request.form if request.method == "POST" else None, {"role": "therapist"})
    if not form.submitted:
        return render_template("admin/user_form.html", form=form)
    email = form.text("email", required=True, max_length=254)
    name = form.text("name", required=True)
    role = form.choice("role", tuple(Role), Role.THERAPIST)
    password = form.values.get("password", "")
    refused = problem_for(password, email=email or "", name=name or "")
    if refused is not None:
        form.errors["password"] = refused
    if email is not None:
        try:
            accounts.normalize_email(email)
        except accounts.AccountError:
            form.errors["email"] = "Not an email address."
        else:
            if accounts.find_user(db, email) is not None:
                form.errors["email"] = "An account with this email already exists."
    if not form.ok or email is None or name is None:
        form.values["password"] = ""  # never sent back to the browser
        return render_template("admin/user_form.html", form=form), 422
    user = accounts.create_user(
        db, current_settings(), email, name, password, admin=role == Role.ADMIN
    )
    audit.record(db, admin, "create", "user", user.id, role=user.role)
    db.commit()
    flash(f"Account for {user.name} created. Give them the password in person.")
    return redirect(url_for("dashboard.admin.users"))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int) -> Response:
    """Deactivate an account (it is signed out at its next request) or reactivate it."""
    db, admin = get_session(), require_admin()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    active = request.form.get("active") == "yes"
    if user.id == admin.id and not active:
        flash("You cannot deactivate your own account.", "error")
        return redirect(url_for("dashboard.admin.users"))
    user.active = active
    audit.record(db, admin, "activate" if active else "deactivate", "user", user.id)
    db.commit()
    flash(f"{user.name} {'reactivated' if active else 'deactivated'}.")
    return redirect(url_for("dashboard.admin.users"))
