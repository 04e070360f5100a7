"""Bearer-token authentication for ``/api/v1``."""

from __future__ import annotations

from flask import g, request

from service.accounts import user_for_token
from service.api.errors import ApiError
from service.db import get_session
from service.models import User


def authenticate() -> None:
    """Set ``g.user`` from the Authorization header, or answer 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    session = get_session()
    user = user_for_token(session, token.strip())
    if user is None:
        raise ApiError(401, "unauthorized", "the token is unknown or revoked")
    session.commit()  # records the token's last use, and starts the request clean
    g.user = user


def current_user() -> User:
    """The authenticated user of this request."""
    user: User = g.user
    return user
