"""Reset links: a one-time way an admin hands a user to set a new password.

The link carries a random token; only its SHA-256 hash is stored. A link lives 24 hours,
works once, and ends when a newer link is issued for the same user, the password is
changed, the mobile number changes or the account is deactivated. A texted code asked for
later does not end it: anyone who types the user's email can ask for a code.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.account_models import PasswordReset
from service.accounts import secret_hash
from service.db import utcnow
from service.domain.vocabulary import ResetKind
from service.models import User
from service.password_changes import end_open_resets

LINK_LIFETIME = timedelta(hours=24)
# secrets.token_urlsafe(32) makes 43 characters; anything else was never issued.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


def issue_link(session: Session, admin: User, user: User) -> str:
    """A new reset link token for ``user``, ending the user's earlier open resets (the
    caller commits and shows the token once: it is not kept)."""
    end_open_resets(session, user)
    token, now = secrets.token_urlsafe(32), utcnow()
    session.add(
        PasswordReset(
            user_id=user.id,
            kind=ResetKind.LINK,
            secret_hash=secret_hash(token),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
            created_by_id=admin.id,
        )
    )
    session.flush()
    return token


def live_link(session: Session, token: str) -> PasswordReset | None:
    """The reset a token opens when it is unused, unended, unexpired and its user active;
    None for anything else, including a token that was never issued."""
    if _TOKEN.fullmatch(token) is None:
        return None
    reset = session.scalar(
        select(PasswordReset).where(
            PasswordReset.kind == ResetKind.LINK,
            PasswordReset.secret_hash == secret_hash(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.ended_at.is_(None),
        )
    )
    if reset is None or reset.expires_at <= utcnow():
        return None
    user = session.get(User, reset.user_id)
    return reset if user is not None and user.active else None
