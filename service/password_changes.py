"""Setting a new password: the one path a change, a reset link and a texted code all take."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from service import accounts
from service.account_models import PasswordReset
from service.common_passwords import problem_for
from service.config import Settings
from service.db import utcnow
from service.domain.vocabulary import ResetKind
from service.models import User

# Said when the new password and its confirmation differ, wherever one is set.
CONFIRMATION_DIFFERS = "The two new passwords differ; type the same one twice."


class PasswordRefused(ValueError):
    """A new password the rules refuse; the message says why, for the person typing it."""


def set_password(session: Session, settings: Settings, user: User, password: str) -> None:
    """Give ``user`` a new password within the rules (the caller commits).

    Every session of the user ends at its next request (a request that should stay signed
    in starts a fresh one) and every open reset of the user ends: a link or code handed out
    before the change cannot undo it.
    """
    reason = problem_for(password, email=user.email, name=user.name)
    if reason is not None:
        raise PasswordRefused(reason)
    user.password_hash = generate_password_hash(password, method=settings.password_hash_method)
    accounts.sign_out_everywhere(user)
    end_open_resets(session, user)


def end_open_resets(session: Session, user: User, kind: ResetKind | None = None) -> None:
    """End every reset of ``user`` that is neither used nor ended, or only those of ``kind``
    (the caller commits)."""
    query = update(PasswordReset).where(
        PasswordReset.user_id == user.id,
        PasswordReset.used_at.is_(None),
        PasswordReset.ended_at.is_(None),
    )
    if kind is not None:
        query = query.where(PasswordReset.kind == kind)
    session.execute(query.values(ended_at=utcnow()))
