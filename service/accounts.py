"""Accounts: users with hashed passwords, and API tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, object_session
from werkzeug.security import check_password_hash, generate_password_hash

from service.common_passwords import problem_for
from service.config import Settings
from service.db import utcnow
from service.domain.vocabulary import Role
from service.models import ApiToken, User

TOKEN_PREFIX = "tb_"
# Recording every use would turn each read into a write; once a minute is enough to
# show an operator which tokens are alive.
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_NAME_LENGTH = 100  # api_tokens.name
EMAIL_LENGTH = 254  # users.email, and the longest address the standards allow


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


class InvalidEmail(AccountError):
    """An email address refused; ``plain`` says why in a form's words."""

    def __init__(self, message: str, plain: str) -> None:
        super().__init__(message)
        self.plain = plain


def normalize_email(email: str) -> str:
    """Trim and lowercase an email address, refusing one without a single @, or one
    longer than ``EMAIL_LENGTH`` once lowercased (lowercasing can lengthen it: "İ")."""
    value = email.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or " " in value or "@" in domain:
        raise InvalidEmail(f"{email[:60]!r} is not an email address", "Not an email address.")
    if len(value) > EMAIL_LENGTH:
        raise InvalidEmail(
            f"an email address has at most {EMAIL_LENGTH} characters",
            f"At most {EMAIL_LENGTH} characters.",
        )
    return value


def find_user(session: Session, email: str) -> User | None:
    """The user with this email, whatever its case."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    session: Session,
    settings: Settings,
    email: str,
    name: str,
    password: str,
    *,
    admin: bool = False,
) -> User:
    """Add a user (not committed); refuse a taken email, or a password the rules refuse
    (the message says why)."""
    address = normalize_email(email)
    if find_user(session, address) is not None:
        raise AccountError(f"a user with email {address} already exists")
    if not name.strip():
        raise AccountError("a name is required")
    reason = problem_for(password, email=address, name=name)
    if reason is not None:
        raise AccountError(f"password refused: {reason}")
    user = User(
        email=address,
        name=name.strip(),
        password_hash=generate_password_hash(password, method=settings.password_hash_method),
        role=Role.ADMIN if admin else Role.THERAPIST,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def check_password(user: User, password: str) -> bool:
    """True when ``password`` is this active user's password."""
    return user.active and check_password_hash(user.password_hash, password)


def secret_hash(plain: str) -> str:
    """The stored form of a long random secret (an API token, a reset link's token, a
    recovery code): its SHA-256 in hex. For long random secrets only: a fast hash is enough
    when guessing is hopeless, and never for passwords or short codes."""
    return hashlib.sha256(plain.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str | None) -> tuple[ApiToken, str]:
    """Issue a named API token for ``user``: its row and the token itself. Only the hash is
    kept, so the token is shown once and never again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, token_hash=secret_hash(token), name=name and name[:TOKEN_NAME_LENGTH]
    )
    session.add(row)
    session.flush()
    return row, token


def create_token(session: Session, user: User, name: str | None = None) -> str:
    """Issue a new API token for ``user`` and return it (show it once)."""
    return issue_token(session, user, name)[1]


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, recording its use; None otherwise."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == secret_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row.user


def revoke_token(session: Session, token: str) -> ApiToken | None:
    """Revoke a token, given itself: its row, or None when it is no live token."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == secret_hash(token.strip()), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    row.revoked_at = utcnow()
    return row


def revoke_tokens_of(session: Session, user: User) -> list[ApiToken]:
    """Revoke every live token of ``user`` (a lost token, someone leaving): their rows."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    return list(rows)


def live_tokens(session: Session, owner: User | None = None) -> list[ApiToken]:
    """The tokens not revoked, of ``owner`` or of everyone, newest first (owners loaded)."""
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    if owner is not None:
        query = query.where(ApiToken.user_id == owner.id)
    query = query.options(joinedload(ApiToken.user))
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token_by_id(
    session: Session, token_id: int, owner: User | None = None
) -> ApiToken | None:
    """Revoke the live token with this id (only one of ``owner``'s, when given); the row, or
    None when there is no such live token, so another user's token looks like none at all."""
    row = session.scalar(
        select(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .with_for_update()
    )
    if row is None or (owner is not None and row.user_id != owner.id):
        return None
    row.revoked_at = utcnow()
    return row


def sign_out_everywhere(user: User) -> None:
    """End every session of ``user`` at its next request (the caller commits).

    A session remembers the account's version it began with; bumping the version ends them
    all. A request that should stay signed in (a password change) starts a fresh session.
    """
    session = object_session(user)
    if session is None:
        raise ValueError("only a stored account has sessions to end")
    # Counted up in the database, so two at once both count: neither request's fresh
    # session can end up with the version the other one ended.
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["session_version"])
