"""Accounts, for admins: list, create, edit, deactivate, reactivate and unlock users, and
every user's API tokens."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import accounts, audit
from service.common_passwords import problem_for
from service.config import current_settings
from service.dashboard import throttle
from service.dashboard.auth import require_admin
from service.dashboard.forms import Form
from service.db import get_session, lock_all, utcnow
from service.domain.vocabulary import Role
from service.models import Client, User
from service.password_changes import end_open_resets

bp = Blueprint("admin", __name__, url_prefix="/admin")
EMAIL_TAKEN = "Another account has this email."


def user_or_404(db: Session, user_id: int) -> User:
    """The account with this id; 404 when there is none."""
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _another_active_admin(db: Session, user: User) -> bool:
    """True when an active admin other than ``user`` remains. The active admins are locked
    and read fresh first, so two admins demoting or deactivating each other at once cannot
    leave the practice with none (call before changing ``user``)."""
    ids = db.scalars(select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)))
    return any(u.id != user.id and u.is_admin and u.active for u in lock_all(db, User, ids))


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
    locked = throttle.locked_accounts(db, utcnow())
    locked_ids = {u.id for u, _ in rows if throttle.key_of(u.email) in locked}
    return render_template("admin/users.html", rows=rows, locked_ids=locked_ids)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> Response | str | tuple[str, int]:
    """Create a therapist or admin account with a first password."""
    db, admin = get_session(), require_admin()
    form = Form(request.form if request.method == "POST" else None, {"role": "therapist"})
    if not form.submitted:
        return render_template("admin/user_form.html", form=form)
    email = form.text("email", required=True, max_length=accounts.EMAIL_LENGTH)
    name = form.text("name", required=True)
    role = form.choice("role", tuple(Role), Role.THERAPIST)
    password = form.values.get("password", "")
    refused = problem_for(password, email=email or "", name=name or "")
    if refused is not None:
        form.errors["password"] = refused
    if email is not None:
        try:
            accounts.normalize_email(email)
        except accounts.InvalidEmail as refused:
            form.errors["email"] = refused.plain
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
    """Deactivate an account (it is signed out at its next request, and its open resets
    end, so reactivating it revives no old link or code) or reactivate it."""
    db, admin = get_session(), require_admin()
    user = user_or_404(db, user_id)
    active = request.form.get("active") == "yes"
    if user.id == admin.id and not active:
        flash("You cannot deactivate your own account.", "error")
        return redirect(url_for("dashboard.admin.users"))
    if not active and user.is_admin and not _another_active_admin(db, user):
        flash(f"{user.name} is the last active admin; make another admin first.", "error")
        return redirect(url_for("dashboard.admin.users"))
    user.active = active
    if not active:
        end_open_resets(db, user)
    audit.record(db, admin, "activate" if active else "deactivate", "user", user.id)
    db.commit()
    flash(f"{user.name} {'reactivated' if active else 'deactivated'}.")
    return redirect(url_for("dashboard.admin.users"))


def _edit_page(db: Session, user: User, form: Form, status: int = 200) -> tuple[str, int]:
    """The page to edit one account, with its state and the actions on it."""
    locked = throttle.key_of(user.email) in throttle.locked_accounts(db, utcnow())
    tokens = len(accounts.live_tokens(db, user))
    page = render_template(
        "admin/user_edit.html", account=user, form=form, locked=locked, tokens=tokens
    )
    return page, status


def _read_changes(db: Session, form: Form, user: User) -> dict[str, tuple[str, str]]:
    """The fields the admin changed, as (before, after); problems go to ``form.errors``."""
    name = form.text("name", required=True)
    email = form.text("email", required=True, max_length=accounts.EMAIL_LENGTH)
    role = form.choice("role", tuple(Role), user.role)
    if email is not None:
        try:
            email = accounts.normalize_email(email)
        except accounts.InvalidEmail as refused:
            form.errors["email"] = refused.plain
        else:
            other = accounts.find_user(db, email)
            if other is not None and other.id != user.id:
                form.errors["email"] = EMAIL_TAKEN
    if not form.ok or name is None or email is None or role is None:
        return {}
    after = {"name": name, "email": email, "role": role}
    before = {"name": user.name, "email": user.email, "role": user.role}
    return {
        field: (before[field], after[field]) for field in after if before[field] != after[field]
    }


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> Response | tuple[str, int]:
    """Change an account's name, email or role; the last active admin stays an admin."""
    db, admin = get_session(), require_admin()
    user = user_or_404(db, user_id)
    defaults = {"name": user.name, "email": user.email, "role": user.role}
    form = Form(request.form if request.method == "POST" else None, defaults)
    if not form.submitted:
        return _edit_page(db, user, form)
    changes = _read_changes(db, form, user)
    demoted = "role" in changes and user.is_admin
    if demoted and not _another_active_admin(db, user):
        form.errors["role"] = "This is the last active admin; make another admin first."
    if not form.ok:
        return _edit_page(db, user, form, 422)
    if not changes:
        flash("Nothing to change.")
        return redirect(url_for("dashboard.admin.edit_user", user_id=user.id))
    for field, (_, new) in changes.items():
        setattr(user, field, new)
    audit.record(db, admin, "user_changed", "user", user.id, changed=changes)
    try:
        db.commit()
    except IntegrityError:  # the email was taken in the meantime
        db.rollback()
        form.errors["email"] = EMAIL_TAKEN
        return _edit_page(db, user_or_404(db, user_id), form, 422)
    flash(f"Account of {user.name} saved.")
    if not admin.is_admin:  # an admin who made themselves a therapist
        return redirect(url_for("dashboard.account.index"))
    return redirect(url_for("dashboard.admin.users"))


@bp.post("/users/<int:user_id>/unlock")
def unlock(user_id: int) -> Response:
    """Lift the sign-in pause on an account, from every address (audited by the throttle)."""
    db, admin = get_session(), require_admin()
    user = user_or_404(db, user_id)
    throttle.unlock(db, admin, user.email, utcnow())
    db.commit()
    flash(f"{user.name} can sign in again.")
    return redirect(url_for("dashboard.admin.edit_user", user_id=user.id))


@bp.get("/tokens")
def tokens() -> str:
    """Every live API token of every user: owner, name, creation and last use."""
    db = get_session()
    require_admin()
    return render_template("admin/tokens.html", tokens=accounts.live_tokens(db))


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    """Revoke anyone's token (a lost laptop, someone leaving)."""
    db, admin = get_session(), require_admin()
    row = accounts.revoke_token_by_id(db, token_id)
    if row is None:
        abort(404)
    audit.record(db, admin, "token_revoked", "api_token", row.id, name=row.name, owner=row.user_id)
    db.commit()
    flash(f"Token “{row.name or 'without a name'}” of {row.user.name} revoked.")
    return redirect(url_for("dashboard.admin.tokens"))
