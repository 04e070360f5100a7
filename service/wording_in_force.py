"""The wording in force and its saved versions, read from the database (saving is
``service.wording_versions``'s; the planner reads the wording here, below it), and the values every
sender fills its placeholders with."""

from __future__ import annotations

import functools

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import phones
from service.config import Settings
from service.domain.wording import Wording, name_for_text
from service.models import MessageTemplate


def newest(session: Session) -> dict[tuple[str, str], MessageTemplate]:
    """Each saved (kind, language)'s highest version, resets included (one query)."""
    latest = (
        select(
            MessageTemplate.kind,
            MessageTemplate.language,
            func.max(MessageTemplate.version).label("version"),
        )
        .group_by(MessageTemplate.kind, MessageTemplate.language)
        .subquery()
    )
    rows = session.scalars(
        select(MessageTemplate).join(
            latest,
            (MessageTemplate.kind == latest.c.kind)
            & (MessageTemplate.language == latest.c.language)
            & (MessageTemplate.version == latest.c.version),
        )
    )
    return {(row.kind, row.language): row for row in rows}


def current(session: Session) -> Wording:
    """The wording in force: each kind and language's latest version, a reset included
    (its id is the one texts record; its body is the shipped one) (one query)."""
    return Wording({key: (row.id, row.body) for key, row in newest(session).items()})


def versions(session: Session, kind: str, language: str) -> list[MessageTemplate]:
    """Every saved version of this kind and language, newest first."""
    return list(
        session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.kind == kind, MessageTemplate.language == language)
            .order_by(MessageTemplate.version.desc())
        )
    )


def shown(settings: Settings, name: str) -> str:
    """A person's given name as the practice's texts show it (``NAMES_IN_TEXTS``)."""
    return name_for_text(name, settings.names_in_texts == "plain_letters")


def values(
    settings: Settings, *, recipient: str = "", client: str = "", **more: str
) -> dict[str, str]:
    """The placeholders' values every sender fills the same way: the recipient's and the
    client's given names as shown (from their names as written), the practice and its phone;
    ``more`` adds the kind's own (``when``, ``was``)."""
    return {
        "first_name": shown(settings, recipient),
        "client_first_name": shown(settings, client),
        "practice": settings.practice_name,
        "practice_phone": _phone_shown(settings.practice_phone, settings.default_region),
        **more,
    }


@functools.lru_cache(maxsize=16)
def _phone_shown(phone: str, region: str) -> str:
    """``Settings.practice_phone_shown``, remembered: formatting the number costs more than
    the rest of writing an acknowledgement, and it changes only when the practice's does."""
    return phones.display(phone, region) if phone else ""
