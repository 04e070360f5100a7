"""Every contact's number and the clients it hears about, read once for a caller checking
many numbers (an import), so that ``roster``'s shared-number check needs no query per
number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Client, Contact


class PhoneBook:
    """Every contact's number and the clients (id, name, therapist) it hears about, read in
    one query, for a caller checking many numbers at once (an import): the shared-number
    check reads it instead of querying per number. The caller ``note``s what it adds."""

    def __init__(self, session: Session) -> None:
        self.clients: dict[str, dict[int, tuple[str, int | None]]] = {}
        query = select(Contact.phone, Client.id, Client.name, Client.therapist_id).join(
            Client, Client.id == Contact.client_id
        )
        for phone, client_id, name, therapist_id in session.execute(query):
            self.clients.setdefault(phone, {})[client_id] = (name, therapist_id)

    def note(self, client: Client, phone: str) -> None:
        """Remember that ``phone`` now hears about ``client`` (written, so it has an id)."""
        self.clients.setdefault(phone, {})[client.id] = (client.name, client.therapist_id)
