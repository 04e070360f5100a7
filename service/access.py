"""Who may see what: a therapist sees their own clients, an admin sees all."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.models import Client, User

Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


def scope_clients(query: Query, user: User) -> Query:
    """Restrict a query that involves ``Client`` to the clients ``user`` may see."""
    if user.is_admin:
        return query
    return query.where(Client.therapist_id == user.id)


def visible_clients(user: User) -> Select[Client]:
    """The clients ``user`` may see, by name."""
    return scope_clients(select(Client), user).order_by(Client.name, Client.id)


def client_for(session: Session, user: User, client_id: int) -> Client | None:
    """The client with this id when ``user`` may see it; None otherwise (a 404, not a 403)."""
    client = session.get(Client, client_id)
    if client is None or not (user.is_admin or client.therapist_id == user.id):
        return None
    return client
