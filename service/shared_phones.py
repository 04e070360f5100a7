"""Numbers shared between clients: a number already getting texts about another client is
added only once the user confirmed it, with a warning that names only the clients the user
may see (``roster`` checks every write with these)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Client, Contact, User
from service.phone_book import PhoneBook


class SharedPhone(Exception):
    """The number already gets texts about another client: adding it needs a confirmation.

    ``warning`` says so in words fit for ``actor``: another client is named only when the
    actor may see that client (their own, or any for an admin)."""

    def __init__(self, warning: str) -> None:
        super().__init__(warning)
        self.warning = warning


def shared_warning(named: Sequence[str], unnamed: int) -> str:
    """The warning for a number already another client's: ``named`` the clients the user
    may see, ``unnamed`` how many others (another therapist's, never named)."""
    others = list(named)
    if unnamed:
        one = "client of the practice"
        others.append(
            f"{'another' if not named else '1 other'} {one}"
            if unnamed == 1
            else f"{unnamed} other {one.replace('client', 'clients')}"
        )
    whom = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
    return (
        f"This number is shared: it already gets texts about {whom}. Added here, it will "
        "also get this client's texts, each naming its client."
    )


def _others(
    session: Session, client: Client, phone: str, book: PhoneBook | None
) -> list[tuple[str, int | None]]:
    """The (name, therapist id) of each other client with a contact of this number, by name."""
    if book is not None:
        found = book.clients.get(phone, {})
        return [found[i] for i in sorted(found, key=lambda i: (found[i][0], i)) if i != client.id]
    others = session.scalars(
        select(Client)
        .join(Contact, Contact.client_id == Client.id)
        .where(Contact.phone == phone, Client.id != client.id)
        .distinct()
        .order_by(Client.name, Client.id)
    ).all()
    return [(c.name, c.therapist_id) for c in others]


def check_shared(
    session: Session, actor: User | None, client: Client, phone: str, book: PhoneBook | None
) -> None:
    """Raise ``SharedPhone`` when another client has a contact with this number (looked up
    in ``book`` when given)."""
    others = _others(session, client, phone, book)
    if not others:
        return
    seen = [
        name
        for name, therapist_id in others
        if actor is not None and (actor.is_admin or therapist_id == actor.id)
    ]
    raise SharedPhone(shared_warning(seen, len(others) - len(seen)))


def shared_phone(
    session: Session,
    actor: User | None,
    client: Client,
    phone: str,
    confirmed: bool,
    book: PhoneBook | None = None,
) -> bool:
    """True when the number is another client's too and that was confirmed; raises
    ``SharedPhone`` when it is and was not."""
    try:
        check_shared(session, actor, client, phone, book)
    except SharedPhone:
        if not confirmed:
            raise
        return True
    return False
