"""The practice's settings, for admins: each value written as its environment variable is,
checked and saved by ``service.practice_settings`` (every reason beside its field, nothing
half saved; new times, quiet hours or names re-plan every text not sent yet)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import practice_settings
from service.config import current_settings, settings_of
from service.dashboard.auth import require_admin
from service.dashboard.forms import Form, sentence
from service.db import get_session, utcnow
from service.models import PracticeSetting, User

bp = Blueprint("settings", __name__)
VIA = "dashboard"


def _saved(db: Session) -> dict[str, tuple[str, datetime]]:
    """Who saved each value the practice saved, and when (the others are the environment's)."""
    rows = db.execute(
        select(PracticeSetting.name, User.name, PracticeSetting.updated_at).outerjoin(
            User, User.id == PracticeSetting.updated_by_id
        )
    )
    return {field: (who or "someone", at) for field, who, at in rows}


def _said(saved: practice_settings.Saved) -> str:
    """What the flash says after a save."""
    if not saved.changes:
        return "Nothing to save: these are the settings in force."
    if not practice_settings.REPLANS & saved.changes.keys():
        return "Saved."
    count = saved.replanned
    return f"Saved. {count} planned text{'' if count == 1 else 's'} changed."


def _page(db: Session, form: Form, status: int = 200) -> tuple[str, int]:
    return render_template("settings.html", form=form, saved=_saved(db)), status


@bp.route("/settings", methods=["GET", "POST"])
def edit() -> Response | tuple[str, int]:
    """Show the settings in force; save those changed, re-planning when the plan reads them."""
    db, admin = get_session(), require_admin()
    form = Form(
        request.form if request.method == "POST" else None,
        practice_settings.written(current_settings()),
    )
    if not form.submitted:
        return _page(db, form)
    # A field left out of the post is left as it is; one sent empty is a value (refused,
    # but for the phone, where it means none).
    values = {f: form.values[f] for f in practice_settings.FIELDS if f in form.values}
    try:
        saved = practice_settings.save(
            db, settings_of(current_app), admin, values, utcnow(), via=VIA
        )
    except practice_settings.InvalidSettings as refused:
        db.rollback()
        form.errors.update({f: sentence(r) for f, r in refused.errors.items()})
        return _page(db, form, 422)
    db.commit()
    flash(_said(saved))
    return redirect(url_for("dashboard.settings.edit"))
