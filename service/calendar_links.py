"""Private calendar addresses: making, finding, showing again and revoking them.

A user has at most one address in force. Its token is ``HMAC-SHA256(SECRET_KEY, nonce)``
(URL-safe base64) for a random nonce kept in the row, and the row keeps the token's
SHA-256 to find it from a request. So the address can be shown again to its owner (the
account page, ``GET /api/v1/calendar-link``) while the database alone, without the
SECRET_KEY, never gives it away. If the SECRET_KEY changes, addresses in force still work
(the hash is what is looked up) but can no longer be shown: the owner replaces them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.accounts import secret_hash
from service.calendar_models import CalendarLink
from service.models import User

# Longer than any token made here (43 characters); a longer one is not looked up.
TOKEN_MAX = 100


def derive_token(secret_key: str, nonce: str) -> str:
    """The token of the address made with ``nonce``: 256 bits, URL-safe."""
    digest = hmac.new(secret_key.encode(), f"calendar-link:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def live_link(session: Session, user: User) -> CalendarLink | None:
    """The user's address in force, if any."""
    return session.scalar(
        select(CalendarLink)
        .where(CalendarLink.user_id == user.id, CalendarLink.revoked_at.is_(None))
        .order_by(CalendarLink.id.desc())
        .limit(1)
    )


def token_of(link: CalendarLink, secret_key: str) -> str | None:
    """The token of ``link`` again; None when it was made under another SECRET_KEY."""
    token = derive_token(secret_key, link.nonce)
    return token if hmac.compare_digest(secret_hash(token), link.token_hash) else None


def _revoke_all(session: Session, user: User, now: datetime) -> int:
    """Revoke every address of ``user`` in force; how many there were."""
    result = session.execute(
        update(CalendarLink)
        .where(CalendarLink.user_id == user.id, CalendarLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _lock(session: Session, user: User) -> None:
    """Take the user's row so two requests making an address at once make one each in
    turn (the second revokes the first), never two in force."""
    session.execute(select(User.id).where(User.id == user.id).with_for_update())


def create(
    session: Session, user: User, secret_key: str, now: datetime
) -> tuple[CalendarLink, str, bool]:
    """Make a new address for ``user``, revoking the one in force: the row, its token, and
    whether an address was replaced. The caller audits and commits."""
    _lock(session, user)
    replaced = _revoke_all(session, user, now) > 0
    nonce = secrets.token_urlsafe(32)
    token = derive_token(secret_key, nonce)
    link = CalendarLink(user_id=user.id, token_hash=secret_hash(token), nonce=nonce)
    link.created_at = now
    session.add(link)
    session.flush()
    return link, token, replaced


def revoke(session: Session, user: User, now: datetime) -> bool:
    """Revoke the user's address in force; False when there was none."""
    _lock(session, user)
    return _revoke_all(session, user, now) > 0


def owner_of(session: Session, token: str) -> tuple[CalendarLink, User] | None:
    """The address in force with this token and its active owner (one query); None for
    anything else, a revoked, unknown or malformed token alike."""
    if not token or len(token) > TOKEN_MAX:
        return None
    row = session.execute(
        select(CalendarLink, User)
        .join(User, User.id == CalendarLink.user_id)
        .where(
            CalendarLink.token_hash == secret_hash(token),
            CalendarLink.revoked_at.is_(None),
            User.active.is_(True),
        )
    ).first()
    return None if row is None else (row[0], row[1])
